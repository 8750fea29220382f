/* tokenizer_load.c — builds a gb_tokenizer from vocab.json + merges.txt or
 * from a Hugging Face tokenizer.json (model.vocab, model.merges, added_tokens).
 *
 * The files spell every token with GPT-2's bytes_to_unicode() table (byte
 * 0x20 is "Ġ", 0x0A is "Ċ" ...). We translate each token back to raw bytes
 * once here, so the encoder works on bytes and integer ids only.
 *
 * Choices where the two published loaders differ (encoder.py, Hugging Face):
 *  - merges.txt: every line starting "#version" is skipped and a last line
 *    without a newline still counts (Hugging Face); encoder.py always drops
 *    the first and the last line. Blank lines are skipped.
 *  - A merge whose parts or result are missing from the vocabulary is an
 *    error at load (Hugging Face does the same), not a crash mid-encode.
 *  - Duplicate merges: the later line's rank wins (both loaders build a dict).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/json.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode_tables.h"

/* State while loading; the vocabulary hash (bytes -> id) lives only here. */
typedef struct {
    gb_tokenizer *t;
    int32_t *slots;          /* open addressing over ids, -1 = empty */
    size_t mask;
    int16_t uni_to_byte[324]; /* GPT-2's byte characters run from U+0021 to U+0143 */
    char *buf, *buf2;         /* scratch for one token, each buf_cap bytes */
    size_t buf_cap;
    gb_err *e;
} loader;

// --------------------------------------------------------------- byte spelling

/* GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
 * the other 68 bytes take U+0100 upwards in byte order. We need the inverse. */
static void init_uni_to_byte(loader *L) {
    for (int i = 0; i < 324; i++) L->uni_to_byte[i] = -1;
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        L->uni_to_byte[printable ? b : 256 + extra++] = (int16_t)b;
    }
}

/* Translates a token's spelling s[0..n) to raw bytes in out (n bytes are
 * always enough). Returns the byte count, or -1 with *bad set to the
 * offending code point (0xFFFFFFFF for invalid UTF-8). */
static long spelling_to_bytes(const loader *L, const char *s, size_t n, char *out,
                              uint32_t *bad) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t step = gb_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!step) { *bad = 0xFFFFFFFFu; return -1; }
        if (cp >= 324 || L->uni_to_byte[cp] < 0) { *bad = cp; return -1; }
        out[k++] = (char)L->uni_to_byte[cp];
        i += step;
    }
    return (long)k;
}

static gb_status bad_spelling(loader *L, const char *what, const char *s, size_t n, uint32_t cp) {
    if (cp == 0xFFFFFFFFu)
        return GB_FAIL(L->e, GB_E_FORMAT, "%s: token \"%.*s\" is not valid UTF-8", what,
                       (int)(n > 60 ? 60 : n), s);
    return GB_FAIL(L->e, GB_E_FORMAT,
                   "%s: token \"%.*s\" contains U+%04X, which is not one of GPT-2's 256 "
                   "byte characters (expected a byte-level BPE vocabulary)",
                   what, (int)(n > 60 ? 60 : n), s, (unsigned)cp);
}

// --------------------------------------------------------------- vocabulary hash

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return gb_mix64(h);
}

/* The id whose bytes are s[0..n), or -1. */
static int32_t vocab_find(const loader *L, const char *s, size_t n) {
    const gb_tokenizer *t = L->t;
    for (size_t i = hash_bytes(s, n) & L->mask;; i = (i + 1) & L->mask) {
        int32_t id = L->slots[i];
        if (id < 0) return -1;
        if (t->tok_len[id] == n && memcmp(t->pool + t->tok_off[id], s, n) == 0) return id;
    }
}

/* Appends token id with bytes s[0..n) to the pool and, if hashed, to the hash. */
static gb_status add_token(loader *L, const char *what, int32_t id, const char *s, size_t n,
                           int hashed) {
    gb_tokenizer *t = L->t;
    if (t->tok_len[id] != GB_TOK_ABSENT)
        return GB_FAIL(L->e, GB_E_FORMAT, "%s: id %d is given to two tokens", what, (int)id);
    if (hashed) {
        size_t i = hash_bytes(s, n) & L->mask;
        for (; L->slots[i] >= 0; i = (i + 1) & L->mask) {
            int32_t o = L->slots[i];
            if (t->tok_len[o] == n && memcmp(t->pool + t->tok_off[o], s, n) == 0)
                return GB_FAIL(L->e, GB_E_FORMAT, "%s: the same token has ids %d and %d",
                               what, (int)o, (int)id);
        }
        L->slots[i] = id;
    }
    memcpy(t->pool + t->pool_len, s, n);
    t->tok_off[id] = (uint32_t)t->pool_len;
    t->tok_len[id] = (uint32_t)n;
    t->pool_len += n;
    return GB_OK;
}

