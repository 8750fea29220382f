/* patch.c — activation patching: the patch source run, GB_IV_PATCH entries
 * and the layers x positions / layers x heads patching grids (glassbox.h,
 * "interpretability tools"), plus the helpers the other tools share
 * (run/interp.h).
 *
 * A grid cell patches one activation and needs only what it changes
 * recomputed: blocks from the patched one on (the stages before keep their
 * rows) and positions from the patched one on (causal attention: an earlier
 * position never reads a later one). The forward pass's per-stage row counts
 * (ctx->done) already express "rows [r, T) of stage s are stale", which is
 * what incremental decoding uses, so a cell lowers them and reruns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/interp.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))

/* ------------------------------------------------------------------ shared helpers */
gb_status gb_interp_get(gb_ctx *ctx, struct gb_interp **out) {
    if (!ctx->interp) {
        ctx->interp = calloc(1, sizeof *ctx->interp);
        if (!ctx->interp) return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for the interpretability state");
    }
    *out = ctx->interp;
    return GB_OK;
}

static void free_source(struct gb_interp *p) {
    free(p->src_tokens); free(p->src_resid_pre); free(p->src_attn_out); free(p->src_mlp_out);
    free(p->src_z); free(p->src_final);
    p->src_tokens = NULL; p->src_resid_pre = p->src_attn_out = p->src_mlp_out = p->src_z = NULL;
    p->src_final = NULL;
    p->src_T = 0;
}

void gb_interp_free(gb_ctx *ctx) {
    if (!ctx->interp) return;
    free_source(ctx->interp);
    gb_reagent_free(ctx->interp->reagent);
    free(ctx->interp);
    ctx->interp = NULL;
}

int gb_hook_writer_stage(int hook, int layer) {
    if (hook == HOOK_RESID_PRE) return layer == 0 ? 0 : gb_stage_mlp(layer - 1);
    if (hook == HOOK_MLP_OUT) return gb_stage_mlp(layer);
    return gb_stage_attn(layer);
}

void gb_invalidate_rows(gb_ctx *ctx, int stage, int row) {
    if (gb_first_whole_run_layer(ctx) >= 0) row = 0;
    for (int s = stage; s < ctx->n_stages; s++)
        if (ctx->done[s] > row) ctx->done[s] = row;
    if (!ctx->acts.keep_all) ctx->scratch_layer = -1;
    ctx->sample_valid = 0;
}

gb_status gb_run_save(gb_ctx *ctx, gb_saved_run *s) {
    s->n = ctx->n_tokens;
    s->n_prompt = ctx->n_prompt;
    s->tokens = NULL;
    if (s->n == 0) return GB_OK;
    s->tokens = malloc(sizeof(int32_t) * (size_t)s->n);
    if (!s->tokens) return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory saving the run's tokens");
    memcpy(s->tokens, ctx->tokens, sizeof(int32_t) * (size_t)s->n);
    return GB_OK;
}

void gb_run_restore(gb_ctx *ctx, gb_saved_run *s) {
    if (s->n > 0 && gb_set_tokens(ctx, s->tokens, s->n) == GB_OK) {
        ctx->n_prompt = s->n_prompt;
    } else {
        ctx->n_tokens = 0;
        gb_invalidate_from(ctx, 0);
    }
    free(s->tokens);
    s->tokens = NULL;
}

void gb_run_replace_tokens(gb_ctx *ctx, const int32_t *ids) {
    int T = ctx->n_tokens, first = T;
    for (int t = 0; t < T; t++)
        if (ctx->tokens[t] != ids[t]) { first = t; break; }
    if (first == T) return;
    memcpy(ctx->tokens + first, ids + first, sizeof(int32_t) * (size_t)(T - first));
    gb_invalidate_rows(ctx, 0, first);
}

void gb_unembed_row(const gb_model *m, int id, float *out) {
    int C = m->mc.c.n_embd;
    if (m->lm_head_packed) gb_packed_nt_row(out, m->lm_head, m->mc.c.vocab_size, C, id);
    else memcpy(out, m->lm_head + (size_t)id * C, sizeof(float) * C);
}

float gb_row_logit_diff(const gb_model *m, const float *x, const float *udiff) {
    int C = m->mc.c.n_embd;
    float ln[GB_MAX_EMBD];
    gb_layernorm(ln, NULL, x, m->ln_f_w, m->ln_f_b, 1, C, m->mc.c.layer_norm_epsilon);
    double s = 0;
    for (int i = 0; i < C; i++) s += (double)ln[i] * udiff[i];
    return (float)s;
}

/* ------------------------------------------------------------------ the source run */
static int patchable(int hook) {
    return hook == HOOK_RESID_PRE || hook == HOOK_ATTN_OUT || hook == HOOK_MLP_OUT || hook == HOOK_Z;
}

