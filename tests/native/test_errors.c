/* test_errors.c — bad input gets a clear error and loses nothing.
 *
 * Each corrupt config, safetensors file, tokenizer file and argument must come
 * back as a status with a message naming what is wrong, never a crash or a
 * sanitizer report, and the previously loaded model must keep working. */
#include "check.h"
#include "synth.h"

/* Loads with one part replaced; returns the status and checks the message. */
static gb_status load_with(gb_ctx *ctx, const synth_model *m, const char *config, size_t config_len,
                           const uint8_t *st, size_t st_len, const char *merges, size_t merges_len) {
    return gb_load_model(ctx, (const uint8_t *)(config ? config : m->config), config ? config_len : m->config_len,
                         st ? st : m->st, st ? st_len : m->st_len, (const uint8_t *)m->vocab, m->vocab_len,
                         (const uint8_t *)(merges ? merges : m->merges), merges ? merges_len : m->merges_len,
                         NULL, 0);
}

static void expect_config_error(gb_ctx *ctx, const synth_model *m, const char *cfg, gb_status want,
                                const char *needle) {
    gb_status s = load_with(ctx, m, cfg, strlen(cfg), NULL, 0, NULL, 0);
    CHECK(s == want, "config %s: got %s, want %s (%s)", cfg, gb_status_name(s), gb_status_name(want),
          gb_error_message(ctx));
    CHECK(strstr(gb_error_message(ctx), needle) != NULL, "message for %s lacks '%s': %s", cfg, needle,
          gb_error_message(ctx));
}

static void test_configs(gb_ctx *ctx, const synth_model *m) {
    expect_config_error(ctx, m, "{", GB_E_FORMAT, "config.json");
    expect_config_error(ctx, m, "[1,2]", GB_E_FORMAT, "object");
    expect_config_error(ctx, m, "{\"n_layer\":2} x", GB_E_FORMAT, "config.json");
    expect_config_error(ctx, m, "{\"n_layer\":0,\"n_head\":4,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":256}",
                        GB_E_RANGE, "n_layer");
    expect_config_error(ctx, m, "{\"n_layer\":1e9,\"n_head\":4,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":256}",
                        GB_E_RANGE, "n_layer");
    expect_config_error(ctx, m, "{\"n_layer\":2,\"n_head\":3,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":256}",
                        GB_E_RANGE, "divisible");
    expect_config_error(ctx, m, "{\"n_layer\":2,\"n_head\":4,\"n_embd\":20,\"vocab_size\":256}", GB_E_FORMAT,
                        "n_positions");
    expect_config_error(ctx, m, "{\"n_layer\":\"2\",\"n_head\":4,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":256}",
                        GB_E_FORMAT, "integer");
    expect_config_error(ctx, m, "{\"n_layer\":2,\"n_head\":4,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":-5}",
                        GB_E_RANGE, "vocab_size");
    expect_config_error(ctx, m, "{\"model_type\":\"llama\",\"n_layer\":2}", GB_E_FORMAT, "gpt2");
    expect_config_error(ctx, m,
                        "{\"n_layer\":256,\"n_head\":64,\"n_embd\":16384,\"n_positions\":65536,\"vocab_size\":1048576}",
                        GB_E_OOM, "parameters");
    /* the right sizes but a shape the file disagrees with */
    expect_config_error(ctx, m, "{\"n_layer\":3,\"n_head\":4,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":300}",
                        GB_E_SHAPE, "has shape [256,20], config expects [300,20]");
    expect_config_error(ctx, m, "{\"n_layer\":4,\"n_head\":4,\"n_embd\":20,\"n_positions\":32,\"vocab_size\":256}",
                        GB_E_SHAPE, "missing tensor transformer.h.3.ln_1.weight");
}

/* The safetensors bytes with `from` replaced by `to` (same length) in the header. */
static uint8_t *patched(const synth_model *m, const char *from, const char *to) {
    uint8_t *b = malloc(m->st_len);
    memcpy(b, m->st, m->st_len);
    size_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | b[i];
    char *h = (char *)b + 8, *p = NULL;
    for (size_t i = 0; i + strlen(from) <= hl && !p; i++)
        if (memcmp(h + i, from, strlen(from)) == 0) p = h + i;
    if (p) memcpy(p, to, strlen(to));
    return b;
}

static void expect_st_error(gb_ctx *ctx, const synth_model *m, const uint8_t *st, size_t len,
                            const char *needle, const char *what) {
    gb_status s = load_with(ctx, m, NULL, 0, st, len, NULL, 0);
    CHECK(s != GB_OK, "%s: accepted", what);
    CHECK(strstr(gb_error_message(ctx), needle) != NULL, "%s: message lacks '%s': %s", what, needle,
          gb_error_message(ctx));
}

