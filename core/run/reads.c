/* reads.c — numbers the views show that are not stored hooks: the logit lens,
 * each position's top tokens, unmasked attention scores and residual norms.
 * Computed here, in C, so the page does no model math of its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

static gb_status need_model(gb_ctx *ctx) {
    gb_err_clear(&ctx->err);
    return ctx->loaded ? GB_OK : GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
}

static gb_status check_top(gb_ctx *ctx, const char *what, int pos, int k, const int32_t *ids, const float *probs) {
    const gb_config *c = &ctx->model.mc.c;
    if (pos < 0 || pos >= ctx->n_tokens)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "%s: position %d out of range 0..%d", what, pos, ctx->n_tokens - 1);
    if (k < 1 || k > c->vocab_size || !ids || !probs)
        return GB_FAIL(&ctx->err, GB_E_ARG, "%s: k must be 1..%d with output arrays", what, c->vocab_size);
    return GB_OK;
}

/* softmax of logits[V] into the lens scratch, then its top k. */
static void top_of_logits(gb_ctx *ctx, const float *logits, int k, int32_t *ids, float *probs) {
    int V = ctx->model.mc.c.vocab_size;
    gb_softmax(ctx->lens_buf, logits, V);
    gb_top_k_of(ctx->lens_buf, logits, V, k, ids, probs);
}

/* ------------------------------------------------------------------ logit lens */
gb_status gb_logit_lens(gb_ctx *ctx, int layer, int pos, int k, int32_t *ids, float *probs) {
    if (!ctx) return GB_E_ARG;
    gb_status s = need_model(ctx);
    if (s) return s;
    const gb_model *m = &ctx->model;
    const gb_config *c = &m->mc.c;
    if (layer < -1 || layer >= c->n_layer)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "logit lens: layer %d out of range -1..%d", layer, c->n_layer - 1);
    if ((s = check_top(ctx, "logit lens", pos, k, ids, probs))) return s;
    int stage = layer < 0 ? 0 : gb_stage_mlp(layer);
    if (ctx->done[stage] <= pos)
        return GB_FAIL(&ctx->err, GB_E_STATE, "logit lens: block %d has not been run at position %d yet", layer, pos);
    int C = c->n_embd;
    const float *x = layer < 0 ? gb_acts_ptr(&ctx->acts, HOOK_RESID_PRE, 0) : gb_acts_ptr(&ctx->acts, HOOK_RESID_POST, layer);
    float ln[16384]; /* n_embd <= GB_MAX_EMBD */
    float *logits = ctx->lens_buf + c->vocab_size;
    gb_layernorm(ln, NULL, x + (size_t)pos * C, m->ln_f_w, m->ln_f_b, 1, C, c->layer_norm_epsilon);
    gb_model_lm_head(m, logits, ln, 1);
    top_of_logits(ctx, logits, k, ids, probs);
    return GB_OK;
}

gb_status gb_top_tokens(gb_ctx *ctx, int pos, int k, int32_t *ids, float *probs) {
    if (!ctx) return GB_E_ARG;
    gb_status s = need_model(ctx);
    if (s || (s = check_top(ctx, "top tokens", pos, k, ids, probs))) return s;
    const float *logits;
    if ((s = gb_forward_logits_row(ctx, pos, &logits))) return s;
    top_of_logits(ctx, logits, k, ids, probs);
    return GB_OK;
}

/* ------------------------------------------------------------------ attention */
gb_status gb_attn_scores_unmasked(gb_ctx *ctx, int layer, float *out, size_t cap) {
    if (!ctx || !out) return GB_E_ARG;
    gb_status s = need_model(ctx);
    if (s) return s;
    const gb_model_config *mc = &ctx->model.mc;
    int H = mc->c.n_head, D = mc->c.d_head, T = ctx->n_tokens;
    if (layer < 0 || layer >= mc->c.n_layer)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "unmasked scores: layer %d out of range 0..%d", layer, mc->c.n_layer - 1);
    if (cap < (size_t)H * T * T)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "unmasked scores: output holds %zu floats, needs %zu", cap, (size_t)H * T * T);
    const float *q, *k;
    gb_shape sh;
    if ((s = gb_activation_data(ctx, HOOK_Q, layer, &q, &sh)) || (s = gb_activation_data(ctx, HOOK_K, layer, &k, &sh)))
        return s;
    float scale = gb_attn_scale(mc, layer, D);
    /* the same kernel and scaling as the forward pass, so the causal part is
     * bit-identical to hook_attn_scores */
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) {
            float *row = out + ((size_t)h * T + t) * T;
            const float *qh = q + ((size_t)t * H + h) * D, *kh = k + (size_t)h * D;
            gb_matvec(row, kh, (size_t)H * D, qh, t + 1, D); /* keys 0..t: the forward pass's very call */
            if (t + 1 < T) gb_matvec(row + t + 1, kh + (size_t)(t + 1) * H * D, (size_t)H * D, qh, T - t - 1, D);
            for (int j = 0; j < T; j++) row[j] *= scale;
        }
    return GB_OK;
}