static float *source_of(struct gb_interp *p, int hook) {
    return hook == HOOK_RESID_PRE ? p->src_resid_pre : hook == HOOK_ATTN_OUT ? p->src_attn_out
         : hook == HOOK_MLP_OUT ? p->src_mlp_out : p->src_z;
}

static gb_status copy_source(gb_ctx *ctx, struct gb_interp *p, int T) {
    const gb_config *c = &ctx->model.mc.c;
    size_t per = (size_t)T * c->n_embd, all = per * c->n_layer;
    p->src_tokens = malloc(sizeof(int32_t) * (size_t)T);
    p->src_resid_pre = malloc(sizeof(float) * all);
    p->src_attn_out = malloc(sizeof(float) * all);
    p->src_mlp_out = malloc(sizeof(float) * all);
    p->src_z = malloc(sizeof(float) * all);
    p->src_final = malloc(sizeof(float) * c->n_embd);
    if (!p->src_tokens || !p->src_resid_pre || !p->src_attn_out || !p->src_mlp_out || !p->src_z || !p->src_final)
        return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory keeping the patch source's activations");
    memcpy(p->src_tokens, ctx->tokens, sizeof(int32_t) * (size_t)T);
    const int hooks[4] = {HOOK_RESID_PRE, HOOK_ATTN_OUT, HOOK_MLP_OUT, HOOK_Z};
    for (int l = 0; l < c->n_layer; l++)
        for (int i = 0; i < 4; i++) {
            gb_status s = gb_activation_copy(ctx, hooks[i], l, source_of(p, hooks[i]) + per * l, per);
            if (s) return s;
        }
    const float *last = ACT(HOOK_RESID_POST, c->n_layer - 1);
    memcpy(p->src_final, last + (size_t)(T - 1) * c->n_embd, sizeof(float) * c->n_embd);
    p->src_T = T;
    return GB_OK;
}

gb_status gb_set_patch_source(gb_ctx *ctx, const int32_t *ids, int n) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    struct gb_interp *p = NULL;
    gb_status s = gb_interp_get(ctx, &p);
    if (s) return s;
    gb_saved_run saved;
    if ((s = gb_run_save(ctx, &saved))) return s;
    free_source(p);
    ctx->iv_suspended = 1;
    s = gb_set_tokens(ctx, ids, n);
    if (!s) s = gb_run_until(ctx, gb_last_block_stage(ctx));
    if (!s) s = copy_source(ctx, p, n);
    ctx->iv_suspended = 0;
    if (s) free_source(p);
    gb_run_restore(ctx, &saved); /* also invalidates: patch entries now read the new source */
    return s;
}

gb_status gb_clear_patch_source(gb_ctx *ctx) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (ctx->interp && ctx->interp->src_T) {
        free_source(ctx->interp);
        if (ctx->loaded) gb_invalidate_from(ctx, 0);
    }
    return GB_OK;
}

const int32_t *gb_patch_source_tokens(const gb_ctx *ctx, int *n) {
    int T = ctx && ctx->interp ? ctx->interp->src_T : 0;
    if (n) *n = T;
    return T ? ctx->interp->src_tokens : NULL;
}

gb_status gb_patch_check(gb_ctx *ctx, const gb_intervention *iv) {
    const gb_config *c = &ctx->model.mc.c;
    if (!patchable(iv->hook))
        return GB_FAIL(&ctx->err, GB_E_ARG,
                       "patching acts on hook_resid_pre, hook_attn_out, hook_mlp_out or attn.hook_z, not hook %d",
                       iv->hook);
    if (iv->hook == HOOK_Z ? (iv->head < 0 || iv->head >= c->n_head) : iv->head != -1)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "a hook_z patch names a head 0..%d; other hooks take head -1 (got %d)",
                       c->n_head - 1, iv->head);
    if (!ctx->interp || !ctx->interp->src_T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "patching needs a patch source: call gb_set_patch_source first");
    return GB_OK;
}

void gb_patch_apply(gb_ctx *ctx, const gb_intervention *iv, float *data, int t0, int t1) {
    struct gb_interp *p = ctx->interp;
    if (!p || !p->src_T) return;
    const gb_config *c = &ctx->model.mc.c;
    int C = c->n_embd, D = c->d_head;
    const float *src = source_of(p, iv->hook) + (size_t)iv->layer * p->src_T * C;
    if (t1 > p->src_T) t1 = p->src_T;
    for (int t = t0; t < t1; t++) {
        if (iv->pos >= 0 && iv->pos != t) continue;
        if (iv->hook == HOOK_Z)
            memcpy(data + (size_t)t * C + (size_t)iv->head * D, src + (size_t)t * C + (size_t)iv->head * D,
                   sizeof(float) * D);
        else
            memcpy(data + (size_t)t * C, src + (size_t)t * C, sizeof(float) * C);
    }
}

