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

/* The display order under construction: rows scattered into buckets (highest
 * first; bucket b is rows[start[b], start[b + 1])), each bucket sorted only
 * when something needs its exact order (done[b]). */
typedef struct { row *rows; int *start, *done; } order_t;

static order_t order_of(gb_ctx *ctx) {
    int *b = ctx->sample_bucket;
    return (order_t){ctx->sample_order, b, b + GB_SAMPLE_BUCKETS + 1};
}

/* Scatters rows into buckets, highest bucket first. O(V). */
static void bucket_rows(order_t o, const float *p, const float *logits, int V) {
    int *count = o.start; /* counts first, then turned into starts in place */
    memset(count, 0, sizeof(int) * (GB_SAMPLE_BUCKETS + 1));
    memset(o.done, 0, sizeof(int) * GB_SAMPLE_BUCKETS);
    for (int i = 0; i < V; i++) count[GB_SAMPLE_BUCKETS - 1 - bucket_of(p[i])]++;
    int at = 0;
    for (int b = 0; b < GB_SAMPLE_BUCKETS; b++) { int n = count[b]; count[b] = at; at += n; }
    count[GB_SAMPLE_BUCKETS] = V;
    int fill[GB_SAMPLE_BUCKETS];
    memcpy(fill, o.start, sizeof fill);
    for (int i = 0; i < V; i++) {
        int b = GB_SAMPLE_BUCKETS - 1 - bucket_of(p[i]);
        o.rows[fill[b]++] = (row){p[i], logits ? logits[i] : p[i], i};
    }
}

/* The bucket holding row r: the last b with start[b] <= r. */
static int bucket_at(const int *start, int r) {
    int lo = 0, hi = GB_SAMPLE_BUCKETS - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (start[mid] <= r) lo = mid; else hi = mid - 1;
    }
    return lo;
}

static void sort_bucket(order_t o, int b) {
    if (o.done[b]) return;
    qsort(o.rows + o.start[b], (size_t)(o.start[b + 1] - o.start[b]), sizeof(row), by_display_order);
    o.done[b] = 1;
}

/* Puts the first n rows in display order (whole buckets). */
static void sort_rows(order_t o, int n) {
    for (int r = 0; r < n;) {
        int b = bucket_at(o.start, r);
        sort_bucket(o, b);
        r = o.start[b + 1];
    }
}

/* Walks rows [0, limit) in display order summing vals[id] (double) and
 * returns the first row where the sum reaches target (ge: >=, else >), or -1;
 * *before gets the sum of the rows above it. Whole buckets that keep the sum
 * short of the target are added without being sorted: their rows are above
 * the answer whatever their order. A partial last bucket must be sorted. */
static int walk(order_t o, const float *vals, int limit, double target, int ge, double *before) {
    double cum = 0;
    for (int r = 0; r < limit;) {
        int b = bucket_at(o.start, r), end = o.start[b + 1] < limit ? o.start[b + 1] : limit;
        double m = 0;
        for (int i = r; i < end; i++) m += vals[o.rows[i].id];
        if (!(ge ? cum + m >= target : cum + m > target)) { cum += m; r = end; continue; }
        sort_bucket(o, b);
        for (int i = r; i < end; i++) {
            double q = vals[o.rows[i].id];
            if (ge ? cum + q >= target : cum + q > target) { *before = cum; return i; }
            cum += q;
        }
        *before = cum - vals[o.rows[end - 1].id]; /* the bucket's sum and the row-by-row sum rounded apart */
        return end - 1;
    }
    *before = cum;
    return -1;
}

void gb_top_k_of(const float *p, const float *logits, int V, int k, int32_t *ids, float *probs) {
    /* small k over a large V: one pass keeping a sorted list of the best k */
    row best[64];
    int cap = k < 64 ? k : 64, n = 0;
    if (k > 64) { /* rare (views ask for a handful): bucket the whole vocabulary */
        row *rows = malloc(sizeof(row) * (size_t)V);
        int *start = malloc(sizeof(int) * (2 * GB_SAMPLE_BUCKETS + 1));
        if (rows && start) {
            order_t o = {rows, start, start + GB_SAMPLE_BUCKETS + 1};
            bucket_rows(o, p, logits, V);
            sort_rows(o, k);
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
    const float *final_row;
    if ((s = gb_forward_logits_row(ctx, T - 1, &final_row))) return s;
    ctx->sample_valid = 0;
    float *b = ctx->sample_buf;
    float *logits = b, *scaled = b + V, *probs = b + 2 * (size_t)V, *topk = b + 3 * (size_t)V,
          *topp = b + 4 * (size_t)V;
    memcpy(logits, final_row, sizeof(float) * V);
    if ((s = scale_and_softmax(ctx, logits, scaled, probs, V, p->temperature))) return s;

    order_t o = order_of(ctx);
    bucket_rows(o, probs, logits, V);
    int k = (p->top_k == 0 || p->top_k > V) ? V : p->top_k;
    sort_rows(o, k < V ? k : 1); /* the top-k set (and row 0, the greedy pick) */
    memset(topk, 0, sizeof(float) * V);
    if (k == V) memcpy(topk, probs, sizeof(float) * V);
    else for (int i = 0; i < k; i++) topk[o.rows[i].id] = o.rows[i].p;
    renormalise(topk, V);
    /* top-p: the shortest prefix of the top-k rows, in display order, whose
     * mass reaches p (top-p 1 keeps them all) */
    memset(topp, 0, sizeof(float) * V);
    double above;
    int last = p->top_p >= 1 ? -1 : walk(o, topk, k, p->top_p, 1, &above);
    int np = last < 0 ? k : last + 1;
    if (np == V) memcpy(topp, topk, sizeof(float) * V);
    else for (int i = 0; i < np; i++) topp[o.rows[i].id] = topk[o.rows[i].id];
    renormalise(topp, V);
    ctx->sample_valid = 1;
    *tr = (gb_sample_trace){logits, scaled, probs, topk, topp, k, np, -1, 0, 0, 0, 0};
    return GB_OK;
}

gb_status gb_sample_draw(gb_ctx *ctx, const gb_sample_params *p, float u, gb_sample_trace *tr) {
    gb_status s = gb_sample_distribution(ctx, p, tr);
    if (s) return s;
    if (!(u >= 0 && u < 1)) return GB_FAIL(&ctx->err, GB_E_ARG, "u must be in [0, 1), got %g", (double)u);
    order_t o = order_of(ctx);
    tr->uniform = u;
    int r;
    double cum = 0;
    if (p->temperature == 0) r = 0; /* greedy: the top row (sorted above), whatever u says */
    else if ((r = walk(o, tr->top_p, tr->n_top_p, u, 0, &cum)) < 0) {
        /* rounding left the total just under u: the last row with mass */
        sort_rows(o, tr->n_top_p);
        for (r = tr->n_top_p - 1; r > 0 && tr->top_p[o.rows[r].id] <= 0; r--) {}
        cum = 0;
        for (int i = 0; i < r; i++) cum += tr->top_p[o.rows[i].id];
    }
    tr->token = o.rows[r].id;
    tr->rank = r;
    tr->cum_before = (float)cum;
    tr->cum_after = (float)(cum + tr->top_p[o.rows[r].id]);
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
    order_t o = order_of(ctx);
    sort_rows(o, n);
    const float *topp = ctx->sample_buf + 4 * (size_t)V;
    double c = 0;
    for (int i = 0; i < n; i++) {
        ids[i] = o.rows[i].id;
        c += topp[o.rows[i].id];
        if (cum) cum[i] = (float)c;
    }
    return GB_OK;
}
