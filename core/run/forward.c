/* forward.c — the GPT-2 forward pass, one stage at a time, over a range of positions.
 *
 * Every function computes rows [t0, t1) and writes each intermediate into its
 * hook in the activation store, so running rows [done, T) after appending
 * tokens is incremental decoding: the stored K and V of earlier positions are
 * the KV cache. With keep_all off, a block's internals live in one scratch
 * slot; ctx->scratch_layer/scratch_from say what it holds, and
 * gb_forward_materialize() recomputes a block on demand from its kept input
 * residual (bit-identical: same code, same inputs).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))

/* out[n,N] = x[n,K] @ w + b for a block matrix, split over the pool (par.c). */
static void linear(gb_ctx *ctx, float *out, const float *x, const float *w, const float *b, int n, int K, int N) {
    gb_par_linear(&ctx->par, &ctx->model, out, x, w, b, n, K, N);
}

/* ------------------------------------------------------------------ embed */
/* x0[t] = wte[token[t]] + wpe[t] */
static void embed_rows(gb_ctx *ctx, int t0, int t1) {
    const gb_model *m = &ctx->model;
    int C = m->mc.c.n_embd;
    float *emb = ACT(HOOK_EMBED, -1), *pos = ACT(HOOK_POS_EMBED, -1), *x = ACT(HOOK_RESID_PRE, 0);
    for (int t = t0; t < t1; t++) {
        gb_model_embedding(m, ctx->tokens[t], emb + (size_t)t * C);
        memcpy(pos + (size_t)t * C, m->wpe + (size_t)t * C, sizeof(float) * C);
        for (int i = 0; i < C; i++)
            x[(size_t)t * C + i] = emb[(size_t)t * C + i] + pos[(size_t)t * C + i];
    }
    gb_apply_interventions(ctx, HOOK_RESID_PRE, 0, x, t0, t1);
}

/* ------------------------------------------------------------------ attention */
/* Causal attention for query rows [t0, t1) of head h:
 * scores[h,t,j] = q[t,h].k[j,h] * scale (j <= t), pattern = softmax(scores),
 * z[t,h] = sum_j pattern[h,t,j] v[j,h]. Triangles are packed by query row. */
static void attention_head(gb_ctx *ctx, int layer, int h, int t0, int t1) {
    const gb_model_config *mc = &ctx->model.mc;
    int H = mc->c.n_head, D = mc->c.d_head;
    float scale = gb_attn_scale(mc, layer, D);
    const float *q = ACT(HOOK_Q, layer), *k = ACT(HOOK_K, layer), *v = ACT(HOOK_V, layer);
    float *scores = ACT(HOOK_ATTN_SCORES, layer), *pattern = ACT(HOOK_PATTERN, layer);
    float *z = ACT(HOOK_Z, layer);
    for (int t = t0; t < t1; t++) {
        size_t row = (size_t)H * ((size_t)t * (size_t)(t + 1) / 2);
        float *s = scores + row + (size_t)h * (t + 1), *p = pattern + row + (size_t)h * (t + 1);
        const float *qh = q + ((size_t)t * H + h) * D;
        gb_matvec(s, k + (size_t)h * D, (size_t)H * D, qh, t + 1, D); /* q . k[j], j <= t */
        for (int j = 0; j <= t; j++) s[j] *= scale;
        gb_softmax(p, s, t + 1);
        gb_vecmat(z + ((size_t)t * H + h) * D, p, v + (size_t)h * D, (size_t)H * D, t + 1, D);
    }
}

/* Attention split over the pool: task i is head i % H over the (i / H)-th of
 * nb blocks of query rows, each row's sums whole within one task. */
typedef struct { gb_ctx *ctx; int layer, t0, t1, H, nb; } attn_job;

static void attention_task(void *arg, int i, int worker) {
    (void)worker;
    const attn_job *j = arg;
    int lo, hi;
    gb_par_split(j->t1 - j->t0, j->nb, i / j->H, &lo, &hi);
    if (lo < hi) attention_head(j->ctx, j->layer, i % j->H, j->t0 + lo, j->t0 + hi);
}

