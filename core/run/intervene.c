/* intervene.c — head ablation and the logit lens.
 *
 * Ablation replaces a head's hook_z (its output before the projection), as
 * TransformerLens head ablation does: zero, or that head's mean over every
 * position of the run. The stored hook_z shows the ablated values, since that
 * is what flows on. A mean depends on all positions, so appending tokens to a
 * run with a mean ablation recomputes from that block (api.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

void gb_apply_ablations(gb_ctx *ctx, int layer, float *z, int t0, int t1) {
    int H = ctx->model.mc.c.n_head, D = ctx->model.mc.c.d_head;
    for (int h = 0; h < H; h++) {
        gb_ablation mode = (gb_ablation)ctx->ablate[layer * H + h];
        if (mode == GB_ABLATE_NONE) continue;
        float mean[1024]; /* d_head <= 1024 is checked when the ablation is set */
        memset(mean, 0, sizeof(float) * D);
        if (mode == GB_ABLATE_MEAN) {
            /* t0 is 0 here: a mean ablation invalidates the whole block on append */
            for (int t = t0; t < t1; t++) gb_axpy(mean, 1.0f / (float)(t1 - t0), z + ((size_t)t * H + h) * D, D);
        }
        for (int t = t0; t < t1; t++) memcpy(z + ((size_t)t * H + h) * D, mean, sizeof(float) * D);
    }
}

int gb_first_mean_ablated_layer(const gb_ctx *ctx) {
    if (!ctx->loaded) return -1;
    int L = ctx->model.mc.c.n_layer, H = ctx->model.mc.c.n_head;
    for (int i = 0; i < L * H; i++)
        if (ctx->ablate[i] == GB_ABLATE_MEAN) return i / H;
    return -1;
}

gb_status gb_set_ablation(gb_ctx *ctx, int layer, int head, gb_ablation mode) {
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    const gb_config *c = &ctx->model.mc.c;
    if (layer < 0 || layer >= c->n_layer || head < 0 || head >= c->n_head)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "head %d.%d does not exist (model has %d layers x %d heads)",
                       layer, head, c->n_layer, c->n_head);
    if (mode != GB_ABLATE_NONE && mode != GB_ABLATE_ZERO && mode != GB_ABLATE_MEAN)
        return GB_FAIL(&ctx->err, GB_E_ARG, "ablation mode must be none (0), zero (1) or mean (2)");
    if (c->d_head > 1024)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "ablation supports d_head up to 1024 (model has %d)", c->d_head);
    uint8_t *slot = &ctx->ablate[layer * c->n_head + head];
    if (*slot != (uint8_t)mode) {
        *slot = (uint8_t)mode;
        gb_invalidate_from(ctx, gb_stage_attn(layer));
    }
    return GB_OK;
}

gb_status gb_clear_ablations(gb_ctx *ctx) {
    if (!ctx->loaded) return GB_OK;
    const gb_config *c = &ctx->model.mc.c;
    for (int l = 0; l < c->n_layer; l++)
        for (int h = 0; h < c->n_head; h++) {
            gb_status s = gb_set_ablation(ctx, l, h, GB_ABLATE_NONE);
            if (s) return s;
        }
    return GB_OK;
}

/* ------------------------------------------------------------------ logit lens */
static gb_status lens_logits(gb_ctx *ctx, int layer, int pos, float *logits) {
    const gb_model *m = &ctx->model;
    int C = m->mc.c.n_embd;
    int stage = layer < 0 ? 0 : gb_stage_mlp(layer);
    if (ctx->done[stage] <= pos)
        return GB_FAIL(&ctx->err, GB_E_STATE, "logit lens: block %d has not been run at position %d yet",
                       layer, pos);
    const float *x = layer < 0 ? gb_acts_ptr(&ctx->acts, HOOK_RESID_PRE, 0)
                               : gb_acts_ptr(&ctx->acts, HOOK_RESID_POST, layer);
    float ln[16384]; /* n_embd <= GB_MAX_EMBD */
    gb_layernorm(ln, NULL, x + (size_t)pos * C, m->ln_f_w, m->ln_f_b, 1, C, m->mc.c.layer_norm_epsilon);
    gb_model_lm_head(m, logits, ln, 1);
    return GB_OK;
}

gb_status gb_logit_lens(gb_ctx *ctx, int layer, int pos, int k, int32_t *ids, float *probs) {
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    const gb_config *c = &ctx->model.mc.c;
    if (layer < -1 || layer >= c->n_layer)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "logit lens: layer %d out of range -1..%d", layer, c->n_layer - 1);
    if (pos < 0 || pos >= ctx->n_tokens)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "logit lens: position %d out of range 0..%d", pos, ctx->n_tokens - 1);
    if (k < 1 || k > c->vocab_size || !ids || !probs)
        return GB_FAIL(&ctx->err, GB_E_ARG, "logit lens: k must be 1..%d with output arrays", c->vocab_size);
    float *p = ctx->sample_buf; /* the sampler's scratch: free between calls */
    gb_status s = lens_logits(ctx, layer, pos, p);
    if (s) return s;
    gb_softmax(p, p, c->vocab_size);
    for (int i = 0; i < k; i++) { ids[i] = -1; probs[i] = -1.0f; }
    for (int v = 0; v < c->vocab_size; v++) { /* insertion into a sorted top-k list */
        if (p[v] <= probs[k - 1]) continue;
        int i = k - 1;
        while (i > 0 && probs[i - 1] < p[v]) { probs[i] = probs[i - 1]; ids[i] = ids[i - 1]; i--; }
        probs[i] = p[v];
        ids[i] = v;
    }
    return GB_OK;
}
