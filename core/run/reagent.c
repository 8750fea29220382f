/* reagent.c — ReAGent-style token attribution (Zhao & Shan 2024,
 * "ReAGent: a model-agnostic feature attribution method for generative
 * language models"): replace random prompt tokens, measure how much the
 * predicted token's probability drops, and credit the replaced positions.
 * Step-wise so a worker can show progress and cancel between calls; the
 * choices (replacement tokens, step, score, stopping rule) are spelled out in
 * glassbox.h. The paper replaces with a RoBERTa's suggestions; Glassbox has
 * one model, so replacements are uniform random ids (seeded). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/interp.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))
#define MIN_STEPS 32
#define CHECK_EVERY 8

struct gb_reagent {
    int T, target, steps, max_steps, finished;
    float ratio, p_orig;
    uint64_t rng;
    int32_t *orig, *work;
    double *sum_rep, *sum_keep;
    int *n_rep, *n_keep;
    float *logits;        /* [vocab] */
    int *order;           /* [T] scratch */
};

void gb_reagent_free(gb_reagent *r) {
    if (!r) return;
    free(r->orig); free(r->work); free(r->sum_rep); free(r->sum_keep); free(r->n_rep); free(r->n_keep);
    free(r->logits); free(r->order);
    free(r);
}

/* Softmax probability of the target and whether it is the argmax, at T-1. */
static gb_status predict(gb_ctx *ctx, gb_reagent *r, float *p, int *is_top) {
    gb_status s = gb_run_until(ctx, gb_last_block_stage(ctx));
    if (s) return s;
    const gb_model *m = &ctx->model;
    int C = m->mc.c.n_embd, V = m->mc.c.vocab_size;
    float ln[GB_MAX_EMBD];
    const float *x = ACT(HOOK_RESID_POST, m->mc.c.n_layer - 1) + (size_t)(ctx->n_tokens - 1) * C;
    gb_layernorm(ln, NULL, x, m->ln_f_w, m->ln_f_b, 1, C, m->mc.c.layer_norm_epsilon);
    gb_model_lm_head(m, r->logits, ln, 1);
    int best = 0;
    for (int v = 1; v < V; v++)
        if (r->logits[v] > r->logits[best]) best = v;
    gb_softmax(r->logits, r->logits, V);
    if (r->target < 0) r->target = best;
    *p = r->logits[r->target];
    if (is_top) *is_top = best == r->target;
    return GB_OK;
}

static int32_t random_other(gb_reagent *r, int V, int32_t not_this) {
    int32_t v = (int32_t)(gb_splitmix64(&r->rng) % (uint64_t)(V - 1));
    return v >= not_this ? v + 1 : v;
}

gb_status gb_reagent_begin(gb_ctx *ctx, uint64_t seed, float ratio, int max_steps) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    if (ctx->n_tokens == 0) return GB_FAIL(&ctx->err, GB_E_STATE, "no tokens: set the run's prompt first");
    if (!(ratio > 0 && ratio <= 1) || max_steps < 1)
        return GB_FAIL(&ctx->err, GB_E_ARG, "ReAGent: ratio must be in (0, 1] and max_steps >= 1");
    if (ctx->model.mc.c.vocab_size < 2) return GB_FAIL(&ctx->err, GB_E_STATE, "ReAGent needs a vocabulary of 2+ ids");
    struct gb_interp *p = NULL;
    gb_status s = gb_interp_get(ctx, &p);
    if (s) return s;
    gb_reagent_free(p->reagent);
    p->reagent = NULL;
    int T = ctx->n_tokens;
    gb_reagent *r = calloc(1, sizeof *r);
    if (r) {
        r->orig = malloc(sizeof(int32_t) * T); r->work = malloc(sizeof(int32_t) * T);
        r->sum_rep = calloc(T, sizeof(double)); r->sum_keep = calloc(T, sizeof(double));
        r->n_rep = calloc(T, sizeof(int)); r->n_keep = calloc(T, sizeof(int));
        r->logits = malloc(sizeof(float) * ctx->model.mc.c.vocab_size); r->order = malloc(sizeof(int) * T);
    }
    if (!r || !r->orig || !r->work || !r->sum_rep || !r->sum_keep || !r->n_rep || !r->n_keep || !r->logits || !r->order) {
        gb_reagent_free(r);
        return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for ReAGent's state");
    }
    r->T = T;
    r->ratio = ratio;
    r->max_steps = max_steps;
    r->rng = seed;
    r->target = -1;
    memcpy(r->orig, ctx->tokens, sizeof(int32_t) * T);
    s = predict(ctx, r, &r->p_orig, NULL);
    if (s) { gb_reagent_free(r); return s; }
    p->reagent = r;
    return GB_OK;
}