static void attention_rows(gb_ctx *ctx, int layer, int t0, int t1) {
    int H = ctx->model.mc.c.n_head, W = ctx->par.n_workers;
    /* enough tasks that the pool's workers share the causal triangle evenly */
    int nb = W > 1 ? (4 * W + H - 1) / H : 1;
    if (nb > t1 - t0) nb = t1 - t0;
    attn_job j = {ctx, layer, t0, t1, H, nb};
    gb_par_for(&ctx->par, attention_task, &j, H * nb);
}

/* Block `layer`, first half: resid_mid = resid_pre + attn(ln1(resid_pre)). */
static void attn_block_rows(gb_ctx *ctx, int layer, int t0, int t1) {
    const gb_model *m = &ctx->model;
    const gb_block_weights *w = &m->h[layer];
    int C = m->mc.c.n_embd, n = t1 - t0;
    const float *x = ACT(HOOK_RESID_PRE, layer) + (size_t)t0 * C;
    float *ln = ACT(HOOK_LN1_NORM, layer) + (size_t)t0 * C;
    gb_layernorm(ln, ACT(HOOK_LN1_SCALE, layer) + t0, x, w->ln_1_w, w->ln_1_b, n, C,
                 m->mc.c.layer_norm_epsilon);
    float *qkv = ctx->qkv; /* [n, 3C]: q | k | v per row */
    linear(ctx, qkv, ln, w->c_attn_w, w->c_attn_b, n, C, 3 * C);
    float *q = ACT(HOOK_Q, layer), *k = ACT(HOOK_K, layer), *v = ACT(HOOK_V, layer);
    for (int i = 0; i < n; i++) {
        size_t dst = (size_t)(t0 + i) * C;
        memcpy(q + dst, qkv + (size_t)i * 3 * C, sizeof(float) * C);
        memcpy(k + dst, qkv + (size_t)i * 3 * C + C, sizeof(float) * C);
        memcpy(v + dst, qkv + (size_t)i * 3 * C + 2 * C, sizeof(float) * C);
    }
    attention_rows(ctx, layer, t0, t1);
    float *z = ACT(HOOK_Z, layer);
    gb_apply_interventions(ctx, HOOK_Z, layer, z, t0, t1);
    float *out = ACT(HOOK_ATTN_OUT, layer) + (size_t)t0 * C;
    linear(ctx, out, z + (size_t)t0 * C, w->attn_c_proj_w, w->attn_c_proj_b, n, C, C);
    gb_apply_interventions(ctx, HOOK_ATTN_OUT, layer, ACT(HOOK_ATTN_OUT, layer), t0, t1);
    float *mid = ACT(HOOK_RESID_MID, layer) + (size_t)t0 * C;
    for (size_t i = 0; i < (size_t)n * C; i++) mid[i] = x[i] + out[i];
}

/* ------------------------------------------------------------------ MLP */
/* Block `layer`, second half: resid_post = resid_mid + mlp(ln2(resid_mid)). */
static void mlp_block_rows(gb_ctx *ctx, int layer, int t0, int t1) {
    const gb_model *m = &ctx->model;
    const gb_block_weights *w = &m->h[layer];
    int C = m->mc.c.n_embd, M = m->mc.c.d_mlp, n = t1 - t0;
    const float *mid = ACT(HOOK_RESID_MID, layer) + (size_t)t0 * C;
    float *ln = ACT(HOOK_LN2_NORM, layer) + (size_t)t0 * C;
    gb_layernorm(ln, ACT(HOOK_LN2_SCALE, layer) + t0, mid, w->ln_2_w, w->ln_2_b, n, C,
                 m->mc.c.layer_norm_epsilon);
    float *pre = ACT(HOOK_MLP_PRE, layer) + (size_t)t0 * M;
    float *post = ACT(HOOK_MLP_POST, layer) + (size_t)t0 * M;
    linear(ctx, pre, ln, w->c_fc_w, w->c_fc_b, n, C, M);
    gb_par_gelu(&ctx->par, post, pre, (size_t)n * M, m->mc.act == GB_ACT_GELU_ERF);
    float *out = ACT(HOOK_MLP_OUT, layer) + (size_t)t0 * C;
    linear(ctx, out, post, w->mlp_c_proj_w, w->mlp_c_proj_b, n, M, C);
    gb_apply_interventions(ctx, HOOK_MLP_OUT, layer, ACT(HOOK_MLP_OUT, layer), t0, t1);
    float *res = ACT(HOOK_RESID_POST, layer) + (size_t)t0 * C;
    for (size_t i = 0; i < (size_t)n * C; i++) res[i] = mid[i] + out[i];
    if (layer + 1 < m->mc.c.n_layer) {
        memcpy(ACT(HOOK_RESID_PRE, layer + 1) + (size_t)t0 * C, res, sizeof(float) * n * C);
        gb_apply_interventions(ctx, HOOK_RESID_PRE, layer + 1, ACT(HOOK_RESID_PRE, layer + 1), t0, t1);
    }
}

