/* sample.c — sampling that shows its work, and a draw a learner can check.
 *
 * One step, each stage written out for the UI (llama2.c's split, traced):
 * raw logits -> / temperature -> softmax -> top-k cut -> top-p cut, each cut
 * renormalised, then one uniform u walks the final distribution in the
 * display order (probability descending, ties by logit, then id: the order
 * the page lists rows in) and stops at the first row whose cumulative
 * probability exceeds u. Until December 2026 the walk went in token-id order,
 * so the same seed now draws other tokens than before; the page, the CLI and
 * the JS API all draw this way.
 *
 * No sort of the whole vocabulary: rows are bucketed by the bits of their
 * probability (a counting sort on exponent and 4 mantissa bits, descending),
 * and only the buckets a step actually reaches (the top-k rows, the top-p
 * prefix, the rows u walks past, the rows a view lists) are sorted exactly.
 *
 * The RNG is xorshift64*; the uniform is made from 24 random bits, so native
 * and WASM draw bit-identical numbers. Generated token i uses uniform i of
 * the seed's stream (glassbox.h): the stream position is part of the run. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

void gb_seed(gb_ctx *ctx, uint64_t seed) {
    ctx->seed = seed ? seed : 0x9E3779B97F4A7C15ull; /* xorshift must not start at 0 */
}

static float next_uniform(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    uint64_t r = *s * 0x2545F4914F6CDD1Dull;
    return (float)(r >> 40) * (1.0f / 16777216.0f); /* [0, 1) */
}

float gb_uniform_at(const gb_ctx *ctx, int index) {
    uint64_t s = ctx ? ctx->seed : 1;
    float u = 0;
    for (int i = 0; i <= index; i++) u = next_uniform(&s); /* index < n_positions: a few thousand steps at most */
    return u;
}

int gb_num_prompt_tokens(const gb_ctx *ctx) { return ctx ? ctx->n_prompt : 0; }

float gb_next_uniform(const gb_ctx *ctx) {
    return gb_uniform_at(ctx, ctx ? ctx->n_tokens - ctx->n_prompt : 0);
}

/* ------------------------------------------------------------------ the display order */
typedef struct { float p, logit; int32_t id; } row;

/* Higher probability first, then higher logit, then lower id. The logit
 * breaks ties between probabilities that round equal (logits 0.5 and
 * 0.5 + 6e-8), so the greedy argmax is always first and survives every cut. */
static int before(const row *x, const row *y) {
    if (x->p != y->p) return x->p > y->p;
    if (x->logit != y->logit) return x->logit > y->logit;
    return x->id < y->id;
}
static int by_display_order(const void *a, const void *b) {
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

size_t gb_sample_order_bytes(int vocab) { return sizeof(row) * (size_t)vocab; }

/* Bucket of a probability in [0, 1]: its float bits without the low 19, so
 * bucket order is value order (non-negative floats order as their bits);
 * 1.0f is 0x3F800000 -> 2032 < GB_SAMPLE_BUCKETS. */
static int bucket_of(float p) {
    uint32_t b;
    memcpy(&b, &p, sizeof b);
    int k = (int)(b >> 19);
    return k < GB_SAMPLE_BUCKETS ? k : GB_SAMPLE_BUCKETS - 1;
}

/* Scatters rows into buckets, highest bucket first; start[i] is where the
 * i-th bucket (counted from the top) begins, start[B] = V. O(V). */
static void bucket_rows(row *out, int *start, const float *p, const float *logits, int V) {
    int *count = start; /* counts first, then turned into starts in place */
    memset(count, 0, sizeof(int) * (GB_SAMPLE_BUCKETS + 1));
    for (int i = 0; i < V; i++) count[GB_SAMPLE_BUCKETS - 1 - bucket_of(p[i])]++;
    int at = 0;
    for (int b = 0; b < GB_SAMPLE_BUCKETS; b++) { int n = count[b]; count[b] = at; at += n; }
    count[GB_SAMPLE_BUCKETS] = V;
    int fill[GB_SAMPLE_BUCKETS];
    memcpy(fill, start, sizeof fill);
    for (int i = 0; i < V; i++) {
        int b = GB_SAMPLE_BUCKETS - 1 - bucket_of(p[i]);
        out[fill[b]++] = (row){p[i], logits ? logits[i] : p[i], i};
    }
}

/* Makes sure the first n rows are in display order, sorting whole buckets
 * as they are reached; *sorted tracks how far that has gone. */
static void sort_prefix(row *rows, const int *start, int *sorted, int n) {
    while (*sorted < n) {
        int lo = 0, hi = GB_SAMPLE_BUCKETS - 1; /* the bucket holding row *sorted: start[b] <= it < start[b + 1] */
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (start[mid] <= *sorted) lo = mid; else hi = mid - 1;
        }
        int end = start[lo + 1];
        qsort(rows + *sorted, (size_t)(end - *sorted), sizeof *rows, by_display_order);
        *sorted = end;
    }
}