/* ------------------------------------------------------------------ the grids */
static gb_status metric_setup(gb_ctx *ctx, int target, int distractor, float *udiff) {
    const gb_config *c = &ctx->model.mc.c;
    if (target < 0 || target >= c->vocab_size || distractor < 0 || distractor >= c->vocab_size)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "target %d / distractor %d: ids must be in 0..%d", target, distractor,
                       c->vocab_size - 1);
    if (ctx->n_tokens == 0) return GB_FAIL(&ctx->err, GB_E_STATE, "no tokens: set the run's prompt first");
    float a[GB_MAX_EMBD], b[GB_MAX_EMBD];
    gb_unembed_row(&ctx->model, target, a);
    gb_unembed_row(&ctx->model, distractor, b);
    for (int i = 0; i < c->n_embd; i++) udiff[i] = a[i] - b[i];
    return gb_run_until(ctx, gb_last_block_stage(ctx));
}

static float run_metric(gb_ctx *ctx, const float *udiff) {
    const gb_config *c = &ctx->model.mc.c;
    const float *x = ACT(HOOK_RESID_POST, c->n_layer - 1) + (size_t)(ctx->n_tokens - 1) * c->n_embd;
    return gb_row_logit_diff(&ctx->model, x, udiff);
}

gb_status gb_patch_baselines(gb_ctx *ctx, int target, int distractor, float *ld_clean, float *ld_corrupted) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    if (!ctx->interp || !ctx->interp->src_T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "no patch source: call gb_set_patch_source with the clean prompt");
    float udiff[GB_MAX_EMBD];
    gb_status s = metric_setup(ctx, target, distractor, udiff);
    if (s) return s;
    if (ld_clean) *ld_clean = gb_row_logit_diff(&ctx->model, ctx->interp->src_final, udiff);
    if (ld_corrupted) *ld_corrupted = run_metric(ctx, udiff);
    return GB_OK;
}

int gb_patch_grid_cols(const gb_ctx *ctx, int hook) {
    if (!ctx || !ctx->loaded || !patchable(hook)) return -1;
    return hook == HOOK_Z ? ctx->model.mc.c.n_head : ctx->n_tokens;
}

gb_status gb_patch_grid(gb_ctx *ctx, int hook, int target, int distractor, int first, int count, float *out) {
    float clean, corrupted;
    gb_status s = gb_patch_baselines(ctx, target, distractor, &clean, &corrupted);
    if (s) return s;
    const gb_config *c = &ctx->model.mc.c;
    int T = ctx->n_tokens, cols = gb_patch_grid_cols(ctx, hook);
    if (cols < 0)
        return GB_FAIL(&ctx->err, GB_E_ARG, "a patching grid is over hook_resid_pre, hook_attn_out, hook_mlp_out "
                       "or attn.hook_z, not hook %d", hook);
    if (ctx->interp->src_T != T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "the clean prompt has %d tokens and the corrupted run %d: patching "
                       "position by position needs equal lengths", ctx->interp->src_T, T);
    if (first < 0 || count < 0 || first + count > c->n_layer * cols || (count > 0 && !out))
        return GB_FAIL(&ctx->err, GB_E_RANGE, "grid cells %d..%d out of range 0..%d", first, first + count - 1,
                       c->n_layer * cols - 1);
    float denom = clean - corrupted;
    if (!(fabsf(denom) > 1e-6f))
        return GB_FAIL(&ctx->err, GB_E_STATE, "clean and corrupted runs give the same logit difference (%g): "
                       "nothing to restore; pick another target, distractor or prompt pair", clean);
    float udiff[GB_MAX_EMBD];
    metric_setup(ctx, target, distractor, udiff);
    struct gb_interp *p = ctx->interp;
    for (int i = 0; i < count; i++) {
        int cell = first + i, layer = cell / cols, col = cell % cols;
        gb_intervention iv = {GB_IV_PATCH, hook, layer, hook == HOOK_Z ? col : -1, hook == HOOK_Z ? -1 : col};
        int stage = gb_hook_writer_stage(hook, layer), row = iv.pos < 0 ? 0 : iv.pos;
        p->probe = iv;
        p->has_probe = 1;
        gb_invalidate_rows(ctx, stage, row);
        s = gb_run_until(ctx, gb_last_block_stage(ctx));
        if (!s) out[i] = (run_metric(ctx, udiff) - corrupted) / denom;
        p->has_probe = 0;
        gb_invalidate_rows(ctx, stage, row); /* the patched rows go stale again */
        if (s) return s;
    }
    return GB_OK;
}

/* The grid's cell, applied by gb_apply_interventions after the run's own entries. */
void gb_patch_apply_probe(gb_ctx *ctx, int hook, int layer, float *data, int t0, int t1) {
    struct gb_interp *p = ctx->interp;
    if (p && p->has_probe && p->probe.hook == hook && p->probe.layer == layer)
        gb_patch_apply(ctx, &p->probe, data, t0, t1);
}
