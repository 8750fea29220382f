/* test_sample.c — every stage of a sampling step checked against a
 * double-precision recomputation, determinism per seed, and bad parameters. */
#include <math.h>

#include "check.h"
#include "synth.h"

#define TOL_PROB 1e-6

static gb_sample_trace step(gb_ctx *ctx, float t, int k, float p, gb_status *st) {
    gb_sample_trace tr;
    memset(&tr, 0, sizeof tr);
    gb_sample_params sp = {t, k, p};
    *st = gb_sample(ctx, &sp, &tr);
    return tr;
}

static void check_trace(gb_ctx *ctx, float temp, int k, float top_p) {
    int V = gb_get_config(ctx)->vocab_size;
    gb_status st;
    gb_sample_trace tr = step(ctx, temp, k, top_p, &st);
    CHECK(st == GB_OK, "sample T=%g k=%d p=%g: %s", temp, k, top_p, gb_error_message(ctx));
    if (st) return;
    /* softmax(logits / T) in double */
    double *ref = malloc(sizeof(double) * V), mx = -INFINITY, z = 0, worst = 0;
    double inv = temp > 0 ? 1.0 / temp : 1.0;
    for (int i = 0; i < V; i++) mx = fmax(mx, tr.logits[i] * inv);
    for (int i = 0; i < V; i++) z += (ref[i] = exp(tr.logits[i] * inv - mx));
    for (int i = 0; i < V; i++) {
        worst = fmax(worst, fabs(tr.probs[i] - ref[i] / z));
        worst = fmax(worst, fabs(tr.scaled[i] - tr.logits[i] * inv) / fmax(1, fabs(tr.scaled[i])));
    }
    CHECK(worst < TOL_PROB, "scaled/softmax off by %.3g", worst);
    /* top-k: exactly the k largest survive, renormalised */
    int kk = (k == 0 || k > V) ? V : k, kept = 0;
    double sumk = 0, sump = 0, min_kept = 1, max_dropped = 0;
    for (int i = 0; i < V; i++) {
        if (tr.top_k[i] > 0) { kept++; sumk += tr.top_k[i]; min_kept = fmin(min_kept, tr.probs[i]); }
        else max_dropped = fmax(max_dropped, tr.probs[i]);
    }
    CHECK(kept == kk, "top-k kept %d, want %d", kept, kk);
    CHECK(kk == V || min_kept >= max_dropped, "top-k kept the largest");
    CHECK(fabs(sumk - 1) < 1e-5, "top-k renormalised (%g)", sumk);
    /* top-p: the smallest prefix (by probability) of top-k with mass >= p */
    double mass = 0, smallest = 1;
    int np = 0;
    for (int i = 0; i < V; i++)
        if (tr.top_p[i] > 0) { np++; mass += tr.top_k[i]; sump += tr.top_p[i]; smallest = fmin(smallest, tr.top_k[i]); }
    CHECK(mass >= top_p - 1e-6 || np == kk, "top-p mass %g < %g", mass, top_p);
    CHECK(np == 1 || mass - smallest < top_p, "top-p set not minimal (mass %g, smallest %g)", mass, smallest);
    CHECK(fabs(sump - 1) < 1e-5, "top-p renormalised (%g)", sump);
    CHECK(tr.token >= 0 && tr.token < V && (temp == 0 || tr.top_p[tr.token] > 0), "chosen token survives the cuts");
    if (temp == 0) {
        int arg = 0;
        for (int i = 1; i < V; i++) if (tr.logits[i] > tr.logits[arg]) arg = i;
        CHECK(tr.token == arg, "greedy picks argmax");
    }
    free(ref);
}

static void generate(gb_ctx *ctx, uint64_t seed, int32_t *out, int n) {
    int32_t prompt[4] = {72, 101, 108, 108};
    gb_set_tokens(ctx, prompt, 4);
    gb_seed(ctx, seed);
    gb_sample_params p = {0.9f, 40, 0.95f};
    for (int i = 0; i < n; i++) {
        gb_sample_trace tr;
        gb_run_all(ctx);
        gb_sample(ctx, &p, &tr);
        out[i] = tr.token;
        gb_append_tokens(ctx, &tr.token, 1);
    }
}

int main(void) {
    synth_model m;
    synth_make(&m, 2, 3, 12, 64);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    int32_t ids[5] = {1, 2, 3, 4, 5};
    gb_status st;
    gb_set_tokens(ctx, ids, 5);
    step(ctx, 1, 0, 1, &st);
    CHECK(st == GB_E_STATE, "sampling before the run fails");
    gb_run_all(ctx);
    gb_seed(ctx, 42);
    check_trace(ctx, 1.0f, 0, 1.0f);
    check_trace(ctx, 0.7f, 10, 1.0f);
    check_trace(ctx, 1.3f, 0, 0.5f);
    check_trace(ctx, 0.8f, 40, 0.9f);
    check_trace(ctx, 0.0f, 0, 1.0f);
    check_trace(ctx, 2.0f, 1, 0.3f);
    check_trace(ctx, 1.0f, 100000, 1e-6f);
    float bad_t[] = {NAN, -1.0f, INFINITY};
    for (int i = 0; i < 3; i++) { step(ctx, bad_t[i], 0, 1, &st); CHECK(st == GB_E_ARG, "bad temperature %g", bad_t[i]); }
    float bad_p[] = {0.0f, -0.5f, 1.5f, NAN};
    for (int i = 0; i < 4; i++) { step(ctx, 1, 0, bad_p[i], &st); CHECK(st == GB_E_ARG, "bad top-p %g", bad_p[i]); }
    step(ctx, 1, -1, 1, &st);
    CHECK(st == GB_E_ARG, "negative top-k");
    int32_t a[30], b[30], c[30];
    generate(ctx, 7, a, 30);
    generate(ctx, 7, b, 30);
    generate(ctx, 8, c, 30);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed, same tokens");
    CHECK(memcmp(a, c, sizeof a) != 0, "another seed, other tokens");
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_sample");
}
