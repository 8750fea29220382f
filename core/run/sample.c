/* sample.c — sampling that shows its work.
 *
 * One step, each stage written out for the UI (llama2.c's split, traced):
 * raw logits -> / temperature -> softmax -> top-k cut -> top-p cut, each cut
 * renormalised, then one uniform draw walks the final distribution in token
 * order. The RNG is xorshift64* owned by the handle, and the uniform is made
 * from 24 random bits, so native and WASM draw bit-identical numbers. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

void gb_seed(gb_ctx *ctx, uint64_t seed) {
    ctx->rng = seed ? seed : 0x9E3779B97F4A7C15ull; /* xorshift must not start at 0 */
}

static float next_uniform(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    uint64_t r = *s * 0x2545F4914F6CDD1Dull;
    return (float)(r >> 40) * (1.0f / 16777216.0f); /* [0, 1) */
}

static void renormalise(float *p, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += p[i];
    if (sum > 0)
        for (int i = 0; i < n; i++) p[i] = (float)(p[i] / sum);
}

/* Sort order for the cuts: higher probability first, then higher logit, then
 * lower id. The logit breaks ties between probabilities that round equal
 * (logits 0.5 and 0.5 + 6e-8), so the greedy argmax is always first and
 * survives every cut (fuzz_sample found a greedy token outside top-p). The
 * keys travel with the id so qsort needs no global context. */
typedef struct { float p, logit; int32_t id; } prob_id;
static int by_prob_desc(const void *a, const void *b) {
    const prob_id *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

size_t gb_sample_order_bytes(int vocab) { return sizeof(prob_id) * (size_t)vocab; }

static gb_status check_params(gb_ctx *ctx, const gb_sample_params *p) {
    if (!p) return GB_FAIL(&ctx->err, GB_E_ARG, "sampling parameters are NULL");
    if (!isfinite(p->temperature) || p->temperature < 0)
        return GB_FAIL(&ctx->err, GB_E_ARG, "temperature must be a finite number >= 0 (0 = greedy), got %g",
                       (double)p->temperature);
    if (p->top_k < 0)
        return GB_FAIL(&ctx->err, GB_E_ARG, "top-k must be >= 0 (0 = off), got %d", p->top_k);
    if (!(p->top_p > 0 && p->top_p <= 1))
        return GB_FAIL(&ctx->err, GB_E_ARG, "top-p must be in (0, 1] (1 = off), got %g", (double)p->top_p);
    return GB_OK;
}

/* top-k then top-p over probs, into the trace's buffers (order is scratch, [V]). */
static void apply_cuts(const float *logits, float *probs, float *topk, float *topp, prob_id *order, int V,
                       const gb_sample_params *p) {
    for (int i = 0; i < V; i++) { order[i].p = probs[i]; order[i].logit = logits[i]; order[i].id = i; }
    qsort(order, (size_t)V, sizeof *order, by_prob_desc);
    int k = (p->top_k == 0 || p->top_k > V) ? V : p->top_k;
    memset(topk, 0, sizeof(float) * V);
    for (int i = 0; i < k; i++) topk[order[i].id] = order[i].p;
    renormalise(topk, V);
    memset(topp, 0, sizeof(float) * V);
    double mass = 0;
    for (int i = 0; i < k; i++) { /* sorted order is also topk's order */
        int32_t id = order[i].id;
        topp[id] = topk[id];
        mass += topk[id];
        if (mass >= p->top_p) break;
    }
    renormalise(topp, V);
}

/* scaled = logits / T and probs = softmax(scaled). Non-finite logits (weights
 * that overflow) have no distribution: GB_E_RANGE. A tiny T that is still
 * finite and > 0 (1e-40) makes logits / T overflow float32, and the float
 * softmax would give inf - inf = NaN (fuzz_sample found it): then the softmax
 * is taken in double from the max, exp((l - max) / T), and scaled is clamped
 * to +-FLT_MAX for the trace. */
static gb_status scale_and_softmax(gb_ctx *ctx, const float *logits, float *scaled, float *probs, int V,
                                   float temperature) {
    for (int i = 0; i < V; i++)
        if (!isfinite(logits[i]))
            return GB_FAIL(&ctx->err, GB_E_RANGE,
                           "logit %d is %g: the model's weights or activations overflowed, so there is no "
                           "distribution to sample from", i, (double)logits[i]);
    float inv = temperature > 0 ? 1.0f / temperature : 1.0f;
    int ok = isfinite(inv);
    for (int i = 0; i < V && ok; i++) ok = isfinite(scaled[i] = logits[i] * inv);
    if (ok) {
        gb_softmax(probs, scaled, V);
        return GB_OK;
    }
    double mx = logits[0], sum = 0;
    for (int i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    for (int i = 0; i < V; i++) {
        double q = (double)logits[i] / temperature, d = exp(((double)logits[i] - mx) / temperature);
        scaled[i] = (float)(q > FLT_MAX ? FLT_MAX : q < -FLT_MAX ? -FLT_MAX : q);
        probs[i] = (float)d;
        sum += d;
    }
    for (int i = 0; i < V; i++) probs[i] = (float)(probs[i] / sum);
    return GB_OK;
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

gb_status gb_sample(gb_ctx *ctx, const gb_sample_params *p, gb_sample_trace *tr) {
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    gb_status s = check_params(ctx, p);
    if (s) return s;
    int T = ctx->n_tokens, V = ctx->model.mc.c.vocab_size;
    if (T == 0 || ctx->done[ctx->n_stages - 1] < T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "sampling needs the logits: run every stage first");
    float *b = ctx->sample_buf;
    float *logits = b, *scaled = b + V, *probs = b + 2 * (size_t)V, *topk = b + 3 * (size_t)V,
          *topp = b + 4 * (size_t)V;
    memcpy(logits, gb_acts_ptr(&ctx->acts, HOOK_LOGITS, -1) + (size_t)(T - 1) * V, sizeof(float) * V);
    if ((s = scale_and_softmax(ctx, logits, scaled, probs, V, p->temperature))) return s;
    apply_cuts(logits, probs, topk, topp, (prob_id *)ctx->sample_order, V, p);
    tr->logits = logits; tr->scaled = scaled; tr->probs = probs; tr->top_k = topk; tr->top_p = topp;
    if (p->temperature == 0) {
        tr->token = argmax(logits, V);
        tr->uniform = 0;
        return GB_OK;
    }
    float u = next_uniform(&ctx->rng), cdf = 0;
    int32_t last = 0;
    tr->token = -1;
    for (int i = 0; i < V && tr->token < 0; i++) {
        if (topp[i] <= 0) continue;
        last = i;
        cdf += topp[i];
        if (u < cdf) tr->token = i;
    }
    if (tr->token < 0) tr->token = last; /* rounding left cdf just under u */
    tr->uniform = u;
    return GB_OK;
}
