/* test_fuzz_regressions.c — every bug the fuzzers (tests/fuzz/) found, as a
 * plain test, so it runs under ASan/UBSan and Valgrind with the other suites
 * even where clang and libFuzzer are not installed. Each case names the
 * target that found it; the raw crash inputs are also kept in
 * tests/fuzz/regressions/<target>/ and replayed by tests/fuzz/run.sh. */
#include <float.h>
#include <math.h>

#include "check.h"
#include "synth.h"

/* fuzz_config: layer_norm_epsilon 1e-85 is > 0 as a double but 0.0f as a
 * float, and a zero epsilon divides by zero on a constant row. */
static void eps_underflow(gb_ctx *ctx, const synth_model *m) {
    const char *cfg = "{\"n_layer\":1,\"n_head\":2,\"n_embd\":8,\"n_positions\":16,\"vocab_size\":256,"
                      "\"layer_norm_epsilon\":1e-85}";
    gb_status s = gb_load_model(ctx, (const uint8_t *)cfg, strlen(cfg), m->st, m->st_len, (const uint8_t *)m->vocab,
                                m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
    CHECK(s == GB_E_RANGE && strstr(gb_error_message(ctx), "layer_norm_epsilon"), "eps 1e-85: %s %s",
          gb_status_name(s), gb_error_message(ctx));
}

static gb_status sample(gb_ctx *ctx, float t, int k, float p, gb_sample_trace *tr) {
    gb_sample_params sp = {t, k, p};
    return gb_sample(ctx, &sp, tr);
}

/* fuzz_sample: a temperature that is finite and > 0 but so small that 1/T
 * overflows float (1e-40) gave inf - inf = NaN probabilities, and a token
 * that survived no cut. The limit is greedy. */
static void tiny_temperature(gb_ctx *ctx) {
    int32_t ids[3] = {72, 105, 33};
    gb_sample_trace g, tr;
    CHECK(gb_set_tokens(ctx, ids, 3) == GB_OK && gb_run_all(ctx) == GB_OK, "run: %s", gb_error_message(ctx));
    CHECK(sample(ctx, 0, 0, 1, &g) == GB_OK, "greedy");
    const float temps[] = {1e-40f, 1e-45f, FLT_MIN, 1e-30f};
    for (int i = 0; i < 4; i++) {
        gb_status s = sample(ctx, temps[i], 0, 1, &tr);
        CHECK(s == GB_OK, "T=%g: %s", (double)temps[i], gb_error_message(ctx));
        if (s) continue;
        int finite = 1;
        for (int v = 0; v < 256; v++) finite &= isfinite(tr.probs[v]) && isfinite(tr.top_p[v]) && isfinite(tr.scaled[v]);
        CHECK(finite, "T=%g: non-finite probabilities", (double)temps[i]);
        CHECK(tr.token == g.token && tr.top_p[tr.token] > 0, "T=%g: token %d, greedy %d", (double)temps[i], tr.token,
              g.token);
    }
}

int main(void) {
    synth_model m;
    synth_make(&m, 1, 2, 8, 16);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    eps_underflow(ctx, &m);
    tiny_temperature(ctx);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_fuzz_regressions");
}