/* ------------------------------------------------------------------ final */
/* ln_final for rows [t0, t1), and the logits of the last row only: the next
 * token needs no other, and the LM head over every row was ~30% of a
 * 64-token prompt's FLOPs. Rows [ctx->logits_from, t1) of the logits hook
 * hold logits; gb_forward_logits computes earlier rows when someone reads
 * them (activations.c), from the kept ln_final rows: the same kernel on the
 * same inputs, so the same bits as computing them here. With keep_all off
 * the hook's store is the last row alone and earlier rows live in
 * logits_all, whose rows from t0 on this run makes stale. */
static void final_rows(gb_ctx *ctx, int t0, int t1) {
    const gb_model *m = &ctx->model;
    int C = m->mc.c.n_embd, V = m->mc.c.vocab_size, n = t1 - t0;
    const float *x = ACT(HOOK_RESID_POST, m->mc.c.n_layer - 1) + (size_t)t0 * C;
    float *ln = ACT(HOOK_LNF_NORM, -1) + (size_t)t0 * C;
    gb_layernorm(ln, ACT(HOOK_LNF_SCALE, -1) + t0, x, m->ln_f_w, m->ln_f_b, n, C,
                 m->mc.c.layer_norm_epsilon);
    if (!ctx->acts.keep_all) {
        gb_par_lm_head(&ctx->par, m, ACT(HOOK_LOGITS, -1), ln + (size_t)(n - 1) * C, 1);
        if (ctx->logits_all_rows > t0) ctx->logits_all_rows = t0;
        return;
    }
    gb_par_lm_head(&ctx->par, m, ACT(HOOK_LOGITS, -1) + (size_t)(t1 - 1) * V, ln + (size_t)(n - 1) * C, 1);
    /* still one run of valid rows when this step adds just the next one */
    if (t0 != t1 - 1 || ctx->logits_from > t0) ctx->logits_from = t1 - 1;
}

static gb_status need_logits(gb_ctx *ctx) {
    int T = ctx->n_tokens;
    if (T == 0 || ctx->done[ctx->n_stages - 1] < T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "the logits need every stage run first");
    return GB_OK;
}

/* keep_all off: every position's logits in logits_all, rows computed from
 * the kept ln_final as gb_forward_logits does with keep_all on. */
static gb_status all_logits_low_memory(gb_ctx *ctx, const float **logits) {
    const gb_model *m = &ctx->model;
    int T = ctx->n_tokens, C = m->mc.c.n_embd, V = m->mc.c.vocab_size;
    if (ctx->logits_all_cap < T) {
        int cap = ctx->acts.cap > T ? ctx->acts.cap : T;
        float *all = realloc(ctx->logits_all, sizeof(float) * (size_t)cap * (size_t)V);
        if (!all)
            return GB_FAIL(&ctx->err, GB_E_OOM,
                           "out of memory: every position's logits need %.0f MB (read one position's top tokens "
                           "instead, or turn keep-all on)", (double)T * V * sizeof(float) / 1e6);
        ctx->logits_all = all;
        ctx->logits_all_cap = cap;
    }
    int r = ctx->logits_all_rows;
    if (r < T - 1)
        gb_par_lm_head(&ctx->par, m, ctx->logits_all + (size_t)r * V, ACT(HOOK_LNF_NORM, -1) + (size_t)r * C, T - 1 - r);
    ctx->logits_all_rows = T - 1;
    memcpy(ctx->logits_all + (size_t)(T - 1) * V, ACT(HOOK_LOGITS, -1), sizeof(float) * V);
    *logits = ctx->logits_all;
    return GB_OK;
}