void gb_top_k_of(const float *p, const float *logits, int V, int k, int32_t *ids, float *probs) {
    /* small k over a large V: one pass keeping a sorted list of the best k */
    row best[64];
    int cap = k < 64 ? k : 64, n = 0;
    if (k > 64) { /* rare (views ask for a handful): bucket the whole vocabulary */
        row *rows = malloc(sizeof(row) * (size_t)V);
        int *start = malloc(sizeof(int) * (GB_SAMPLE_BUCKETS + 1)), sorted = 0;
        if (rows && start) {
            bucket_rows(rows, start, p, logits, V);
            sort_prefix(rows, start, &sorted, k);
            for (int i = 0; i < k; i++) { ids[i] = rows[i].id; probs[i] = rows[i].p; }
        } else {
            for (int i = 0; i < k; i++) { ids[i] = -1; probs[i] = 0; } /* out of memory: nothing ranked */
        }
        free(rows); free(start);
        return;
    }
    for (int i = 0; i < V; i++) {
        row r = {p[i], logits ? logits[i] : p[i], i};
        if (n == cap && !before(&r, &best[n - 1])) continue;
        int j = n < cap ? n++ : n - 1;
        while (j > 0 && before(&r, &best[j - 1])) { best[j] = best[j - 1]; j--; }
        best[j] = r;
    }
    for (int i = 0; i < k; i++) { ids[i] = i < n ? best[i].id : -1; probs[i] = i < n ? best[i].p : 0; }
}

/* ------------------------------------------------------------------ the stages */
static void renormalise(float *p, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += p[i];
    if (sum > 0)
        for (int i = 0; i < n; i++) p[i] = (float)(p[i] / sum);
}

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

gb_status gb_sample_distribution(gb_ctx *ctx, const gb_sample_params *p, gb_sample_trace *tr) {
    if (!ctx || !tr) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    gb_status s = check_params(ctx, p);
    if (s) return s;
    int T = ctx->n_tokens, V = ctx->model.mc.c.vocab_size;
    if (T == 0 || ctx->done[ctx->n_stages - 1] < T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "sampling needs the logits: run every stage first");
    const float *all;
    gb_shape sh;
    if ((s = gb_activation_data(ctx, HOOK_LOGITS, -1, &all, &sh))) return s;
    ctx->sample_valid = 0;
    float *b = ctx->sample_buf;
    float *logits = b, *scaled = b + V, *probs = b + 2 * (size_t)V, *topk = b + 3 * (size_t)V,
          *topp = b + 4 * (size_t)V;
    memcpy(logits, all + (size_t)(T - 1) * V, sizeof(float) * V);
    if ((s = scale_and_softmax(ctx, logits, scaled, probs, V, p->temperature))) return s;

    row *order = ctx->sample_order;
    bucket_rows(order, ctx->sample_bucket, probs, logits, V);
    ctx->sample_sorted = 0;
    int k = (p->top_k == 0 || p->top_k > V) ? V : p->top_k;
    sort_prefix(order, ctx->sample_bucket, &ctx->sample_sorted, k < V ? k : 1);
    memset(topk, 0, sizeof(float) * V);
    if (k == V) memcpy(topk, probs, sizeof(float) * V);
    else for (int i = 0; i < k; i++) topk[order[i].id] = order[i].p;
    renormalise(topk, V);
    /* top-p: the shortest prefix, in display order, whose top-k mass reaches p
     * (top-p 1 keeps every top-k row: no walk, so no sorting) */
    memset(topp, 0, sizeof(float) * V);
    double mass = 0;
    int np = 0;
    if (p->top_p >= 1) { memcpy(topp, topk, sizeof(float) * V); np = k; }
    while (np < k) {
        sort_prefix(order, ctx->sample_bucket, &ctx->sample_sorted, np + 1);
        int32_t id = order[np++].id;
        topp[id] = topk[id];
        mass += topk[id];
        if (mass >= p->top_p) break;
    }
    renormalise(topp, V);
    ctx->sample_valid = 1;
    *tr = (gb_sample_trace){logits, scaled, probs, topk, topp, k, np, -1, 0, 0, 0, 0};
    return GB_OK;
}

