/* fuzz_tokenizer_load.c — vocab.json, merges.txt and tokenizer.json.
 *
 * Input: a mode byte, then the files in fz_split's length-prefixed scheme.
 *   mode % 3 == 0: vocab.json | merges.txt, both fuzzed
 *   mode % 3 == 1: tokenizer.json
 *   mode % 3 == 2: merges.txt alone, over the fixed small vocabulary (so
 *                  lines get past "not in the vocabulary" and into ranks)
 * A loaded tokenizer must answer token_bytes for every id, and encode a
 * fixed text plus the input's own bytes with spans that cover, an exact round
 * trip and the same ids as a naive encoder.py BPE. */
#include "fuzz_tok_check.h"

static char *small_vocab, *small_merges;
static size_t small_vocab_len, small_merges_len;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fz_small_vocab(&small_vocab, &small_vocab_len, &small_merges, &small_merges_len);
    return 0;
}

static const char sample_text[] =
    "Hello world! It's the 123rd time, isn't it?  aaaaa abab xyxyx\r\n\n caf\xc3\xa9 \xe2\x80\x99s \xff\xfe";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 3;
    fz_part parts[2];
    fz_split(data + 1, size - 1, parts, mode == 1 ? 1 : 2);
    gb_tokenizer *tok = NULL;
    gb_err e = {0};
    gb_status s;
    if (mode == 0)
        s = gb_tokenizer_load(&tok, parts[0].p, parts[0].len, parts[1].p, parts[1].len, NULL, 0, &e);
    else if (mode == 1)
        s = gb_tokenizer_load(&tok, NULL, 0, NULL, 0, parts[0].p ? parts[0].p : (const uint8_t *)"", parts[0].len, &e);
    else
        s = gb_tokenizer_load(&tok, (const uint8_t *)small_vocab, small_vocab_len, parts[0].p ? parts[0].p : (const uint8_t *)"",
                              parts[0].len, NULL, 0, &e);
    if (s != GB_OK) {
        FZ_ASSERT(tok == NULL && e.msg[0], "failed load: tok %p, message '%s'", (void *)tok, e.msg);
        return 0;
    }
    int V = gb_tokenizer_vocab_size(tok);
    FZ_ASSERT(V >= 1 && V <= GB_TOK_MAX_ID + 1, "vocab size %d", V);
    for (int id = 0; id < V && id < 70000; id++) {
        const char *b;
        size_t bl;
        gb_status st = gb_tokenizer_token_bytes(tok, id, &b, &bl, &e);
        FZ_ASSERT(st == GB_OK || st == GB_E_RANGE, "token_bytes(%d)", id);
        if (st == GB_OK && bl) FZ_ASSERT(b[0] == b[0] && b[bl - 1] == b[bl - 1], "token bytes readable");
    }
    fz_check_encode(tok, (const uint8_t *)sample_text, sizeof sample_text - 1);
    fz_check_encode(tok, data, size < 256 ? size : 256);
    gb_tokenizer_free(tok);
    return 0;
}
