/* test_stream.c — the streaming load (gb_load_begin/write/finish) must give
 * exactly the model a whole-buffer load gives: the same bytes in the model's
 * buffer after packing, the same logits, bit for bit, however the file is cut
 * into pieces; and it must really pack on the way (the plan is not empty) for
 * checkpoints whose weights can be packed in place. Bad streams (too short,
 * too long, corrupt, out of order calls) fail with a message and leave the
 * previous model working. */
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
static gb_status stream_load(gb_ctx *ctx, const synth_model *m, long piece, unsigned *parts) {
    gb_status st = gb_load_begin(ctx, (const uint8_t *)m->config, m->config_len, m->st_len);
    uint64_t r = 0x9e3779b97f4a7c15ull ^ (uint64_t)piece;
    *parts = 0;
    for (size_t at = 0; !st && at < m->st_len;) {
        size_t n = m->st_len - at;
        if (piece > 0 && (size_t)piece < n) n = (size_t)piece;
        if (piece < 0) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            size_t k = 1 + (size_t)(r % (uint64_t)-piece);
            if (k < n) n = k;
        }
        st = gb_load_write(ctx, m->st + at, n);
        at += n;
        *parts |= gb_load_stream_parts(ctx);
    }
    return st ? st : gb_load_finish(ctx, (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges,
                                    m->merges_len, NULL, 0);
}

/* The model's own buffer after a whole-buffer load, to compare byte for byte. */
static uint8_t *owned_bytes_after_load(const synth_model *m) {
    gb_ctx *ctx = gb_create();
    uint8_t *own = malloc(m->st_len), *copy = NULL;
    memcpy(own, m->st, m->st_len);
    if (gb_load_model_owned(ctx, (const uint8_t *)m->config, m->config_len, own, m->st_len,
                            (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges,
                            m->merges_len, NULL, 0) == GB_OK && ctx->model.file) {
        copy = malloc(m->st_len);
        memcpy(copy, ctx->model.file, m->st_len);
    }
    gb_destroy(ctx);
    return copy;
}

static void test_same_model(const char *what, synth_model *m, unsigned want_parts) {
    int32_t ids[12];
    for (int i = 0; i < 12; i++) ids[i] = (i * 53 + 7) % 256;
    gb_ctx *ref = gb_create();
    CHECK(synth_load(ref, m) == GB_OK, "%s: whole-buffer load: %s", what, gb_error_message(ref));
    size_t nl = 0, nl2 = 0;
    float *want = logits_of(ref, ids, 12, &nl);
    uint8_t *want_bytes = owned_bytes_after_load(m);
    CHECK(want && want_bytes, "%s: reference run", what);
    const long pieces[] = {0, 1, 3, 4, 7, 32, 33, 4096, -5, -100, -70000};
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
        gb_ctx *ctx = gb_create();
        unsigned parts = 0;
        gb_status st = stream_load(ctx, m, pieces[i], &parts);
        CHECK(st == GB_OK, "%s, pieces %ld: %s", what, pieces[i], gb_error_message(ctx));
        CHECK(parts == want_parts, "%s, pieces %ld: packed %u on the way, expected %u", what, pieces[i], parts, want_parts);
        CHECK(ctx->model.packed && ctx->model.lm_head_packed, "%s, pieces %ld: weights packed", what, pieces[i]);
        CHECK(ctx->model.file && want_bytes && memcmp(ctx->model.file, want_bytes, m->st_len) == 0,
              "%s, pieces %ld: the model's bytes equal a whole-buffer load's", what, pieces[i]);
        float *got = st ? NULL : logits_of(ctx, ids, 12, &nl2);
        CHECK(got && want && nl2 == nl && memcmp(got, want, nl * sizeof *got) == 0,
              "%s, pieces %ld: logits bit-identical", what, pieces[i]);
        free(got);
        gb_destroy(ctx);
    }
    free(want);
    free(want_bytes);
    gb_destroy(ref);
}

