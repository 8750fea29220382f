/* test_stream.c — the loading pipeline (gb_load_begin/write/finish; gb_load_model
 * is the same with one piece) must give the same model however
 * model.safetensors is cut into pieces: the same weights in the arena, in the
 * kernels' layouts, and the same logits, bit for bit, for F32, F16 and BF16
 * weights, aligned or not, with pieces cut inside a weight. Bad streams (too
 * short, too long, corrupt, out of order calls) fail with a message, a bad
 * header as soon as it is in, and leave the previous model working. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctx.h"
#include "fileio.h"
#include "synth.h"

static float *logits_of(gb_ctx *ctx, const int32_t *ids, int n, size_t *numel) {
    int hl = gb_hook_find("logits", NULL);
    const float *d;
    gb_shape s;
    if (gb_set_tokens(ctx, ids, n) || gb_run_all(ctx) || gb_activation_data(ctx, hl, -1, &d, &s)) return NULL;
    float *out = malloc(s.numel * sizeof *out);
    memcpy(out, d, s.numel * sizeof *out);
    *numel = s.numel;
    return out;
}

/* Piece sizes: 0 = all at once; >0 = fixed; <0 = pseudo-random up to -size. */
static gb_status stream_load(gb_ctx *ctx, const uint8_t *cfg, size_t lc, const uint8_t *st, size_t ls, long piece,
                             const uint8_t *voc, size_t lv, const uint8_t *mer, size_t lm, const uint8_t *tj,
                             size_t lt) {
    gb_status s = gb_load_begin(ctx, cfg, lc, ls);
    uint64_t r = 0x9e3779b97f4a7c15ull ^ (uint64_t)piece;
    for (size_t at = 0; !s && at < ls;) {
        size_t n = ls - at;
        if (piece > 0 && (size_t)piece < n) n = (size_t)piece;
        if (piece < 0) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            size_t k = 1 + (size_t)(r % (uint64_t)-piece);
            if (k < n) n = k;
        }
        s = gb_load_write(ctx, st + at, n);
        at += n;
    }
    return s ? s : gb_load_finish(ctx, voc, lv, mer, lm, tj, lt);
}