// --------------------------------------------------------------- vocabulary

/* Reads an id: a JSON integer in [0, GB_TOK_MAX_ID]. */
static gb_status read_id(loader *L, const gb_json *doc, int32_t node, const char *what,
                         int32_t *id) {
    double v;
    /* range first: converting an out-of-range double to int is undefined */
    if (node < 0 || gb_json_number(doc, node, &v) != 0 || !(v >= 0 && v <= GB_TOK_MAX_ID) ||
        v != (double)(int32_t)v)
        return GB_FAIL(L->e, GB_E_FORMAT, "%s: expected a token id (an integer from 0 to %d) "
                                          "at byte %zu", what, GB_TOK_MAX_ID,
                       node >= 0 ? doc->nodes[node].start : 0);
    *id = (int32_t)v;
    return GB_OK;
}

/* Sizes everything from the vocabulary object and the added_tokens array
 * (either may be -1): the largest id, the pool bound and the scratch size. */
static gb_status measure(loader *L, const gb_json *doc, int32_t vocab, int32_t added,
                         const char *what, int32_t *max_id, size_t *pool_bound) {
    *max_id = -1;
    *pool_bound = 0;
    for (int pass = 0; pass < 2; pass++) {
        int32_t node = pass ? added : vocab;
        if (node < 0) continue;
        for (int32_t k = 0, i = node + 1; k < doc->nodes[node].count; k++) {
            int32_t str = i, val = i + 1, id;
            if (pass) { /* added_tokens: [{"id": N, "content": "..."}, ...] */
                str = gb_json_get(doc, i, "content");
                val = gb_json_get(doc, i, "id");
                if (str < 0 || doc->nodes[str].type != GB_JSON_STRING)
                    return GB_FAIL(L->e, GB_E_FORMAT, "%s: added_tokens[%d] has no \"content\" "
                                                      "string", what, (int)k);
            }
            gb_status st = read_id(L, doc, val, what, &id);
            if (st != GB_OK) return st;
            if (id > *max_id) *max_id = id;
            /* unescaping and byte translation never lengthen a string */
            size_t raw = doc->nodes[str].end - doc->nodes[str].start;
            if (raw > L->buf_cap) L->buf_cap = raw;
            if (!gb_add_size(*pool_bound, raw, pool_bound) || *pool_bound > UINT32_MAX - 1)
                return GB_FAIL(L->e, GB_E_RANGE, "%s: the tokens add up to more than 4 GB", what);
            i = pass ? doc->nodes[i].skip : doc->nodes[val].skip;
        }
    }
    return GB_OK;
}

static gb_status alloc_tables(loader *L, int32_t n_ids, size_t n_hashed, size_t pool_bound,
                              const char *what) {
    gb_tokenizer *t = L->t;
    size_t slots = 16, b_ids, b_slots;
    while (slots < 2 * n_hashed) slots *= 2;
    if (!gb_mul_size((size_t)n_ids, sizeof(uint32_t), &b_ids) ||
        !gb_mul_size(slots, sizeof(int32_t), &b_slots))
        return GB_FAIL(L->e, GB_E_OOM, "%s: vocabulary too large for this machine", what);
    t->n_ids = n_ids;
    t->tok_off = malloc(b_ids ? b_ids : 1);
    t->tok_len = malloc(b_ids ? b_ids : 1);
    t->pool = malloc(pool_bound ? pool_bound : 1);
    L->slots = malloc(b_slots);
    L->buf = malloc(L->buf_cap + 1);
    L->buf2 = malloc(L->buf_cap + 1);
    if (!t->tok_off || !t->tok_len || !t->pool || !L->slots || !L->buf || !L->buf2)
        return GB_FAIL(L->e, GB_E_OOM, "%s: out of memory for a vocabulary of %d ids", what,
                       (int)n_ids);
    for (int32_t i = 0; i < n_ids; i++) t->tok_len[i] = GB_TOK_ABSENT;
    memset(L->slots, 0xFF, b_slots); /* every slot -1 */
    L->mask = slots - 1;
    return GB_OK;
}