static void test_safetensors(gb_ctx *ctx, const synth_model *m) {
    expect_st_error(ctx, m, m->st, 5, "too short", "5-byte file");
    expect_st_error(ctx, m, m->st, 200, "larger than the file", "truncated header");
    expect_st_error(ctx, m, m->st, m->st_len - 1, "outside", "truncated data");
    uint8_t *b = malloc(m->st_len);
    memcpy(b, m->st, m->st_len);
    b[5] = 0x7f; /* header length ~ 2^47 */
    expect_st_error(ctx, m, b, m->st_len, "larger than the file", "huge header length");
    free(b);
    b = patched(m, "\"F32\",\"shape\":[256,20]", "\"Q4X\",\"shape\":[256,20]");
    expect_st_error(ctx, m, b, m->st_len, "unknown dtype \"Q4X\"", "unknown dtype");
    free(b);
    b = patched(m, "ln_f.weight", "ln_f.wEight");
    expect_st_error(ctx, m, b, m->st_len, "missing tensor transformer.ln_f.weight", "missing tensor");
    free(b);
    b = patched(m, "\"data_offsets\":[0,", "\"data_offsets\":[4,"); /* wte now short by 4 bytes */
    expect_st_error(ctx, m, b, m->st_len, "bytes but dtype", "size mismatch");
    free(b);
    b = patched(m, "\"shape\":[256,20],\"data_offsets\":[0,20480]", "\"shape\":[20,256],\"data_offsets\":[0,20480]");
    expect_st_error(ctx, m, b, m->st_len, "has shape [20,256], config expects [256,20]", "transposed");
    free(b);
    /* wpe's range moved onto wte's: same size, overlapping */
    b = patched(m, "\"data_offsets\":[20480,23040]", "\"data_offsets\":[0,2560]     ");
    expect_st_error(ctx, m, b, m->st_len, "overlap", "overlapping tensors");
    free(b);
    /* every truncation of the header region fails cleanly */
    size_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | m->st[i];
    int clean = 1;
    for (size_t n = 0; n < 8 + hl + 64; n++) clean &= load_with(ctx, m, NULL, 0, m->st, n, NULL, 0) != GB_OK;
    CHECK(clean, "some truncation was accepted");
}

static void test_tokenizer_files(gb_ctx *ctx, const synth_model *m) {
    const char *bad_merges[] = {"#version: 0.2\nabc\n", "#version: 0.2\na b c\n", "#version: 0.2\n\xff\xfe q\n"};
    for (int i = 0; i < 3; i++) {
        gb_status s = load_with(ctx, m, NULL, 0, NULL, 0, bad_merges[i], strlen(bad_merges[i]));
        CHECK(s == GB_E_FORMAT, "bad merges %d: %s (%s)", i, gb_status_name(s), gb_error_message(ctx));
        CHECK(strstr(gb_error_message(ctx), "merges") != NULL, "message names merges: %s", gb_error_message(ctx));
    }
    gb_status s = gb_load_model(ctx, (const uint8_t *)m->config, m->config_len, m->st, m->st_len,
                                (const uint8_t *)"{\"a\":1,", 7, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
    CHECK(s == GB_E_FORMAT && strstr(gb_error_message(ctx), "vocab.json"), "bad vocab.json: %s", gb_error_message(ctx));
    s = gb_load_model(ctx, (const uint8_t *)m->config, m->config_len, m->st, m->st_len, NULL, 0, NULL, 0, NULL, 0);
    CHECK(s != GB_OK, "no tokenizer at all is an error");
}

/* After every failure above, the model loaded first still runs. */
static void test_still_works(gb_ctx *ctx) {
    int32_t ids[3] = {104, 105, 33};
    CHECK(gb_set_tokens(ctx, ids, 3) == GB_OK && gb_run_all(ctx) == GB_OK, "old model still runs: %s",
          gb_error_message(ctx));
    CHECK(gb_get_config(ctx)->n_layer == 3, "old config kept");
    CHECK(gb_run_stage(ctx, 99) == GB_E_RANGE, "bad stage");
    CHECK(gb_activation_copy(ctx, 999, 0, (float *)ids, 1) == GB_E_ARG, "bad hook id");
    CHECK(gb_activation_copy(ctx, 2, 7, (float *)ids, 1) == GB_E_RANGE, "bad layer");
    float tiny[1];
    CHECK(gb_activation_copy(ctx, 0, -1, tiny, 1) == GB_E_RANGE, "buffer too small");
}

int main(void) {
    synth_model m;
    synth_make(&m, 3, 4, 20, 32);
    gb_ctx *ctx = gb_create();
    CHECK(gb_set_tokens(ctx, (const int32_t[]){1}, 1) == GB_E_STATE, "no model yet");
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    test_configs(ctx, &m);
    test_safetensors(ctx, &m);
    test_tokenizer_files(ctx, &m);
    test_still_works(ctx);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_errors");
}