static gb_status stream_synth(gb_ctx *ctx, const synth_model *m, long piece) {
    return stream_load(ctx, (const uint8_t *)m->config, m->config_len, m->st, m->st_len, piece,
                       (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
}

/* Bytes of the model's weights (one arena, every tensor in it). */
static size_t arena_bytes(const gb_ctx *ctx) {
    const gb_config *c = &ctx->model.mc.c;
    return (size_t)gb_config_param_count(c, ctx->model.lm_head == ctx->model.wte) * sizeof(float);
}

static const long PIECES[] = {0, 1, 3, 4, 7, 32, 33, 4096, -5, -100, -70000};
#define N_PIECES (sizeof PIECES / sizeof *PIECES)

static void test_same_model(const char *what, synth_model *m, int want_packed) {
    int32_t ids[12];
    for (int i = 0; i < 12; i++) ids[i] = (i * 53 + 7) % 256;
    gb_ctx *ref = gb_create();
    CHECK(synth_load(ref, m) == GB_OK, "%s: whole-buffer load: %s", what, gb_error_message(ref));
    size_t nl = 0, nl2 = 0;
    int T = gb_get_config(ref) && gb_get_config(ref)->n_positions < 12 ? gb_get_config(ref)->n_positions : 12;
    float *want = logits_of(ref, ids, T, &nl);
    CHECK(want != NULL, "%s: reference run", what);
    CHECK(ref->model.packed == want_packed && ref->model.lm_head_packed, "%s: blocks packed %d, LM head packed %d",
          what, ref->model.packed, ref->model.lm_head_packed);
    for (size_t i = 0; i < N_PIECES; i++) {
        gb_ctx *ctx = gb_create();
        gb_status st = stream_synth(ctx, m, PIECES[i]);
        CHECK(st == GB_OK, "%s, pieces %ld: %s", what, PIECES[i], gb_error_message(ctx));
        CHECK(st == GB_OK && arena_bytes(ctx) == arena_bytes(ref) &&
                  memcmp(ctx->model.arena, ref->model.arena, arena_bytes(ref)) == 0,
              "%s, pieces %ld: the weights equal a one-piece load's", what, PIECES[i]);
        float *got = st ? NULL : logits_of(ctx, ids, T, &nl2);
        CHECK(got && want && nl2 == nl && memcmp(got, want, nl * sizeof *got) == 0,
              "%s, pieces %ld: logits bit-identical", what, PIECES[i]);
        free(got);
        gb_destroy(ctx);
    }
    free(want);
    gb_destroy(ref);
}

/* A checkpoint in a fixture directory: stream-loaded vs cli_load_model_dir... */
static void test_fixture(const char *dir) {
    char path[512], err[600];
    size_t lc, ls, lv = 0, lm = 0, lt = 0;
    snprintf(path, sizeof path, "%s/config.json", dir);
    uint8_t *cfg = cli_read_file(path, &lc, err, sizeof err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    uint8_t *st = cli_read_file(path, &ls, err, sizeof err);
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    uint8_t *voc = cli_read_file(path, &lv, err, sizeof err);
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    uint8_t *mer = cli_read_file(path, &lm, err, sizeof err);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    uint8_t *tj = voc ? NULL : cli_read_file(path, &lt, err, sizeof err);
    gb_ctx *a = gb_create();
    CHECK(cfg && st && gb_load_model(a, cfg, lc, st, ls, voc, lv, mer, lm, tj, lt) == GB_OK, "%s: load", dir);
    int32_t ids[6] = {1, 5, 9, 2, 7, 3};
    size_t n1 = 0, n2 = 0;
    float *x = logits_of(a, ids, 6, &n1);
    for (size_t i = 0; i < N_PIECES; i++) { /* odd pieces cut F16/BF16 weights in two */
        gb_ctx *b = gb_create();
        gb_status s = stream_load(b, cfg, lc, st, ls, PIECES[i], voc, lv, mer, lm, tj, lt);
        CHECK(s == GB_OK, "%s, pieces %ld: streamed load: %s", dir, PIECES[i], gb_error_message(b));
        CHECK(s == GB_OK && arena_bytes(a) == arena_bytes(b) && memcmp(a->model.arena, b->model.arena, arena_bytes(a)) == 0,
              "%s, pieces %ld: the weights equal a one-piece load's", dir, PIECES[i]);
        float *y = s ? NULL : logits_of(b, ids, 6, &n2);
        CHECK(x && y && n1 == n2 && memcmp(x, y, n1 * sizeof *x) == 0, "%s, pieces %ld: logits bit-identical", dir, PIECES[i]);
        free(y);
        gb_destroy(b);
    }
    free(x);
    gb_destroy(a);
    free(cfg); free(st); free(voc); free(mer); free(tj);
}

static void test_bad_streams(synth_model *m) {
    gb_ctx *ctx = gb_create();
    int32_t ids[4] = {72, 105, 33, 10};
    CHECK(synth_load(ctx, m) == GB_OK, "base model");
    size_t n0 = 0, n1 = 0;
    float *before = logits_of(ctx, ids, 4, &n0);
    const uint8_t *cfg = (const uint8_t *)m->config;

    CHECK(gb_load_write(ctx, m->st, 10) == GB_E_STATE, "write before begin: %s", gb_error_message(ctx));
    CHECK(gb_load_finish(ctx, NULL, 0, NULL, 0, NULL, 0) == GB_E_STATE, "finish before begin");

    /* truncated: finish after half the bytes */
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len) == GB_OK, "begin");
    CHECK(gb_load_write(ctx, m->st, m->st_len / 2) == GB_OK, "half written");
    CHECK(gb_load_finish(ctx, (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0) == GB_E_FORMAT &&
          strstr(gb_error_message(ctx), "ended after"), "truncated stream: %s", gb_error_message(ctx));

    /* too long */
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len - 1) == GB_OK, "begin short");
    CHECK(gb_load_write(ctx, m->st, m->st_len) == GB_E_FORMAT && strstr(gb_error_message(ctx), "more bytes"),
          "overlong stream: %s", gb_error_message(ctx));
    CHECK(gb_load_write(ctx, m->st, 1) == GB_E_STATE, "the overlong load was cancelled");

    /* corrupt header: refused by the write that completes the header, with
     * the message of a one-piece load; nothing after it is needed */
    uint8_t *bad = malloc(m->st_len);
    memcpy(bad, m->st, m->st_len);
    bad[9] = 'x';
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | m->st[i];
    gb_ctx *ref = gb_create();
    gb_status want = gb_load_model(ref, cfg, m->config_len, bad, m->st_len, (const uint8_t *)m->vocab,
                                   m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len) == GB_OK && gb_load_write(ctx, bad, 8 + hlen - 1) == GB_OK,
          "a header still arriving is not judged");
    gb_status got = gb_load_write(ctx, bad + 8 + hlen - 1, 1);
    CHECK(want == GB_E_FORMAT && got == want && strcmp(gb_error_message(ctx), gb_error_message(ref)) == 0,
          "corrupt header: '%s' vs one piece '%s'", gb_error_message(ctx), gb_error_message(ref));
    CHECK(gb_load_write(ctx, bad, 1) == GB_E_STATE, "the failed load was cancelled");
    gb_destroy(ref);
    free(bad);

    /* a header length past the end (refused with its first 8 bytes), and a
     * file shorter than 8 bytes (refused at begin) */
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, '{', '}'};
    CHECK(gb_load_begin(ctx, cfg, m->config_len, sizeof huge) == GB_OK && gb_load_write(ctx, huge, 8) == GB_E_FORMAT &&
          strstr(gb_error_message(ctx), "larger than the file"), "header longer than the file: %s", gb_error_message(ctx));
    CHECK(gb_load_begin(ctx, cfg, m->config_len, 3) == GB_E_FORMAT && strstr(gb_error_message(ctx), "too short"),
          "3-byte file: %s", gb_error_message(ctx));

    /* bad config, absurd size: refused at begin, before allocating */
    CHECK(gb_load_begin(ctx, (const uint8_t *)"{\"n_layer\": -1}", 15, 100) != GB_OK, "bad config: %s", gb_error_message(ctx));
    CHECK(gb_load_begin(ctx, cfg, m->config_len, (size_t)-1) == GB_E_OOM && strstr(gb_error_message(ctx), "GB"),
          "absurd size: %s", gb_error_message(ctx));

    /* cancel midway (ASan checks that nothing leaks), and a new begin replaces an old one */
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len) == GB_OK && gb_load_write(ctx, m->st, 100) == GB_OK, "partial");
    gb_load_cancel(ctx);
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len) == GB_OK && gb_load_write(ctx, m->st, 100) == GB_OK, "partial 2");
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len) == GB_OK, "begin again drops the partial load");

    float *after = logits_of(ctx, ids, 4, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0 * sizeof *before) == 0,
          "the previous model ran unchanged after every failed stream");
    free(before);
    free(after);
    gb_destroy(ctx); /* with a load still begun: freed too */
}