/* Fills the tables: vocabulary tokens (byte spelling, hashed) and added
 * tokens (raw text, not hashed: they are never produced by encoding). */
static gb_status fill_vocab(loader *L, const gb_json *doc, int32_t vocab, int32_t added,
                            const char *what) {
    for (int pass = 0; pass < 2; pass++) {
        int32_t node = pass ? added : vocab;
        if (node < 0) continue;
        for (int32_t k = 0, i = node + 1; k < doc->nodes[node].count; k++) {
            int32_t str = pass ? gb_json_get(doc, i, "content") : i;
            int32_t val = pass ? gb_json_get(doc, i, "id") : i + 1, id;
            size_t n;
            gb_status st = read_id(L, doc, val, what, &id);
            if (st != GB_OK) return st;
            i = pass ? doc->nodes[i].skip : doc->nodes[val].skip;
            if (gb_json_string(doc, str, L->buf, L->buf_cap + 1, &n) != 0 || n > L->buf_cap)
                return GB_FAIL(L->e, GB_E_FORMAT, "%s: token %d is not a valid string", what,
                               (int)k);
            if (pass) { /* added token: its content is its bytes, unless the id is taken */
                if (L->t->tok_len[id] != GB_TOK_ABSENT) continue;
                st = add_token(L, what, id, L->buf, n, 0);
            } else {
                uint32_t bad;
                long nb = spelling_to_bytes(L, L->buf, n, L->buf2, &bad);
                if (nb < 0) return bad_spelling(L, what, L->buf, n, bad);
                if (nb == 0)
                    return GB_FAIL(L->e, GB_E_FORMAT, "%s: id %d is the empty token", what,
                                   (int)id);
                st = add_token(L, what, id, L->buf2, (size_t)nb, 1);
            }
            if (st != GB_OK) return st;
        }
    }
    return GB_OK;
}

static gb_status load_vocab(loader *L, const gb_json *doc, int32_t vocab, int32_t added,
                            const char *what) {
    if (vocab < 0 || doc->nodes[vocab].type != GB_JSON_OBJECT)
        return GB_FAIL(L->e, GB_E_FORMAT, "%s: expected the vocabulary as a JSON object "
                                          "{\"token\": id, ...}", what);
    if (added >= 0 && doc->nodes[added].type != GB_JSON_ARRAY) added = -1;
    int32_t max_id;
    size_t pool_bound;
    gb_status st = measure(L, doc, vocab, added, what, &max_id, &pool_bound);
    if (st != GB_OK) return st;
    if (max_id < 0) return GB_FAIL(L->e, GB_E_FORMAT, "%s: the vocabulary is empty", what);
    st = alloc_tables(L, max_id + 1, (size_t)doc->nodes[vocab].count, pool_bound, what);
    if (st == GB_OK) st = fill_vocab(L, doc, vocab, added, what);
    if (st != GB_OK) return st;
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        L->t->byte_id[b] = vocab_find(L, &c, 1);
    }
    return GB_OK;
}

// --------------------------------------------------------------- merges

static gb_status alloc_merges(loader *L, size_t max_merges, const char *what) {
    size_t slots = 16, bytes;
    while (slots < 2 * max_merges) {
        if (slots > SIZE_MAX / 4) return GB_FAIL(L->e, GB_E_OOM, "%s: too many merges", what);
        slots *= 2;
    }
    if (!gb_mul_size(slots, sizeof(gb_merge_slot), &bytes) || !(L->t->merges = malloc(bytes)))
        return GB_FAIL(L->e, GB_E_OOM, "%s: out of memory for %zu merges", what, max_merges);
    for (size_t i = 0; i < slots; i++) L->t->merges[i].key = GB_MERGE_EMPTY;
    L->t->merge_mask = slots - 1;
    return GB_OK;
}

/* Adds merge number `rank`: spellings a[0..na) and b[0..nb). where_fmt with
 * where_n names the line or array element for messages; it is formatted only
 * on failure (50,000 snprintf calls were a fifth of loading GPT-2's merges). */
