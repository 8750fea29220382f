/* test_errors.c — bad input gets a clear error and loses nothing.
 *
 * Each corrupt config, safetensors file, tokenizer file and argument must come
 * back as a status with a message naming what is wrong, never a crash or a
 * sanitizer report, and the previously loaded model must keep working. */
#include "check.h"
#include "synth.h"
#include "load/safetensors.h"

/* Loads with one part replaced; returns the status and checks the message. */
static gb_status load_with(gb_ctx *ctx, const synth_model *m, const char *config, size_t config_len,
                           const uint8_t *st, size_t st_len, const char *merges, size_t merges_len) {
    return gb_load_model(ctx, (const uint8_t *)(config ? config : m->config), config ? config_len : m->config_len,
                         st ? st : m->st, st ? st_len : m->st_len, (const uint8_t *)m->vocab, m->vocab_len,
                         (const uint8_t *)(merges ? merges : m->merges), merges ? merges_len : m->merges_len,
                         NULL, 0);
}

/* A safetensors file from its header JSON and data_len zero bytes of data. */
static uint8_t *st_file(const char *json, size_t data_len, size_t *len) {
    size_t hl = strlen(json);
    *len = 8 + hl + data_len;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, json, hl);
    return b;
}

/* What the reference safetensors library refuses, Glassbox refuses: one line
 * naming the file and the tensor, GB_E_FORMAT, before any weight is read. */
static void test_strict_reader(gb_ctx *ctx, const synth_model *m) {
    static const struct { const char *json; size_t data; const char *needle, *tensor; } cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "listed twice", "tensor a "},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "belong to no tensor", "tensors a "},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "starts with 4 bytes", "tensor a "},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "4 bytes after the last tensor", "tensor a "},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap", "tensors a "},
        {"{\"__metadata__\":[],\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "__metadata__ must be a JSON object", "__metadata__"},
        {"{\"__metadata__\":{\"format\":\"pt\",\"n\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "entry \"n\" is not a string", "__metadata__"},
        {"[{\"a\":1}]", 0, "header is not a JSON object", "model.safetensors"},
        {"{}", 4, "lists no tensors", "model.safetensors"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len;
        uint8_t *b = st_file(cases[i].json, cases[i].data, &len);
        gb_status s = load_with(ctx, m, NULL, 0, b, len, NULL, 0);
        const char *msg = gb_error_message(ctx);
        CHECK(s == GB_E_FORMAT && strstr(msg, "model.safetensors: ") == msg && strstr(msg, cases[i].needle) &&
                  strstr(msg, cases[i].tensor) && !strchr(msg, '\n'),
              "strict case %zu: %s: %s", i, gb_status_name(s), msg);
        free(b);
    }
    /* what it accepts: string metadata, a zero-byte tensor, an empty file's header */
    size_t len;
    uint8_t *b = st_file("{\"__metadata__\":{\"format\":\"pt\"},\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &len);
    gb_err e;
    gb_safetensors st;
    CHECK(gb_st_parse(&st, b, len, "ok.safetensors", &e) == GB_OK && st.n_tensors == 2, "valid strict file: %s", e.msg);
    gb_st_free(&st);
    free(b);
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
    s = gb_load_model(ctx, (const uint8_t *)m->config, m->config_len, m->st, m->st_len,
                      (const uint8_t *)m->vocab, m->vocab_len, NULL, 0, NULL, 0);
    CHECK(s != GB_OK && strstr(gb_error_message(ctx), "merges"), "vocab.json without merges.txt: %s", gb_error_message(ctx));
    /* no tokenizer at all: a model that runs on ids, and says so when given text */
    gb_ctx *ids_only = gb_create();
    s = gb_load_model(ids_only, (const uint8_t *)m->config, m->config_len, m->st, m->st_len, NULL, 0, NULL, 0, NULL, 0);
    CHECK(s == GB_OK && !gb_has_tokenizer(ids_only), "no tokenizer: loads (%s)", gb_error_message(ids_only));
    int32_t ids[3] = {1, 2, 3}, out[8];
    int n = 0;
    CHECK(gb_set_tokens(ids_only, ids, 3) == GB_OK && gb_run_all(ids_only) == GB_OK, "no tokenizer: runs on ids");
    s = gb_tokenize(ids_only, "hi", 2, out, NULL, 8, &n);
    CHECK(s == GB_E_STATE && strstr(gb_error_message(ids_only), "no tokenizer") && !strchr(gb_error_message(ids_only), '\n'),
          "no tokenizer: tokenize says so in one line: %s", gb_error_message(ids_only));
    char text[8];
    size_t tl = 0;
    CHECK(gb_decode(ids_only, ids, 3, text, sizeof text, &tl) == GB_E_STATE, "no tokenizer: decode refused");
    CHECK(gb_has_tokenizer(ctx), "the model loaded first has its tokenizer");
    gb_destroy(ids_only);
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
    test_strict_reader(ctx, &m);
    test_tokenizer_files(ctx, &m);
    test_still_works(ctx);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_errors");
}