gb_status gb_sample_draw(gb_ctx *ctx, const gb_sample_params *p, float u, gb_sample_trace *tr) {
    gb_status s = gb_sample_distribution(ctx, p, tr);
    if (s) return s;
    if (!(u >= 0 && u < 1)) return GB_FAIL(&ctx->err, GB_E_ARG, "u must be in [0, 1), got %g", (double)u);
    const row *order = ctx->sample_order; /* row 0 is sorted by gb_sample_distribution */
    tr->uniform = u;
    if (p->temperature == 0) { /* greedy: the top row, whatever u says */
        tr->token = order[0].id;
        tr->rank = 0;
        tr->cum_before = 0;
        tr->cum_after = tr->top_p[order[0].id];
        return GB_OK;
    }
    /* the survivors are the first n_top_p rows of the order; sorted as the walk reaches them */
    row *order_w = ctx->sample_order;
    double cum = 0;
    int r = 0, last = 0, found = 0;
    for (; r < tr->n_top_p; r++) {
        sort_prefix(order_w, ctx->sample_bucket, &ctx->sample_sorted, r + 1);
        double q = tr->top_p[order_w[r].id];
        if (q <= 0) break; /* rows below are all zero */
        last = r;
        if (u < cum + q) { found = 1; break; }
        cum += q;
    }
    if (!found) { /* rounding left the total just under u: the last row with mass */
        r = last;
        cum -= tr->top_p[order_w[r].id];
    }
    tr->token = order_w[r].id;
    tr->rank = r;
    tr->cum_before = (float)cum;
    tr->cum_after = (float)(cum + tr->top_p[order_w[r].id]);
    return GB_OK;
}

gb_status gb_sample(gb_ctx *ctx, const gb_sample_params *p, gb_sample_trace *tr) {
    return gb_sample_draw(ctx, p, gb_next_uniform(ctx), tr);
}

gb_status gb_sample_rows(gb_ctx *ctx, int n, int32_t *ids, float *cum) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->sample_valid)
        return GB_FAIL(&ctx->err, GB_E_STATE, "no sampling answer to list: call gb_sample_distribution first");
    int V = ctx->model.mc.c.vocab_size;
    if (n < 0 || n > V || (n > 0 && !ids))
        return GB_FAIL(&ctx->err, GB_E_ARG, "sample rows: n must be 0..%d with an output array", V);
    row *order = ctx->sample_order;
    sort_prefix(order, ctx->sample_bucket, &ctx->sample_sorted, n);
    const float *topp = ctx->sample_buf + 4 * (size_t)V;
    double c = 0;
    for (int i = 0; i < n; i++) {
        ids[i] = order[i].id;
        c += topp[order[i].id];
        if (cum) cum[i] = (float)c;
    }
    return GB_OK;
}
