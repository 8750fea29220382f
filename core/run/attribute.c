/* attribute.c — direct logit attribution at the last position (glassbox.h,
 * "interpretability tools"): how much each piece of the residual stream
 * (embeddings, every head, every attention bias, every MLP) adds to the
 * logit difference target - distractor, through ln_final with its scale
 * frozen at the run's value.
 *
 * Centering is linear, so part(v) = (v - mean(v)) . dir / s = v . dir_c / s
 * with dir = w_lnf * (W_U[t] - W_U[d]) and dir_c = dir - mean(dir). A head's
 * part is then z_h . (W_O[h] @ dir_c) / s: one W_O @ dir_c per block (n_embd^2)
 * instead of projecting every head's output through W_O. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/interp.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))

typedef struct {
    float dir_c[GB_MAX_EMBD]; /* centred direction */
    float udiff[GB_MAX_EMBD];
    float scale;              /* ln_final's frozen scale at T-1 */
} dla_setup;

static double dotf(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static gb_status setup(gb_ctx *ctx, int target, int distractor, dla_setup *d) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    const gb_config *c = &ctx->model.mc.c;
    if (target < 0 || target >= c->vocab_size || distractor < 0 || distractor >= c->vocab_size)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "target %d / distractor %d: ids must be in 0..%d", target, distractor,
                       c->vocab_size - 1);
    if (ctx->n_tokens == 0) return GB_FAIL(&ctx->err, GB_E_STATE, "no tokens: set the run's prompt first");
    gb_status s = gb_run_until(ctx, gb_last_block_stage(ctx));
    if (s) return s;
    int C = c->n_embd;
    float a[GB_MAX_EMBD], b[GB_MAX_EMBD];
    gb_unembed_row(&ctx->model, target, a);
    gb_unembed_row(&ctx->model, distractor, b);
    double mean = 0;
    for (int i = 0; i < C; i++) {
        d->udiff[i] = a[i] - b[i];
        d->dir_c[i] = ctx->model.ln_f_w[i] * d->udiff[i];
        mean += d->dir_c[i];
    }
    mean /= C;
    for (int i = 0; i < C; i++) d->dir_c[i] -= (float)mean;
    const float *x = ACT(HOOK_RESID_POST, c->n_layer - 1) + (size_t)(ctx->n_tokens - 1) * C;
    float ln[GB_MAX_EMBD];
    gb_layernorm(ln, &d->scale, x, ctx->model.ln_f_w, ctx->model.ln_f_b, 1, C, c->layer_norm_epsilon);
    return GB_OK;
}

/* wdir[k] = sum_n W_O[k, n] dir_c[n]: the direction read back through block l's W_O. */
static void wo_dir(const gb_ctx *ctx, int l, const float *dir_c, float *wdir) {
    const gb_model *m = &ctx->model;
    int C = m->mc.c.n_embd;
    const float *w = m->h[l].attn_c_proj_w;
    for (int k = 0; k < C; k++) {
        double s = 0;
        for (int n = 0; n < C; n++) s += (double)gb_weight_at(m, w, C, C, k, n) * dir_c[n];
        wdir[k] = (float)s;
    }
}

gb_status gb_dla(gb_ctx *ctx, int target, int distractor, float *heads, float *attn_bias, float *mlp,
                 float *other) {
    dla_setup *d = malloc(sizeof *d);
    if (!d) return ctx ? GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for logit attribution") : GB_E_OOM;
    gb_status s = setup(ctx, target, distractor, d);
    if (s) { free(d); return s; }
    if (!heads || !attn_bias || !mlp || !other) {
        free(d);
        return GB_FAIL(&ctx->err, GB_E_ARG, "gb_dla: every output array is needed");
    }
    const gb_config *c = &ctx->model.mc.c;
    int C = c->n_embd, H = c->n_head, D = c->d_head, T = ctx->n_tokens, last = T - 1;
    float inv = 1.0f / d->scale, wdir[GB_MAX_EMBD];
    double sum = 0;
    other[0] = (float)(dotf(ACT(HOOK_EMBED, -1) + (size_t)last * C, d->dir_c, C) * inv);
    other[1] = (float)(dotf(ACT(HOOK_POS_EMBED, -1) + (size_t)last * C, d->dir_c, C) * inv);
    other[2] = (float)dotf(ctx->model.ln_f_b, d->udiff, C);
    sum = (double)other[0] + other[1] + other[2];
    for (int l = 0; l < c->n_layer; l++) {
        gb_forward_materialize(ctx, l); /* keep_all off: z and mlp_out live in the scratch */
        wo_dir(ctx, l, d->dir_c, wdir);
        const float *z = ACT(HOOK_Z, l) + (size_t)last * C;
        for (int h = 0; h < H; h++) {
            heads[l * H + h] = (float)(dotf(z + (size_t)h * D, wdir + (size_t)h * D, D) * inv);
            sum += heads[l * H + h];
        }
        attn_bias[l] = (float)(dotf(ctx->model.h[l].attn_c_proj_b, d->dir_c, C) * inv);
        mlp[l] = (float)(dotf(ACT(HOOK_MLP_OUT, l) + (size_t)last * C, d->dir_c, C) * inv);
        sum += (double)attn_bias[l] + mlp[l];
    }
    const float *x = ACT(HOOK_RESID_POST, c->n_layer - 1) + (size_t)last * C;
    float total = gb_row_logit_diff(&ctx->model, x, d->udiff);
    other[3] = (float)(total - sum);
    other[4] = total;
    free(d);
    return GB_OK;
}

gb_status gb_dla_by_source(gb_ctx *ctx, int target, int distractor, float *out, size_t cap) {
    dla_setup *d = malloc(sizeof *d);
    if (!d) return ctx ? GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for logit attribution") : GB_E_OOM;
    gb_status s = setup(ctx, target, distractor, d);
    if (s) { free(d); return s; }
    const gb_config *c = &ctx->model.mc.c;
    int C = c->n_embd, H = c->n_head, D = c->d_head, T = ctx->n_tokens, last = T - 1;
    if (!out || cap < (size_t)c->n_layer * H * T) {
        free(d);
        return GB_FAIL(&ctx->err, GB_E_RANGE, "gb_dla_by_source: out needs n_layer * n_head * T = %zu floats",
                       (size_t)c->n_layer * H * T);
    }
    float inv = 1.0f / d->scale, wdir[GB_MAX_EMBD];
    for (int l = 0; l < c->n_layer; l++) {
        gb_forward_materialize(ctx, l);
        wo_dir(ctx, l, d->dir_c, wdir);
        const float *v = ACT(HOOK_V, l);
        /* pattern row T-1 of every head: packed causal triangles, row t at H * t(t+1)/2 */
        const float *prow = ACT(HOOK_PATTERN, l) + (size_t)H * ((size_t)last * (size_t)(last + 1) / 2);
        for (int h = 0; h < H; h++)
            for (int j = 0; j < T; j++) {
                double vd = dotf(v + (size_t)j * C + (size_t)h * D, wdir + (size_t)h * D, D);
                out[((size_t)l * H + h) * T + j] = (float)(prow[(size_t)h * T + j] * vd * inv);
            }
    }
    free(d);
    return GB_OK;
}
