/* activations.c — reading activations by TransformerLens name (glassbox.h).
 * Names, shapes and storage all come from the GB_HOOKS table in acts.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

int gb_num_hooks(void) { return GB_NUM_HOOKS; }

const char *gb_hook_pattern(int hook) {
    return hook >= 0 && hook < GB_NUM_HOOKS ? gb_hooks[hook].pattern : NULL;
}

int gb_hook_is_per_layer(int hook) {
    return hook >= 0 && hook < GB_NUM_HOOKS ? gb_hooks[hook].per_layer : 0;
}

/* "blocks.12.attn.hook_q" -> (HOOK_Q, 12). The layer digits must be plain
 * decimal with no sign or leading zeros, so each name has one spelling. */
int gb_hook_find(const char *name, int *layer) {
    if (!name) return -1;
    for (int h = 0; h < GB_NUM_HOOKS; h++) {
        const char *p = gb_hooks[h].pattern;
        if (!gb_hooks[h].per_layer) {
            if (strcmp(name, p) == 0) { if (layer) *layer = -1; return h; }
            continue;
        }
        const char *pct = strstr(p, "%d");
        size_t pre = (size_t)(pct - p);
        if (strncmp(name, p, pre) != 0) continue;
        const char *d = name + pre;
        int l = 0, nd = 0;
        while (d[nd] >= '0' && d[nd] <= '9' && nd < 4) l = l * 10 + (d[nd++] - '0');
        if (nd == 0 || (nd > 1 && d[0] == '0') || strcmp(d + nd, pct + 2) != 0) continue;
        if (layer) *layer = l;
        return h;
    }
    return -1;
}

static void fill_shape(const gb_ctx *ctx, int hook, gb_shape *sh) {
    const gb_dims *d = &ctx->acts.d;
    int T = ctx->n_tokens;
    memset(sh, 0, sizeof *sh);
    sh->dense = 1;
    switch (gb_hooks[hook].shape) {
    case SH_TC: sh->ndim = 2; sh->shape[0] = T; sh->shape[1] = d->n_embd; break;
    case SH_T1: sh->ndim = 2; sh->shape[0] = T; sh->shape[1] = 1; break;
    case SH_THD: sh->ndim = 3; sh->shape[0] = T; sh->shape[1] = d->n_head; sh->shape[2] = d->d_head; break;
    case SH_HTT: sh->ndim = 3; sh->shape[0] = d->n_head; sh->shape[1] = T; sh->shape[2] = T; sh->dense = 0; break;
    case SH_TM: sh->ndim = 2; sh->shape[0] = T; sh->shape[1] = d->d_mlp; break;
    case SH_TV: sh->ndim = 2; sh->shape[0] = T; sh->shape[1] = d->vocab; break;
    }
    sh->numel = 1;
    for (int i = 0; i < sh->ndim; i++) sh->numel *= (size_t)sh->shape[i];
}

/* The stage that must cover every token for (hook, layer) to be readable. */
static int producing_stage(const gb_ctx *ctx, int hook, int layer) {
    switch (gb_hooks[hook].stage) {
    case ST_EMBED: return (hook == HOOK_RESID_PRE && layer > 0) ? gb_stage_mlp(layer - 1) : 0;
    case ST_ATTN: return gb_stage_attn(layer);
    case ST_MLP: return gb_stage_mlp(layer);
    case ST_FINAL: return ctx->n_stages - 1;
    }
    return 0;
}

static gb_status check_hook(gb_ctx *ctx, int hook, int layer) {
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded yet");
    if (hook < 0 || hook >= GB_NUM_HOOKS) return GB_FAIL(&ctx->err, GB_E_ARG, "unknown hook id %d", hook);
    if (gb_hooks[hook].per_layer && (layer < 0 || layer >= ctx->acts.d.n_layer))
        return GB_FAIL(&ctx->err, GB_E_RANGE, "%s: layer %d out of range 0..%d", gb_hooks[hook].pattern,
                       layer, ctx->acts.d.n_layer - 1);
    return GB_OK;
}

gb_status gb_activation_shape(gb_ctx *ctx, int hook, int layer, gb_shape *shape, int *ready) {
    if (!ctx || !shape) return GB_E_ARG;
    gb_status s = check_hook(ctx, hook, layer);
    if (s) return s;
    fill_shape(ctx, hook, shape);
    if (ready)
        *ready = ctx->n_tokens > 0 && ctx->done[producing_stage(ctx, hook, layer)] == ctx->n_tokens;
    return GB_OK;
}

/* Validates, checks readiness and brings a scratch-held block back. */
static gb_status locate(gb_ctx *ctx, int hook, int layer, const float **base, gb_shape *sh) {
    gb_status s = check_hook(ctx, hook, layer);
    if (s) return s;
    fill_shape(ctx, hook, sh);
    if (ctx->n_tokens == 0 || ctx->done[producing_stage(ctx, hook, layer)] < ctx->n_tokens)
        return GB_FAIL(&ctx->err, GB_E_STATE, "activation %s (layer %d) has not been computed yet: run its stage first",
                       gb_hooks[hook].pattern, layer);
    if (gb_hooks[hook].per_layer && !gb_hooks[hook].keep && (s = gb_forward_materialize(ctx, layer)))
        return s;
    if (hook == HOOK_LOGITS) return gb_forward_logits(ctx, 0, base); /* rows the hot path skipped */
    *base = gb_acts_ptr(&ctx->acts, (gb_hook_id)hook, layer);
    return GB_OK;
}

gb_status gb_activation_data(gb_ctx *ctx, int hook, int layer, const float **data, gb_shape *shape) {
    if (!ctx || !data || !shape) return GB_E_ARG;
    gb_status s = locate(ctx, hook, layer, data, shape);
    if (s) return s;
    if (!shape->dense)
        return GB_FAIL(&ctx->err, GB_E_ARG, "%s is stored as packed causal triangles: use gb_activation_copy",
                       gb_hooks[hook].pattern);
    return GB_OK;
}

gb_status gb_activation_copy(gb_ctx *ctx, int hook, int layer, float *out, size_t cap) {
    if (!ctx || !out) return GB_E_ARG;
    const float *base;
    gb_shape sh;
    gb_status s = locate(ctx, hook, layer, &base, &sh);
    if (s) return s;
    if (cap < sh.numel)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "output buffer holds %zu floats; %s needs %zu", cap,
                       gb_hooks[hook].pattern, sh.numel);
    if (sh.dense) { memcpy(out, base, sh.numel * sizeof(float)); return GB_OK; }
    int H = sh.shape[0], T = sh.shape[1];
    float masked = hook == HOOK_ATTN_SCORES ? -INFINITY : 0.0f;
    for (int h = 0; h < H; h++)
        for (int t = 0; t < T; t++) {
            const float *row = base + (size_t)H * ((size_t)t * (t + 1) / 2) + (size_t)h * (t + 1);
            float *o = out + ((size_t)h * T + t) * T;
            memcpy(o, row, sizeof(float) * (size_t)(t + 1));
            for (int j = t + 1; j < T; j++) o[j] = masked;
        }
    return GB_OK;
}