/* A checkpoint in a fixture directory: stream-loaded vs gb_load_model_dir... */
static void test_fixture(const char *dir) {
    char path[512], err[600];
    size_t lc, ls, lv = 0, lm = 0, lt = 0;
    snprintf(path, sizeof path, "%s/config.json", dir);
    uint8_t *cfg = gb_read_file(path, &lc, err, sizeof err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    uint8_t *st = gb_read_file(path, &ls, err, sizeof err);
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    uint8_t *voc = gb_read_file(path, &lv, err, sizeof err);
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    uint8_t *mer = gb_read_file(path, &lm, err, sizeof err);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    uint8_t *tj = voc ? NULL : gb_read_file(path, &lt, err, sizeof err);
    gb_ctx *a = gb_create(), *b = gb_create();
    CHECK(cfg && st && gb_load_model(a, cfg, lc, st, ls, voc, lv, mer, lm, tj, lt) == GB_OK, "%s: load", dir);
    gb_status s = gb_load_begin(b, cfg, lc, ls);
    for (size_t at = 0; !s && at < ls; at += 1000) s = gb_load_write(b, st + at, ls - at < 1000 ? ls - at : 1000);
    if (!s) s = gb_load_finish(b, voc, lv, mer, lm, tj, lt);
    CHECK(s == GB_OK, "%s: streamed load: %s", dir, gb_error_message(b));
    int32_t ids[6] = {1, 5, 9, 2, 7, 3};
    size_t n1 = 0, n2 = 0;
    float *x = logits_of(a, ids, 6, &n1), *y = logits_of(b, ids, 6, &n2);
    CHECK(x && y && n1 == n2 && memcmp(x, y, n1 * sizeof *x) == 0, "%s: streamed logits bit-identical", dir);
    free(x); free(y);
    gb_destroy(a); gb_destroy(b);
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

    /* corrupt header: the same message as a whole-buffer load */
    uint8_t *bad = malloc(m->st_len);
    memcpy(bad, m->st, m->st_len);
    bad[9] = 'x';
    gb_ctx *ref = gb_create();
    gb_status want = gb_load_model(ref, cfg, m->config_len, bad, m->st_len, (const uint8_t *)m->vocab,
                                   m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
    CHECK(gb_load_begin(ctx, cfg, m->config_len, m->st_len) == GB_OK && gb_load_write(ctx, bad, m->st_len) == GB_OK,
          "corrupt bytes are accepted while streaming");
    gb_status got = gb_load_finish(ctx, (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0);
    CHECK(want != GB_OK && got == want && strcmp(gb_error_message(ctx), gb_error_message(ref)) == 0,
          "corrupt header: '%s' vs whole-buffer '%s'", gb_error_message(ctx), gb_error_message(ref));
    gb_destroy(ref);
    free(bad);

    /* a header length past the end, and a file shorter than 8 bytes */
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, '{', '}'};
    CHECK(gb_load_begin(ctx, cfg, m->config_len, sizeof huge) == GB_OK && gb_load_write(ctx, huge, sizeof huge) == GB_OK &&
          gb_load_finish(ctx, (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0) == GB_E_FORMAT,
          "header longer than the file: %s", gb_error_message(ctx));
    CHECK(gb_load_begin(ctx, cfg, m->config_len, 3) == GB_OK && gb_load_write(ctx, huge, 3) == GB_OK &&
          gb_load_finish(ctx, (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges, m->merges_len, NULL, 0) == GB_E_FORMAT,
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
    test_same_model("aligned F32, tied", &m, GB_PREPACKED_BLOCKS | GB_PREPACKED_LM_HEAD);
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
    test_same_model("published layout, vocab 261", &m, GB_PREPACKED_BLOCKS | GB_PREPACKED_LM_HEAD);
    synth_published_layout = 0;
    synth_free(&m);

    /* d 20: 3C = 60 is no multiple of the panel width, so only the LM head
     * (vocab 256) packs on the way; the blocks stay in Conv1D layout */
    synth_make(&m, 1, 4, 20, 8);
    synth_pad_header(&m);
    int32_t ids[3] = {1, 2, 3};
    gb_ctx *c = gb_create();
    unsigned parts = 0;
    CHECK(stream_load(c, &m, 77, &parts) == GB_OK && parts == GB_PREPACKED_LM_HEAD && !c->model.packed,
          "unpackable blocks: parts %u, packed %d", parts, c->model.packed);
    size_t n = 0;
    float *l = logits_of(c, ids, 3, &n);
    CHECK(l != NULL, "runs");
    free(l);
    gb_destroy(c);
    synth_free(&m);

    /* the fixtures: F32 (n_embd 36: only the LM head packs on the way),
     * F16 with tokenizer.json, BF16 untied */
    test_fixture("tests/fixtures/models/tiny-f32");
    test_fixture("tests/fixtures/models/tiny-f16");
    test_fixture("tests/fixtures/models/tiny-bf16-untied");
    return CHECK_DONE("test_stream");
}