static gb_status add_merge(loader *L, const char *where_fmt, size_t where_n, uint32_t rank,
                           const char *a, size_t na, const char *b, size_t nb) {
    uint32_t bad;
    int32_t id[3];
    char where_buf[64];
#define where (snprintf(where_buf, sizeof where_buf, where_fmt, where_n), where_buf)
    if (na + nb > L->buf_cap) /* longer than any token: its result cannot be in the vocabulary */
        return GB_FAIL(L->e, GB_E_FORMAT, "%s: merge \"%.*s %.*s\" makes a token that is not in "
                                          "the vocabulary", where, (int)(na > 40 ? 40 : na), a,
                       (int)(nb > 40 ? 40 : nb), b);
    long ka = spelling_to_bytes(L, a, na, L->buf, &bad);
    if (ka < 0) return bad_spelling(L, where, a, na, bad);
    long kb = spelling_to_bytes(L, b, nb, L->buf + ka, &bad);
    if (kb < 0) return bad_spelling(L, where, b, nb, bad);
    id[0] = vocab_find(L, L->buf, (size_t)ka);
    id[1] = vocab_find(L, L->buf + ka, (size_t)kb);
    id[2] = vocab_find(L, L->buf, (size_t)(ka + kb));
    if (id[0] < 0 || id[1] < 0 || id[2] < 0)
        return GB_FAIL(L->e, GB_E_FORMAT, "%s: merge \"%.*s %.*s\": %s is not in the vocabulary",
                       where, (int)(na > 40 ? 40 : na), a, (int)(nb > 40 ? 40 : nb), b,
                       id[0] < 0 ? "its left token" : id[1] < 0 ? "its right token"
                                                    : "the token it makes");
    uint64_t key = ((uint64_t)(uint32_t)id[0] << 32) | (uint32_t)id[1];
    gb_tokenizer *t = L->t;
    size_t i = gb_mix64(key) & t->merge_mask;
    while (t->merges[i].key != GB_MERGE_EMPTY && t->merges[i].key != key)
        i = (i + 1) & t->merge_mask;
    if (t->merges[i].key == GB_MERGE_EMPTY) t->n_merges++;
    t->merges[i] = (gb_merge_slot){key, rank, id[2]}; /* a repeated merge: the later rank wins */
    return GB_OK;
#undef where
}

/* merges.txt: one "left right" pair per line, after a "#version" line. */
static gb_status load_merges_txt(loader *L, const char *s, size_t len) {
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += s[i] == '\n';
    gb_status st = alloc_merges(L, lines, "merges.txt");
    uint32_t rank = 0;
    for (size_t pos = 0, line = 1; pos < len && st == GB_OK; line++) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) : len, n = end - pos;
        const char *l = s + pos;
        pos = nl ? end + 1 : len;
        if (n && l[n - 1] == '\r') n--;
        if (n == 0 || (n >= 8 && memcmp(l, "#version", 8) == 0)) continue;
        const char *sp = memchr(l, ' ', n);
        if (!sp || sp == l || sp == l + n - 1 || memchr(sp + 1, ' ', (size_t)(l + n - sp - 1)))
            return GB_FAIL(L->e, GB_E_FORMAT, "merges.txt line %zu: expected two tokens separated by one space, "
                                              "got \"%.*s\"", line, (int)(n > 80 ? 80 : n), l);
        st = add_merge(L, "merges.txt line %zu", line, rank++, l, (size_t)(sp - l), sp + 1,
                       (size_t)(l + n - sp - 1));
    }
    return st;
}

/* tokenizer.json's model.merges: "left right" strings, or ["left", "right"]
 * pairs (newer files; there a token may itself contain a space). */
static gb_status load_merges_json(loader *L, const gb_json *doc, int32_t merges) {
    if (merges < 0 || doc->nodes[merges].type != GB_JSON_ARRAY)
        return GB_FAIL(L->e, GB_E_FORMAT, "tokenizer.json: expected model.merges to be an array "
                                          "of merges");
    gb_status st = alloc_merges(L, (size_t)doc->nodes[merges].count, "tokenizer.json");
    size_t cap = L->buf_cap + 2; /* "a b" of the longest token, its NUL; longer cannot be valid */
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b) st = GB_FAIL(L->e, GB_E_OOM, "tokenizer.json: out of memory for merges");
    for (int32_t k = 0, i = merges + 1; k < doc->nodes[merges].count && st == GB_OK; k++) {
        const gb_json_node *m = &doc->nodes[i];
        size_t na = 0, nb = 0, n;
        int ok = 0;
        if (m->type == GB_JSON_STRING && gb_json_string(doc, i, a, cap, &n) == 0 && n < cap) {
            char *sp = memchr(a, ' ', n);
            ok = sp && sp != a && sp != a + n - 1 && !memchr(sp + 1, ' ', (size_t)(a + n - sp - 1));
            if (ok) {
                na = (size_t)(sp - a);
                nb = n - na - 1;
                memcpy(b, sp + 1, nb);
            }
        } else if (m->type == GB_JSON_ARRAY && m->count == 2) {
            int32_t j = i + 1;
            ok = gb_json_string(doc, j, a, cap, &na) == 0 && na < cap && na > 0 &&
                 gb_json_string(doc, doc->nodes[j].skip, b, cap, &nb) == 0 && nb < cap && nb > 0;
        }
        if (!ok)
            st = GB_FAIL(L->e, GB_E_FORMAT, "tokenizer.json: model.merges[%d]: expected \"left right\" or "
                                            "[\"left\", \"right\"] made of vocabulary tokens", (int)k);
        else
            st = add_merge(L, "tokenizer.json: model.merges[%zu]", (size_t)k, (uint32_t)k, a, na, b, nb);
        i = m->skip;
    }
    free(a);
    free(b);
    return st;
}

