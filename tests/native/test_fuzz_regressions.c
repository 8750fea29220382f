/* test_fuzz_regressions.c — every bug the fuzzers (tests/fuzz/) found, as a
 * plain test, so it runs under ASan/UBSan and Valgrind with the other suites
 * even where clang and libFuzzer are not installed. Each case names the
 * target that found it; the raw crash inputs are also kept in
 * tests/fuzz/regressions/<target>/ and replayed by tests/fuzz/run.sh. */
#include <float.h>
#include <math.h>

#include "check.h"
#include "ctx.h" /* to plant logits, as fuzz_sample does */
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

/* fuzz_model_load: a config within the 3 GB weight limit (2.4 GB here) over a
 * file holding a few KB allocated the whole arena before finding that the
 * tensors were missing. Now every tensor is checked first; the replayed input
 * tests/fuzz/regressions/model_load/config_claims_2.4GB runs under libFuzzer's
 * 2 GB malloc limit, which catches the allocation itself. */
static void config_larger_than_file(gb_ctx *ctx, const synth_model *m) {
    const char *cfg = "{\"n_layer\":3,\"n_head\":16,\"n_embd\":4096,\"n_positions\":32,\"vocab_size\":256}";
    gb_status s = gb_load_model(ctx, (const uint8_t *)cfg, strlen(cfg), m->st, m->st_len, (const uint8_t *)m->vocab,
                                m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
    CHECK(s == GB_E_SHAPE && strstr(gb_error_message(ctx), "config expects [256,4096]"), "2.4 GB config: %s %s",
          gb_status_name(s), gb_error_message(ctx));
}

/* fuzz_sample: logits 0 and 1e-45 differ, their probabilities round equal.
 * Greedy took the argmax logit (id 2) while the cuts, sorted by probability
 * then id, kept id 0 first: with a tiny top-p the greedy token was cut. */
static void greedy_tie(gb_ctx *ctx) {
    int32_t ids[1] = {7};
    gb_sample_trace tr;
    CHECK(gb_set_tokens(ctx, ids, 1) == GB_OK && gb_run_all(ctx) == GB_OK, "run: %s", gb_error_message(ctx));
    float *logits = gb_acts_ptr(&ctx->acts, HOOK_LOGITS, -1);
    for (int i = 0; i < 256; i++) logits[i] = 0;
    logits[2] = 1e-45f;
    CHECK(sample(ctx, 0, 0, 1e-38f, &tr) == GB_OK, "sample: %s", gb_error_message(ctx));
    CHECK(tr.token == 2 && tr.top_k[2] > 0 && tr.top_p[2] > 0, "greedy token %d, top_p[2] %g", tr.token,
          (double)tr.top_p[2]);
    CHECK(sample(ctx, 1, 1, 1, &tr) == GB_OK && tr.token == 2, "top-k 1 keeps the argmax: %d", tr.token);
}

/* fuzz_tokenizer_load (its speed): a 12-byte vocab.json {"!":16777215} made
 * the loader allocate 128 MB of id tables before gb_load_model refused the
 * tokenizer for exceeding vocab_size. Ids are now capped at GB_MAX_VOCAB - 1,
 * the most any config.json may have. */
static void huge_token_id(gb_ctx *ctx, const synth_model *m) {
    const char *vocab = "{\"!\":16777215}";
    gb_status s = gb_load_model(ctx, (const uint8_t *)m->config, m->config_len, m->st, m->st_len,
                                (const uint8_t *)vocab, strlen(vocab), (const uint8_t *)m->merges, m->merges_len,
                                NULL, 0);
    CHECK(s == GB_E_FORMAT && strstr(gb_error_message(ctx), "1048575"), "huge id: %s %s", gb_status_name(s),
          gb_error_message(ctx));
}

int main(void) {
    synth_model m;
    synth_make(&m, 1, 2, 8, 16);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    eps_underflow(ctx, &m);
    tiny_temperature(ctx);
    config_larger_than_file(ctx, &m);
    greedy_tie(ctx);
    huge_token_id(ctx, &m);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_fuzz_regressions");
}
