/* intervene.c — the run's interventions: a list of entries, applied where the
 * forward pass writes the activation they name.
 *
 * Head ablation replaces a head's hook_z (its output before the projection),
 * as TransformerLens head ablation does: zero, or that head's mean over every
 * position of the run. The stored hook_z shows the intervened values, since
 * that is what flows on. A mean depends on all positions, so appending tokens
 * to a run with a mean ablation recomputes from that block (api.c). */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"
#include "run/interp.h"

/* The stage an entry first changes (the one writing its hook: block L-1's MLP
 * for blocks.L.hook_resid_pre): everything from there on is stale. */
static int first_stage(const gb_intervention *iv) { return gb_hook_writer_stage(iv->hook, iv->layer); }

static int same_target(const gb_intervention *a, const gb_intervention *b) {
    return a->hook == b->hook && a->layer == b->layer && a->head == b->head && a->pos == b->pos;
}

static void ablate_head(gb_ctx *ctx, const gb_intervention *iv, float *z, int t0, int t1) {
    int H = ctx->model.mc.c.n_head, D = ctx->model.mc.c.d_head, h = iv->head;
    float mean[1024]; /* d_head <= 1024 is checked when the entry is added */
    memset(mean, 0, sizeof(float) * D);
    if (iv->kind == GB_IV_ABLATE_MEAN) {
        /* t0 is 0 here: a mean ablation invalidates the whole block on append */
        for (int t = t0; t < t1; t++) gb_axpy(mean, 1.0f / (float)(t1 - t0), z + ((size_t)t * H + h) * D, D);
    }
    for (int t = t0; t < t1; t++)
        if (iv->pos < 0 || iv->pos == t) memcpy(z + ((size_t)t * H + h) * D, mean, sizeof(float) * D);
}

void gb_apply_interventions(gb_ctx *ctx, int hook, int layer, float *data, int t0, int t1) {
    if (ctx->iv_suspended) return;
    for (int i = 0; i < ctx->n_iv; i++) {
        const gb_intervention *iv = &ctx->iv[i];
        if (iv->hook != hook || iv->layer != layer) continue;
        if (iv->kind == GB_IV_ABLATE_ZERO || iv->kind == GB_IV_ABLATE_MEAN) ablate_head(ctx, iv, data, t0, t1);
        else if (iv->kind == GB_IV_PATCH) gb_patch_apply(ctx, iv, data, t0, t1);
    }
    gb_patch_apply_probe(ctx, hook, layer, data, t0, t1); /* a patching grid's cell (patch.c) */
}

int gb_first_whole_run_layer(const gb_ctx *ctx) {
    int best = -1;
    for (int i = 0; ctx->loaded && i < ctx->n_iv; i++)
        if (ctx->iv[i].kind == GB_IV_ABLATE_MEAN && (best < 0 || ctx->iv[i].layer < best)) best = ctx->iv[i].layer;
    return best;
}

static gb_status check_entry(gb_ctx *ctx, const gb_intervention *iv) {
    const gb_config *c = &ctx->model.mc.c;
    if (!iv) return GB_FAIL(&ctx->err, GB_E_ARG, "intervention is NULL");
    if (iv->layer < 0 || iv->layer >= c->n_layer)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "intervention: block %d does not exist (model has %d)", iv->layer,
                       c->n_layer);
    if (iv->pos < -1 || iv->pos >= c->n_positions)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "intervention: position %d out of range -1..%d", iv->pos,
                       c->n_positions - 1);
    switch (iv->kind) {
    case GB_IV_ABLATE_ZERO:
    case GB_IV_ABLATE_MEAN:
        if (iv->hook != HOOK_Z)
            return GB_FAIL(&ctx->err, GB_E_ARG, "head ablation acts on blocks.L.attn.hook_z (hook %d), not hook %d",
                           HOOK_Z, iv->hook);
        if (iv->head < 0 || iv->head >= c->n_head)
            return GB_FAIL(&ctx->err, GB_E_RANGE, "head %d.%d does not exist (model has %d layers x %d heads)",
                           iv->layer, iv->head, c->n_layer, c->n_head);
        if (iv->kind == GB_IV_ABLATE_MEAN && iv->pos != -1)
            return GB_FAIL(&ctx->err, GB_E_ARG, "a mean ablation covers every position (pos -1), got pos %d", iv->pos);
        if (c->d_head > 1024)
            return GB_FAIL(&ctx->err, GB_E_RANGE, "ablation supports d_head up to 1024 (model has %d)", c->d_head);
        return GB_OK;
    case GB_IV_PATCH:
        return gb_patch_check(ctx, iv);
    }
    return GB_FAIL(&ctx->err, GB_E_ARG, "intervention kind %d is not one of ablate-zero (1), ablate-mean (2), patch (3)",
                   (int)iv->kind);
}

