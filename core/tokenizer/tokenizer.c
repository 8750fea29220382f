/* tokenizer.c — GPT-2 byte-level BPE: pre-tokenize, merge by rank, decode.
 *
 * Encoding is two steps per piece of text:
 *  1. gb_pretok_next() cuts the next piece with GPT-2's pattern
 *       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *     written out by hand (no regex engine in libc), with the character
 *     classes of unicode_tables.c. Invalid UTF-8 bytes are one-byte "other"
 *     characters, so every byte lands in exactly one piece.
 *  2. bpe_piece() starts from one token per byte and merges, exactly as
 *     encoder.py does: take the lowest-ranked pair present, merge all its
 *     occurrences left to right, repeat. A heap keyed (rank, position) finds
 *     the pair in O(log n) instead of encoder.py's rescan, which matters for
 *     long pieces (a megabyte of letters is one piece).
 * Loading (vocab/merges files) is in tokenizer_load.c.
 */
#include "tokenizer/tokenizer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode_tables.h"

// --------------------------------------------------------------- pre-tokenizer

typedef struct {
    size_t len;   /* bytes, 1-4 */
    uint32_t cp;
    gb_uclass cls;
} uchar;

static uchar char_at(const char *text, size_t len, size_t pos) {
    const unsigned char *s = (const unsigned char *)text + pos;
    uchar c;
    if (s[0] < 0x80) {
        c.len = 1; c.cp = s[0];
        c.cls = (gb_uclass)gb_uclass_latin1[s[0]];
        return c;
    }
    c.len = gb_utf8_decode(s, len - pos, &c.cp);
    if (!c.len) { /* an invalid byte: a character of its own, class "other" */
        c.len = 1; c.cp = 0xFFFFFFFFu; c.cls = GB_UC_OTHER;
        return c;
    }
    c.cls = gb_uclass_of(c.cp);
    return c;
}

/* End of the run of characters of class cls starting at pos. */
static size_t run_of(const char *text, size_t len, size_t pos, gb_uclass cls) {
    while (pos < len) {
        uchar c = char_at(text, len, pos);
        if (c.cls != cls) break;
        pos += c.len;
    }
    return pos;
}

/* Length of a contraction ('s 't 're 've 'm 'll 'd, lower case only, as in
 * GPT-2's pattern) at pos, or 0. */