/* ------------------------------------------------------------------ norms */
gb_status gb_row_norms(gb_ctx *ctx, int hook, int layer, float *out, size_t cap) {
    if (!ctx || !out) return GB_E_ARG;
    const float *x;
    gb_shape sh;
    gb_status s = gb_activation_data(ctx, hook, layer, &x, &sh);
    if (s) return s;
    if (sh.ndim != 2)
        return GB_FAIL(&ctx->err, GB_E_ARG, "row norms need a [T, n] activation; %s is %d-dimensional",
                       gb_hook_pattern(hook), sh.ndim);
    int T = sh.shape[0], n = sh.shape[1];
    if (cap < (size_t)T) return GB_FAIL(&ctx->err, GB_E_RANGE, "row norms: output holds %zu floats, needs %d", cap, T);
    for (int t = 0; t < T; t++) {
        double acc = 0;
        for (int i = 0; i < n; i++) acc += (double)x[(size_t)t * n + i] * x[(size_t)t * n + i];
        out[t] = (float)sqrt(acc);
    }
    return GB_OK;
}

/* ------------------------------------------------------------------ top columns (neurons) */
/* Whether (a, ia) comes before (b, ib): larger value first, ties by the lower
 * column; NaN after everything. */
static int col_before(float a, int ia, float b, int ib) {
    if (a != a) return 0;
    if (b != b) return 1;
    return a > b || (a == b && ia < ib);
}

/* The k best of v[0..n) in col_before order into ids/vals (insertion into a
 * sorted list of k: O(n k), no sort of n, k is a table's width). */
static void top_cols_of(const float *v, size_t stride, int n, int k, int32_t *ids, float *vals) {
    int cnt = 0;
    for (int j = 0; j < n; j++) {
        float x = v[(size_t)j * stride];
        if (cnt == k && !col_before(x, j, vals[k - 1], ids[k - 1])) continue;
        int p = cnt < k ? cnt++ : k - 1;
        while (p > 0 && col_before(x, j, vals[p - 1], ids[p - 1])) {
            vals[p] = vals[p - 1];
            ids[p] = ids[p - 1];
            p--;
        }
        vals[p] = x;
        ids[p] = j;
    }
}

static gb_status top_cols_input(gb_ctx *ctx, const char *what, int hook, int layer, int k, const float **x, int *T,
                                int *n) {
    gb_shape sh;
    gb_status s = gb_activation_data(ctx, hook, layer, x, &sh);
    if (s) return s;
    if (sh.ndim != 2)
        return GB_FAIL(&ctx->err, GB_E_ARG, "%s needs a [T, n] activation; %s is %d-dimensional", what,
                       gb_hook_pattern(hook), sh.ndim);
    *T = sh.shape[0];
    *n = sh.shape[1];
    if (k < 1 || k > *n) return GB_FAIL(&ctx->err, GB_E_ARG, "%s: k must be 1..%d, got %d", what, *n, k);
    return GB_OK;
}

gb_status gb_top_columns(gb_ctx *ctx, int hook, int layer, int pos0, int n_pos, int k, int32_t *ids, float *vals) {
    if (!ctx || !ids || !vals) return GB_E_ARG;
    gb_status s = need_model(ctx);
    const float *x;
    int T, n;
    if (s || (s = top_cols_input(ctx, "top columns", hook, layer, k, &x, &T, &n))) return s;
    if (pos0 < 0 || n_pos < 1 || pos0 + n_pos > T)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "top columns: positions [%d, %d) must lie in [0, %d)", pos0, pos0 + n_pos,
                       T);
    for (int t = 0; t < n_pos; t++)
        top_cols_of(x + (size_t)(pos0 + t) * n, 1, n, k, ids + (size_t)t * k, vals + (size_t)t * k);
    return GB_OK;
}

gb_status gb_top_columns_absmax(gb_ctx *ctx, int hook, int layer, int k, int32_t *ids, float *scores) {
    if (!ctx || !ids || !scores) return GB_E_ARG;
    gb_status s = need_model(ctx);
    const float *x;
    int T, n;
    if (s || (s = top_cols_input(ctx, "top columns (|max|)", hook, layer, k, &x, &T, &n))) return s;
    float *m = calloc((size_t)n, sizeof(float));
    if (!m) return GB_FAIL(&ctx->err, GB_E_OOM, "top columns: out of memory for %d columns", n);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < n; j++) {
            float a = fabsf(x[(size_t)t * n + j]);
            if (a > m[j]) m[j] = a;
        }
    top_cols_of(m, 1, n, k, ids, scores);
    free(m);
    return GB_OK;
}