gb_status gb_forward_logits(gb_ctx *ctx, int t0, const float **logits) {
    gb_status s = need_logits(ctx);
    if (s) return s;
    if (!ctx->acts.keep_all) return all_logits_low_memory(ctx, logits);
    if (t0 < 0) t0 = 0;
    if (t0 < ctx->logits_from) {
        const gb_model *m = &ctx->model;
        int C = m->mc.c.n_embd, V = m->mc.c.vocab_size;
        gb_par_lm_head(&ctx->par, m, ACT(HOOK_LOGITS, -1) + (size_t)t0 * V, ACT(HOOK_LNF_NORM, -1) + (size_t)t0 * C,
                       ctx->logits_from - t0);
        ctx->logits_from = t0;
    }
    *logits = ACT(HOOK_LOGITS, -1);
    return GB_OK;
}

gb_status gb_forward_logits_row(gb_ctx *ctx, int t, const float **row) {
    gb_status s = need_logits(ctx);
    if (s) return s;
    const gb_model *m = &ctx->model;
    int T = ctx->n_tokens, C = m->mc.c.n_embd, V = m->mc.c.vocab_size;
    if (ctx->acts.keep_all) {
        const float *all;
        if ((s = gb_forward_logits(ctx, t, &all))) return s;
        *row = all + (size_t)t * V;
    } else if (t == T - 1) {
        *row = ACT(HOOK_LOGITS, -1);
    } else if (t < ctx->logits_all_rows) {
        *row = ctx->logits_all + (size_t)t * V;
    } else { /* one row: the decode kernel, as the last row's (same bits) */
        float *out = ctx->lens_buf + V;
        gb_par_lm_head(&ctx->par, m, out, ACT(HOOK_LNF_NORM, -1) + (size_t)t * C, 1);
        *row = out;
    }
    return GB_OK;
}

/* ------------------------------------------------------------------ scratch bookkeeping */
static void note_scratch(gb_ctx *ctx, int layer, int t0) {
    if (ctx->acts.keep_all) return;
    if (ctx->scratch_layer != layer || t0 < ctx->scratch_from) {
        ctx->scratch_layer = layer;
        ctx->scratch_from = t0;
    }
}

static void run_attn(gb_ctx *ctx, int layer, int t0, int t1) {
    attn_block_rows(ctx, layer, t0, t1);
    note_scratch(ctx, layer, t0);
}

/* The MLP reads resid_mid; without keep_all it may have left the scratch. */
static void run_mlp(gb_ctx *ctx, int layer, int t0, int t1) {
    if (!ctx->acts.keep_all && (ctx->scratch_layer != layer || ctx->scratch_from > t0))
        run_attn(ctx, layer, t0, t1);
    mlp_block_rows(ctx, layer, t0, t1);
}

gb_status gb_forward_stage(gb_ctx *ctx, int s) {
    int T = ctx->n_tokens, t0 = ctx->done[s];
    if (s > 0 && ctx->done[s - 1] < T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "stage %d cannot run before stage %d has run", s, s - 1);
    if (t0 >= T) return GB_OK;
    int n_layer = ctx->model.mc.c.n_layer;
    if (s == 0) embed_rows(ctx, t0, T);
    else if (s == 1 + 2 * n_layer) final_rows(ctx, t0, T);
    else if (s % 2 == 1) run_attn(ctx, (s - 1) / 2, t0, T);
    else run_mlp(ctx, (s - 2) / 2, t0, T);
    ctx->done[s] = T;
    return GB_OK;
}

gb_status gb_forward_materialize(gb_ctx *ctx, int layer) {
    if (ctx->acts.keep_all || (ctx->scratch_layer == layer && ctx->scratch_from == 0)) return GB_OK;
    int a = ctx->done[gb_stage_attn(layer)], m = ctx->done[gb_stage_mlp(layer)];
    if (a > 0) run_attn(ctx, layer, 0, a);
    if (m > 0) mlp_block_rows(ctx, layer, 0, m);
    ctx->scratch_layer = layer;
    ctx->scratch_from = 0;
    return GB_OK;
}

void gb_invalidate_from(gb_ctx *ctx, int stage) {
    for (int s = stage; s < ctx->n_stages; s++) ctx->done[s] = 0;
    if (!ctx->acts.keep_all) ctx->scratch_layer = -1;
}
