/* sparsity.c — MLP sparsity ("The Lazy Neuron Phenomenon"): the share of
 * active neurons per block and position, the most active neurons, and what a
 * neuron writes, read as tokens (its output weights through the unembedding).
 * glassbox.h, "interpretability tools". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/interp.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))

static gb_status ready(gb_ctx *ctx) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    if (ctx->n_tokens == 0) return GB_FAIL(&ctx->err, GB_E_STATE, "no tokens: set the run's prompt first");
    return gb_run_until(ctx, gb_last_block_stage(ctx));
}

/* Inserts (id, v) into the descending top-k list ids/vals holding *n entries. */
static void top_insert(int32_t *ids, float *vals, int *n, int k, int32_t id, float v) {
    if (*n == k && !(v > vals[k - 1])) return;
    int j = *n < k ? (*n)++ : k - 1;
    while (j > 0 && v > vals[j - 1]) { ids[j] = ids[j - 1]; vals[j] = vals[j - 1]; j--; }
    ids[j] = id;
    vals[j] = v;
}

gb_status gb_mlp_sparsity(gb_ctx *ctx, float threshold, float *active, float *above) {
    gb_status s = ready(ctx);
    if (s) return s;
    if (!active || !above || !(threshold >= 0))
        return GB_FAIL(&ctx->err, GB_E_ARG, "gb_mlp_sparsity: threshold >= 0 and two output arrays");
    const gb_config *c = &ctx->model.mc.c;
    int M = c->d_mlp, T = ctx->n_tokens;
    for (int l = 0; l < c->n_layer; l++) {
        gb_forward_materialize(ctx, l);
        const float *post = ACT(HOOK_MLP_POST, l);
        for (int t = 0; t < T; t++) {
            int na = 0, nb = 0;
            for (int i = 0; i < M; i++) {
                float v = post[(size_t)t * M + i];
                na += v > 0;
                nb += v > threshold;
            }
            active[(size_t)l * T + t] = (float)na / (float)M;
            above[(size_t)l * T + t] = (float)nb / (float)M;
        }
    }
    return GB_OK;
}

gb_status gb_mlp_top_neurons(gb_ctx *ctx, int layer, int pos, int k, int32_t *ids, float *acts) {
    gb_status s = ready(ctx);
    if (s) return s;
    const gb_config *c = &ctx->model.mc.c;
    int M = c->d_mlp, T = ctx->n_tokens;
    int kmax = M < 1024 ? M : 1024;
    if (layer < 0 || layer >= c->n_layer || pos < -1 || pos >= T || k < 1 || k > kmax || !ids || !acts)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "top neurons: block 0..%d, position -1..%d, k 1..%d", c->n_layer - 1,
                       T - 1, kmax);
    gb_forward_materialize(ctx, layer);
    const float *post = ACT(HOOK_MLP_POST, layer);
    int n = 0;
    for (int i = 0; i < M; i++) {
        float v = -INFINITY;
        for (int t = pos < 0 ? 0 : pos; t < (pos < 0 ? T : pos + 1); t++)
            if (post[(size_t)t * M + i] > v) v = post[(size_t)t * M + i];
        top_insert(ids, acts, &n, k, i, v);
    }
    return GB_OK;
}

gb_status gb_neuron_top_tokens(gb_ctx *ctx, int layer, int neuron, int k, int32_t *ids, float *values) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    const gb_model *m = &ctx->model;
    const gb_config *c = &m->mc.c;
    int C = c->n_embd, M = c->d_mlp, V = c->vocab_size;
    int kmax = V < 1024 ? V : 1024; /* a sorted insertion list: k stays small */
    if (layer < 0 || layer >= c->n_layer || neuron < 0 || neuron >= M || k < 1 || k > kmax || !ids || !values)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "neuron %d.%d does not exist (blocks 0..%d, neurons 0..%d), or k "
                       "is not 1..%d", layer, neuron, c->n_layer - 1, M - 1, kmax);
    float row[GB_MAX_EMBD];
    for (int n = 0; n < C; n++) row[n] = gb_weight_at(m, m->h[layer].mlp_c_proj_w, M, C, neuron, n);
    float *logits = malloc(sizeof(float) * (size_t)V);
    if (!logits) return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for the neuron's %d token scores", V);
    gb_model_lm_head(m, logits, row, 1);
    int n = 0;
    for (int v = 0; v < V; v++) top_insert(ids, values, &n, k, v, logits[v]);
    free(logits);
    return GB_OK;
}