gb_status gb_add_intervention(gb_ctx *ctx, const gb_intervention *iv) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    gb_status s = check_entry(ctx, iv);
    if (s) return s;
    for (int i = 0; i < ctx->n_iv; i++)
        if (same_target(&ctx->iv[i], iv)) {
            if (ctx->iv[i].kind != iv->kind) {
                ctx->iv[i] = *iv;
                gb_invalidate_from(ctx, first_stage(iv));
            }
            return GB_OK;
        }
    if (ctx->n_iv >= GB_MAX_INTERVENTIONS)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "a run holds at most %d interventions", GB_MAX_INTERVENTIONS);
    ctx->iv[ctx->n_iv++] = *iv;
    gb_invalidate_from(ctx, first_stage(iv));
    return GB_OK;
}

gb_status gb_remove_intervention(gb_ctx *ctx, int index) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (index < 0 || index >= ctx->n_iv)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "intervention %d does not exist (the run has %d)", index, ctx->n_iv);
    gb_invalidate_from(ctx, first_stage(&ctx->iv[index]));
    memmove(&ctx->iv[index], &ctx->iv[index + 1], sizeof *ctx->iv * (size_t)(ctx->n_iv - index - 1));
    ctx->n_iv--;
    return GB_OK;
}

gb_status gb_clear_interventions(gb_ctx *ctx) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    int first = -1;
    for (int i = 0; i < ctx->n_iv; i++)
        if (first < 0 || first_stage(&ctx->iv[i]) < first) first = first_stage(&ctx->iv[i]);
    if (first >= 0) gb_invalidate_from(ctx, first);
    ctx->n_iv = 0;
    return GB_OK;
}

int gb_num_interventions(const gb_ctx *ctx) { return ctx ? ctx->n_iv : 0; }

gb_status gb_get_intervention(const gb_ctx *ctx, int index, gb_intervention *out) {
    if (!ctx || !out || index < 0 || index >= ctx->n_iv) return GB_E_RANGE;
    *out = ctx->iv[index];
    return GB_OK;
}

gb_status gb_set_ablation(gb_ctx *ctx, int layer, int head, gb_ablation mode) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    if (mode != GB_ABLATE_NONE && mode != GB_ABLATE_ZERO && mode != GB_ABLATE_MEAN)
        return GB_FAIL(&ctx->err, GB_E_ARG, "ablation mode must be none (0), zero (1) or mean (2)");
    gb_intervention iv = {mode == GB_ABLATE_MEAN ? GB_IV_ABLATE_MEAN : GB_IV_ABLATE_ZERO, HOOK_Z, layer, head, -1};
    if (mode != GB_ABLATE_NONE) return gb_add_intervention(ctx, &iv);
    gb_status s = check_entry(ctx, &iv);
    if (s) return s;
    for (int i = 0; i < ctx->n_iv; i++)
        if (same_target(&ctx->iv[i], &iv)) return gb_remove_intervention(ctx, i);
    return GB_OK;
}

gb_status gb_clear_ablations(gb_ctx *ctx) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    for (int i = ctx->n_iv - 1; i >= 0; i--)
        if (ctx->iv[i].kind == GB_IV_ABLATE_ZERO || ctx->iv[i].kind == GB_IV_ABLATE_MEAN) gb_remove_intervention(ctx, i);
    return GB_OK;
}
