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
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))

/* out[n,N] = x[n,K] @ w + b for a block matrix (packed at load when it could be). */
static void linear(const gb_model *m, float *out, const float *x, const float *w, const float *b,
                   int n, int K, int N) {
    if (m->packed) gb_matmul_packed(out, x, w, b, n, K, N);
    else gb_matmul(out, x, w, b, n, K, N);
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
/* Causal attention for query rows [t0, t1) of every head:
 * scores[h,t,j] = q[t,h].k[j,h] * scale (j <= t), pattern = softmax(scores),
 * z[t,h] = sum_j pattern[h,t,j] v[j,h]. Triangles are packed by query row. */
static void attention_rows(gb_ctx *ctx, int layer, int t0, int t1) {
    const gb_model_config *mc = &ctx->model.mc;
    int H = mc->c.n_head, D = mc->c.d_head;
    float scale = gb_attn_scale(mc, layer, D);
    const float *q = ACT(HOOK_Q, layer), *k = ACT(HOOK_K, layer), *v = ACT(HOOK_V, layer);
    float *scores = ACT(HOOK_ATTN_SCORES, layer), *pattern = ACT(HOOK_PATTERN, layer);
    float *z = ACT(HOOK_Z, layer);
    for (int t = t0; t < t1; t++) {
        size_t row = (size_t)H * ((size_t)t * (size_t)(t + 1) / 2);
        for (int h = 0; h < H; h++) {
            float *s = scores + row + (size_t)h * (t + 1), *p = pattern + row + (size_t)h * (t + 1);
            const float *qh = q + ((size_t)t * H + h) * D;
            gb_matvec(s, k + (size_t)h * D, (size_t)H * D, qh, t + 1, D); /* q . k[j], j <= t */
            for (int j = 0; j <= t; j++) s[j] *= scale;
            gb_softmax(p, s, t + 1);
            gb_vecmat(z + ((size_t)t * H + h) * D, p, v + (size_t)h * D, (size_t)H * D, t + 1, D);
        }
    }
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
    linear(m, qkv, ln, w->c_attn_w, w->c_attn_b, n, C, 3 * C);
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
    linear(m, out, z + (size_t)t0 * C, w->attn_c_proj_w, w->attn_c_proj_b, n, C, C);
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
    linear(m, pre, ln, w->c_fc_w, w->c_fc_b, n, C, M);
    if (m->mc.act == GB_ACT_GELU_ERF) gb_gelu_erf(post, pre, (size_t)n * M);
    else gb_gelu(post, pre, (size_t)n * M);
    float *out = ACT(HOOK_MLP_OUT, layer) + (size_t)t0 * C;
    linear(m, out, post, w->mlp_c_proj_w, w->mlp_c_proj_b, n, M, C);
    gb_apply_interventions(ctx, HOOK_MLP_OUT, layer, ACT(HOOK_MLP_OUT, layer), t0, t1);
    float *res = ACT(HOOK_RESID_POST, layer) + (size_t)t0 * C;
    for (size_t i = 0; i < (size_t)n * C; i++) res[i] = mid[i] + out[i];
    if (layer + 1 < m->mc.c.n_layer) {
        memcpy(ACT(HOOK_RESID_PRE, layer + 1) + (size_t)t0 * C, res, sizeof(float) * n * C);
        gb_apply_interventions(ctx, HOOK_RESID_PRE, layer + 1, ACT(HOOK_RESID_PRE, layer + 1), t0, t1);
    }
}

/* ------------------------------------------------------------------ final */
/* logits = ln_f(resid_post[last]) @ wte^T (or the untied lm_head) */
static void final_rows(gb_ctx *ctx, int t0, int t1) {
    const gb_model *m = &ctx->model;
    int C = m->mc.c.n_embd, V = m->mc.c.vocab_size, n = t1 - t0;
    const float *x = ACT(HOOK_RESID_POST, m->mc.c.n_layer - 1) + (size_t)t0 * C;
    float *ln = ACT(HOOK_LNF_NORM, -1) + (size_t)t0 * C;
    gb_layernorm(ln, ACT(HOOK_LNF_SCALE, -1) + t0, x, m->ln_f_w, m->ln_f_b, n, C,
                 m->mc.c.layer_norm_epsilon);
    gb_model_lm_head(m, ACT(HOOK_LOGITS, -1) + (size_t)t0 * V, ln, n);
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
