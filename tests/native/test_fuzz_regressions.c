/* test_fuzz_regressions.c — every bug the fuzzers (tests/fuzz/) found, as a
 * plain test, so it runs under ASan/UBSan and Valgrind with the other suites
 * even where clang and libFuzzer are not installed. Each case names the
 * target that found it; the raw crash inputs are also kept in
 * tests/fuzz/regressions/<target>/ and replayed by tests/fuzz/run.sh. */
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

int main(void) {
    synth_model m;
    synth_make(&m, 1, 2, 8, 16);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    eps_underflow(ctx, &m);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_fuzz_regressions");
}
