/* fuzz_tok_check.h — the properties every encode must have, shared by the
 * tokenizer-loading and tokenizing targets:
 *  - the byte spans of the tokens are contiguous and cover the input exactly,
 *  - each token's bytes are the input bytes of its span,
 *  - decode(encode(x)) == x,
 *  - a buffer one short gets GB_E_RANGE and the full count,
 *  - and the ids equal a naive encoder.py-style BPE (rescan for the lowest
 *    rank, merge all its occurrences left to right) over the same pieces.
 * Uses the tokenizer's internals (merge table, pre-tokenizer) for the last one. */
#ifndef GB_FUZZ_TOK_CHECK_H
#define GB_FUZZ_TOK_CHECK_H

#include "fuzz_util.h"
#include "tokenizer/tokenizer_internal.h"

/* encoder.py's bpe() on one piece, into ids (returns the count). */
static int fz_naive_bpe(const gb_tokenizer *t, const uint8_t *s, size_t n, int32_t *ids) {
    int k = 0;
    for (size_t i = 0; i < n; i++) ids[k++] = t->byte_id[s[i]];
    for (;;) {
        uint32_t best = UINT32_MAX;
        int32_t a = -1, b = -1, merged = -1;
        for (int i = 0; i + 1 < k; i++) {
            const gb_merge_slot *m = gb_merge_find(t, ids[i], ids[i + 1]);
            if (m && m->rank < best) { best = m->rank; a = ids[i]; b = ids[i + 1]; merged = m->merged; }
        }
        if (a < 0) return k;
        int w = 0;
        for (int i = 0; i < k;) {
            if (i + 1 < k && ids[i] == a && ids[i + 1] == b) { ids[w++] = merged; i += 2; }
            else ids[w++] = ids[i++];
        }
        k = w;
    }
}

/* Checks an encode of text (ids/spans, n tokens) against everything above. */
static void fz_check_tokens(const gb_tokenizer *tok, const uint8_t *text, size_t len, const int32_t *ids,
                            const int32_t *spans, int n) {
    gb_err e = {0};
    FZ_ASSERT(n >= 0 && n <= (int)len, "%d tokens for %zu bytes", n, len);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        FZ_ASSERT(spans[2 * i] == (int32_t)at && spans[2 * i + 1] > spans[2 * i], "span %d not contiguous", i);
        const char *b;
        size_t bl;
        FZ_ASSERT(gb_tokenizer_token_bytes(tok, ids[i], &b, &bl, &e) == GB_OK, "token %d: %s", ids[i], e.msg);
        FZ_ASSERT(bl == (size_t)(spans[2 * i + 1] - spans[2 * i]) && memcmp(b, text + at, bl) == 0,
                  "token %d's bytes differ from its span", i);
        at = (size_t)spans[2 * i + 1];
    }
    FZ_ASSERT(at == len, "spans cover %zu of %zu bytes", at, len);
    char *back = malloc(len + 1);
    size_t bl = 0;
    FZ_ASSERT(gb_tokenizer_decode(tok, ids, n, back, len + 1, &bl, &e) == GB_OK, "decode: %s", e.msg);
    if (bl != len || memcmp(back, text, len) != 0) __builtin_trap(); /* round trip */
    free(back);
    if (n > 0 && (len & 7) == 0) { /* one slot short (1 input in 8: it costs an encode) */
        int n2 = -1;
        int32_t *few = malloc(sizeof *few * (size_t)n);
        gb_status s = gb_tokenizer_encode(tok, (const char *)text, len, few, NULL, n - 1, &n2, &e);
        FZ_ASSERT(s == GB_E_RANGE && n2 == n, "short buffer: %d, %d vs %d", (int)s, n2, n);
        free(few);
    }
    int32_t *ref = malloc(sizeof *ref * (len + 1));
    int k = 0;
    for (size_t pos = 0; pos < len;) {
        size_t end = gb_pretok_next((const char *)text, len, pos);
        FZ_ASSERT(end > pos && end <= len, "pre-tokenizer stuck at %zu", pos);
        k += fz_naive_bpe(tok, text + pos, end - pos, ref + k);
        pos = end;
    }
    FZ_ASSERT(k == n, "naive BPE gives %d tokens, encoder %d", k, n);
    for (int i = 0; i < n; i++) FZ_ASSERT(ref[i] == ids[i], "token %d: naive %d, encoder %d", i, ref[i], ids[i]);
    free(ref);
}

/* Encodes text with tok and checks it. Returns the status of the encode (a
 * byte with no token is allowed to fail, nothing else). */
static gb_status fz_check_encode(const gb_tokenizer *tok, const uint8_t *text, size_t len) {
    gb_err e = {0};
    int cap = (int)len + 1, n = -1;
    int32_t *ids = malloc(sizeof *ids * (size_t)cap), *spans = malloc(sizeof *spans * 2 * (size_t)cap);
    gb_status s = gb_tokenizer_encode(tok, (const char *)text, len, ids, spans, cap, &n, &e);
    if (s != GB_OK) FZ_ASSERT(s == GB_E_ARG && strstr(e.msg, "has no token"), "encode failed: %s", e.msg);
    else fz_check_tokens(tok, text, len, ids, spans, n);
    free(ids); free(spans);
    return s;
}

#endif