static double score_of(const gb_reagent *r, int i) {
    double a = r->n_rep[i] ? r->sum_rep[i] / r->n_rep[i] : 0, b = r->n_keep[i] ? r->sum_keep[i] / r->n_keep[i] : 0;
    return a - b;
}

/* One replace-and-measure step: replace a random subset, credit it. */
static gb_status one_step(gb_ctx *ctx, gb_reagent *r) {
    int T = r->T, V = ctx->model.mc.c.vocab_size;
    int k = (int)lroundf(r->ratio * (float)T);
    if (k < 1) k = 1;
    for (int i = 0; i < T; i++) r->order[i] = i;
    for (int i = 0; i < k; i++) { /* partial Fisher-Yates: the first k of order are replaced */
        int j = i + (int)(gb_splitmix64(&r->rng) % (uint64_t)(T - i));
        int t = r->order[i]; r->order[i] = r->order[j]; r->order[j] = t;
    }
    memcpy(r->work, r->orig, sizeof(int32_t) * T);
    for (int i = 0; i < k; i++) r->work[r->order[i]] = random_other(r, V, r->orig[r->order[i]]);
    gb_run_replace_tokens(ctx, r->work);
    float p;
    gb_status s = predict(ctx, r, &p, NULL);
    if (s) return s;
    double d = (double)r->p_orig - p;
    for (int i = 0; i < T; i++) {
        int rep = r->work[i] != r->orig[i];
        if (rep) { r->sum_rep[i] += d; r->n_rep[i]++; } else { r->sum_keep[i] += d; r->n_keep[i]++; }
    }
    return GB_OK;
}

/* The stopping rule: keep the ceil(T/2) best-scoring positions, replace the rest. */
static gb_status explained(gb_ctx *ctx, gb_reagent *r, int *yes) {
    int T = r->T, V = ctx->model.mc.c.vocab_size, keep = (T + 1) / 2;
    for (int i = 0; i < T; i++) r->order[i] = i;
    for (int i = 1; i < T; i++) { /* insertion sort by score, descending (T is small) */
        int v = r->order[i], j = i;
        while (j > 0 && score_of(r, r->order[j - 1]) < score_of(r, v)) { r->order[j] = r->order[j - 1]; j--; }
        r->order[j] = v;
    }
    memcpy(r->work, r->orig, sizeof(int32_t) * T);
    for (int i = keep; i < T; i++) r->work[r->order[i]] = random_other(r, V, r->orig[r->order[i]]);
    gb_run_replace_tokens(ctx, r->work);
    float p;
    return predict(ctx, r, &p, yes);
}

gb_status gb_reagent_step(gb_ctx *ctx, int n, int *steps, int *finished) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    gb_reagent *r = ctx->interp ? ctx->interp->reagent : NULL;
    if (!r) return GB_FAIL(&ctx->err, GB_E_STATE, "no ReAGent run: call gb_reagent_begin first");
    if (ctx->n_tokens != r->T || memcmp(ctx->tokens, r->orig, sizeof(int32_t) * r->T))
        return GB_FAIL(&ctx->err, GB_E_STATE, "the run's tokens changed since gb_reagent_begin: begin again");
    gb_status s = GB_OK;
    for (int i = 0; i < n && !r->finished && !s; i++) {
        s = one_step(ctx, r);
        if (s) break;
        r->steps++;
        if (r->steps >= r->max_steps) r->finished = 1;
        else if (r->steps >= MIN_STEPS && r->steps % CHECK_EVERY == 0) {
            int yes = 0;
            s = explained(ctx, r, &yes);
            if (yes) r->finished = 1;
        }
    }
    gb_run_replace_tokens(ctx, r->orig); /* the caller's run again (recomputed on the next run) */
    if (steps) *steps = r->steps;
    if (finished) *finished = r->finished;
    return s;
}

gb_status gb_reagent_scores(gb_ctx *ctx, float *scores, int32_t *target) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    gb_reagent *r = ctx->interp ? ctx->interp->reagent : NULL;
    if (!r) return GB_FAIL(&ctx->err, GB_E_STATE, "no ReAGent run: call gb_reagent_begin first");
    for (int i = 0; scores && i < r->T; i++) scores[i] = (float)score_of(r, i);
    if (target) *target = r->target;
    return GB_OK;
}