int main(void) {
    synth_model m;
    /* C 32: every block matrix and the LM head pack; vocab 256 = 32 panels */
    synth_make(&m, 2, 4, 32, 16);
    synth_pad_header(&m);
    test_same_model("aligned F32, tied", &m, 1);
    test_bad_streams(&m);
    synth_free(&m);

    /* vocab 261: a last LM head panel of 5 rows; the published layout
     * (no prefix, attn.bias buffers between the matrices) */
    synth_published_layout = 1;
    synth_make(&m, 2, 2, 16, 16);
    synth_model w;
    synth_make_weights(&w, 2, 2, 16, 16, 261);
    free(m.config); free(m.st);
    m.config = w.config; m.config_len = w.config_len; m.st = w.st; m.st_len = w.st_len;
    synth_pad_header(&m);
    test_same_model("published layout, vocab 261", &m, 1);
    synth_published_layout = 0;
    synth_free(&m);

    /* d 20: 3C = 60 is no multiple of the panel width, so the blocks stay in
     * Conv1D layout (gb_matmul) and only the LM head is in panels */
    synth_make(&m, 1, 4, 20, 8);
    synth_pad_header(&m);
    test_same_model("unpackable blocks", &m, 0);
    synth_free(&m);

    /* the fixtures: F32 (n_embd 36: blocks stay as stored), F16 with
     * tokenizer.json, BF16 untied */
    test_fixture("tests/fixtures/models/tiny-f32");
    test_fixture("tests/fixtures/models/tiny-f16");
    test_fixture("tests/fixtures/models/tiny-bf16-untied");
    return CHECK_DONE("test_stream");
}