static gb_status load_tokenizer_json(loader *L, const char *src, size_t len) {
    gb_json doc;
    gb_status st = gb_json_parse(&doc, src, len, "tokenizer.json", L->e);
    if (st != GB_OK) return st;
    int32_t model = gb_json_get(&doc, 0, "model");
    int32_t type = gb_json_get(&doc, model, "type");
    if (model < 0 || doc.nodes[model].type != GB_JSON_OBJECT)
        st = GB_FAIL(L->e, GB_E_FORMAT, "tokenizer.json: expected a \"model\" object");
    else if (type >= 0 && !gb_json_string_eq(&doc, type, "BPE"))
        st = GB_FAIL(L->e, GB_E_FORMAT, "tokenizer.json: model.type is not \"BPE\" (GPT-2 "
                                        "uses byte-level BPE)");
    if (st == GB_OK)
        st = load_vocab(L, &doc, gb_json_get(&doc, model, "vocab"),
                        gb_json_get(&doc, 0, "added_tokens"), "tokenizer.json");
    if (st == GB_OK) st = load_merges_json(L, &doc, gb_json_get(&doc, model, "merges"));
    gb_json_free(&doc);
    return st;
}

static gb_status load_files(loader *L, const uint8_t *vocab_json, size_t vocab_len,
                            const uint8_t *merges_txt, size_t merges_len,
                            const uint8_t *tokenizer_json, size_t tokenizer_json_len) {
    if (tokenizer_json && (vocab_json || merges_txt))
        return GB_FAIL(L->e, GB_E_ARG, "tokenizer: pass either vocab.json + merges.txt or "
                                       "tokenizer.json, not both");
    if (tokenizer_json)
        return load_tokenizer_json(L, (const char *)tokenizer_json, tokenizer_json_len);
    if (!vocab_json || !merges_txt)
        return GB_FAIL(L->e, GB_E_ARG, "tokenizer: %s is missing (expected vocab.json + "
                                       "merges.txt, or tokenizer.json)",
                       vocab_json ? "merges.txt" : "vocab.json");
    gb_json doc;
    gb_status st = gb_json_parse(&doc, (const char *)vocab_json, vocab_len, "vocab.json", L->e);
    if (st != GB_OK) return st;
    st = load_vocab(L, &doc, 0, -1, "vocab.json");
    gb_json_free(&doc);
    if (st != GB_OK) return st;
    return load_merges_txt(L, (const char *)merges_txt, merges_len);
}

gb_status gb_tokenizer_load(gb_tokenizer **out, const uint8_t *vocab_json, size_t vocab_len,
                            const uint8_t *merges_txt, size_t merges_len,
                            const uint8_t *tokenizer_json, size_t tokenizer_json_len,
                            gb_err *e) {
    if (!out) return GB_FAIL(e, GB_E_ARG, "tokenizer: gb_tokenizer_load needs an output pointer");
    *out = NULL;
    loader L = {0};
    L.e = e;
    init_uni_to_byte(&L);
    if (!(L.t = calloc(1, sizeof *L.t)))
        return GB_FAIL(e, GB_E_OOM, "tokenizer: out of memory");
    gb_status st = load_files(&L, vocab_json, vocab_len, merges_txt, merges_len, tokenizer_json,
                              tokenizer_json_len);
    free(L.slots);
    free(L.buf);
    free(L.buf2);
    if (st != GB_OK) {
        gb_tokenizer_free(L.t);
        return st;
    }
    *out = L.t;
    return GB_OK;
}