static size_t contraction(const char *t, size_t len, size_t pos) {
    if (t[pos] != '\'' || len - pos < 2) return 0;
    char a = t[pos + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (len - pos < 3) return 0;
    char b = t[pos + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

size_t gb_pretok_next(const char *text, size_t len, size_t pos) {
    size_t k = contraction(text, len, pos);
    if (k) return pos + k;
    uchar c = char_at(text, len, pos);
    /* " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional ASCII space,
     * then a run of one class (the classes are disjoint, so the first
     * character decides which alternative matches). */
    if (c.cp == ' ' && pos + 1 < len) {
        uchar d = char_at(text, len, pos + 1);
        if (d.cls != GB_UC_SPACE) return run_of(text, len, pos + 1, d.cls);
    }
    if (c.cls != GB_UC_SPACE) return run_of(text, len, pos, c.cls);
    /* "\s+(?!\S)": the whitespace run, less its last character when a
     * non-space follows (that character then leads the next piece, e.g.
     * " word"). A single space before a non-space falls to "\s+". */
    size_t end = pos, last = pos;
    while (end < len) {
        uchar d = char_at(text, len, end);
        if (d.cls != GB_UC_SPACE) break;
        last = end;
        end += d.len;
    }
    if (end < len && last > pos) return last;
    return end;
}

// --------------------------------------------------------------- BPE

typedef struct {
    uint32_t rank;
    int32_t pos;    /* index of the pair's left symbol (= its byte offset in the piece) */
} pair_entry;

/* Scratch for one encode call, grown to the longest piece seen. */
typedef struct {
    int32_t *id, *prev, *next; /* symbols: a doubly linked list; id -1 once merged away */
    pair_entry *heap, *round;
    size_t n_heap, cap;        /* cap: symbols; heap and round hold 3 * cap */
} bpe_work;

static void work_free(bpe_work *w) {
    free(w->id); free(w->prev); free(w->next); free(w->heap); free(w->round);
    memset(w, 0, sizeof *w);
}

static int work_reserve(bpe_work *w, size_t n) {
    if (n <= w->cap) return 1;
    size_t cap = w->cap ? w->cap : 64, b4, b8;
    while (cap < n) cap *= 2;
    work_free(w);
    /* Each merge pushes at most 2 pairs onto the initial n - 1: 3n entries. */
    if (!gb_mul_size(cap, sizeof(int32_t), &b4) || !gb_mul_size(cap, 3 * sizeof(pair_entry), &b8))
        return 0;
    w->id = malloc(b4); w->prev = malloc(b4); w->next = malloc(b4);
    w->heap = malloc(b8); w->round = malloc(b8);
    if (!w->id || !w->prev || !w->next || !w->heap || !w->round) { work_free(w); return 0; }
    w->cap = cap;
    return 1;
}

static int entry_less(pair_entry a, pair_entry b) {
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(bpe_work *w, pair_entry x) {
    size_t i = w->n_heap++;
    while (i > 0 && entry_less(x, w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = x;
}

static pair_entry heap_pop(bpe_work *w) {
    pair_entry top = w->heap[0], x = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && entry_less(w->heap[c + 1], w->heap[c])) c++;
        if (!entry_less(w->heap[c], x)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n) w->heap[i] = x;
    return top;
}

/* Pushes the pair that starts at symbol left, if it has a merge. */
static void push_pair(const gb_tokenizer *t, bpe_work *w, int32_t left) {
    if (left < 0 || w->next[left] < 0) return;
    const gb_merge_slot *m = gb_merge_find(t, w->id[left], w->id[w->next[left]]);
    if (m) heap_push(w, (pair_entry){m->rank, left});
}

/* Merges the symbols of one piece of n bytes (ids already in w->id). Each
 * round takes every queued occurrence of the lowest rank, in position order,
 * and merges those still intact: encoder.py's "merge all occurrences left to
 * right". Entries made stale by earlier merges fail the re-check and drop. */
static void bpe_merge(const gb_tokenizer *t, bpe_work *w, int32_t n) {
    w->n_heap = 0;
    for (int32_t i = 0; i < n; i++) {
        w->prev[i] = i - 1;
        w->next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (int32_t i = 0; i + 1 < n; i++) push_pair(t, w, i);
    while (w->n_heap) {
        uint32_t rank = w->heap[0].rank;
        size_t n_round = 0;
        while (w->n_heap && w->heap[0].rank == rank) w->round[n_round++] = heap_pop(w);
        for (size_t r = 0; r < n_round; r++) {
            int32_t a = w->round[r].pos, b = w->id[a] >= 0 ? w->next[a] : -1;
            if (b < 0) continue;
            const gb_merge_slot *m = gb_merge_find(t, w->id[a], w->id[b]);
            if (!m || m->rank != rank) continue; /* no longer this pair */
            w->id[a] = m->merged;
            w->id[b] = -1;
            w->next[a] = w->next[b];
            if (w->next[a] >= 0) w->prev[w->next[a]] = a;
            push_pair(t, w, w->prev[a]);
            push_pair(t, w, a);
        }
    }
}

// --------------------------------------------------------------- encode

typedef struct {
    int32_t *ids, *spans;
    int cap, count;
} emitter;

static void emit(emitter *out, int32_t id, size_t start, size_t end) {
    if (out->count < out->cap) {
        out->ids[out->count] = id;
        if (out->spans) {
            out->spans[2 * out->count] = (int32_t)start;
            out->spans[2 * out->count + 1] = (int32_t)end;
        }
    }
    out->count++;
}

static gb_status encode_piece(const gb_tokenizer *t, bpe_work *w, const char *text,
                              size_t start, size_t end, emitter *out, gb_err *e) {
    size_t n = end - start;
    if (!work_reserve(w, n))
        return GB_FAIL(e, GB_E_OOM, "tokenizer: out of memory for a %zu-byte piece of text", n);
    int covered = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char byte = (unsigned char)text[start + i];
        w->id[i] = t->byte_id[byte];
        if (w->id[i] < 0) {
            for (int b = 0; b < 256; b++) covered += t->byte_id[b] >= 0;
            return GB_FAIL(e, GB_E_ARG,
                           "tokenizer: byte 0x%02X at text offset %zu has no token in this "
                           "vocabulary (it covers %d of the 256 byte values)",
                           byte, start + i, covered);
        }
    }
    bpe_merge(t, w, (int32_t)n);
    for (int32_t i = 0; i >= 0; i = w->next[i])
        emit(out, w->id[i], start + (size_t)i, w->next[i] >= 0 ? start + (size_t)w->next[i] : end);
    return GB_OK;
}

gb_status gb_tokenizer_encode(const gb_tokenizer *tok, const char *text, size_t len,
                              int32_t *ids, int32_t *spans, int cap, int *n_tokens,
                              gb_err *e) {
    if (n_tokens) *n_tokens = 0;
    if (!tok) return GB_FAIL(e, GB_E_STATE, "tokenizer: no tokenizer is loaded");
    if (!n_tokens || (!text && len) || cap < 0 || (cap > 0 && !ids))
        return GB_FAIL(e, GB_E_ARG, "tokenizer: encode needs text, an id buffer (or cap 0) "
                                    "and somewhere to put the count");
    if (len >= INT32_MAX)
        return GB_FAIL(e, GB_E_RANGE, "tokenizer: text of %zu bytes is too long (the limit "
                                      "is %d bytes)", len, INT32_MAX - 1);
    emitter out = {ids, spans, cap, 0};
    bpe_work w = {0};
    gb_status st = GB_OK;
    for (size_t pos = 0; pos < len && st == GB_OK;) {
        size_t end = gb_pretok_next(text, len, pos);
        st = encode_piece(tok, &w, text, pos, end, &out, e);
        pos = end;
    }
    work_free(&w);
    if (st != GB_OK) return st;
    *n_tokens = out.count;
    if (out.count > cap)
        return GB_FAIL(e, GB_E_RANGE, "tokenizer: the text is %d tokens but the buffer holds "
                                      "%d (len + 1 is always enough)", out.count, cap);
    return GB_OK;
}

// --------------------------------------------------------------- decode

gb_status gb_tokenizer_token_bytes(const gb_tokenizer *tok, int32_t id, const char **bytes,
                                   size_t *len, gb_err *e) {
    if (!tok) return GB_FAIL(e, GB_E_STATE, "tokenizer: no tokenizer is loaded");
    if (!bytes || !len) return GB_FAIL(e, GB_E_ARG, "tokenizer: token_bytes needs bytes and len");
    if (id < 0 || id >= tok->n_ids || tok->tok_len[id] == GB_TOK_ABSENT)
        return GB_FAIL(e, GB_E_RANGE, "tokenizer: token id %d is not in the vocabulary "
                                      "(ids run from 0 to %d)", (int)id, (int)tok->n_ids - 1);
    *bytes = tok->pool + tok->tok_off[id];
    *len = tok->tok_len[id];
    return GB_OK;
}

gb_status gb_tokenizer_decode(const gb_tokenizer *tok, const int32_t *ids, int n, char *out,
                              size_t cap, size_t *out_len, gb_err *e) {
    if (out_len) *out_len = 0;
    if (!tok) return GB_FAIL(e, GB_E_STATE, "tokenizer: no tokenizer is loaded");
    if (n < 0 || (n > 0 && !ids) || (cap > 0 && !out) || !out_len)
        return GB_FAIL(e, GB_E_ARG, "tokenizer: decode needs ids (n >= 0), an output buffer "
                                    "(or cap 0) and out_len");
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *b;
        size_t k;
        gb_status st = gb_tokenizer_token_bytes(tok, ids[i], &b, &k, e);
        if (st != GB_OK) return st;
        if (total < cap) memcpy(out + total, b, k < cap - total ? k : cap - total);
        if (!gb_add_size(total, k, &total)) /* only reachable with a 32-bit size_t */
            return GB_FAIL(e, GB_E_RANGE, "tokenizer: decoded text of %d tokens is longer "
                                          "than this machine can address", n);
    }
    *out_len = total;
    if (total > cap)
        return GB_FAIL(e, GB_E_RANGE, "tokenizer: decoded text is %zu bytes but the buffer "
                                      "holds %zu", total, cap);
    return GB_OK;
}

int gb_tokenizer_vocab_size(const gb_tokenizer *tok) { return tok ? tok->n_ids : 0; }

void gb_tokenizer_free(gb_tokenizer *tok) {
    if (!tok) return;
    free(tok->tok_off);
    free(tok->tok_len);
    free(tok->pool);
    free(tok->merges);
    free(tok);
}
