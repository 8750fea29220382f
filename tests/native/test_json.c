/* test_json.c — the strict JSON reader: what it accepts, what it rejects and
 * with which message, unescaping, lookups, and speed on a tokenizer-sized file. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "load/json.h"

static gb_status parse(gb_json *doc, const char *src, gb_err *e) {
    return gb_json_parse(doc, src, strlen(src), "test.json", e);
}

/* Each of these must be rejected; the message must contain `want`. */
static void check_rejects(void) {
    static const struct { const char *src, *want; } bad[] = {
        {"", "byte 0: expected a value (the input ends there)"},
        {"{\"a\":1,}", "byte 7: expected a string key"},
        {"[1,]", "byte 3: expected a value"},
        {"[1 2]", "byte 3: expected ',' or ']'"},
        {"{\"a\" 1}", "byte 5: expected ':'"},
        {"{\"a\":1 \"b\":2}", "byte 7: expected ',' or '}'"},
        {"{\"a\":1", "expected ',' or '}' (the input ends there)"},
        {"01", "leading zeros"},
        {"-", "expected a digit"},
        {"1.", "expected a digit after '.'"},
        {"1e", "exponent"},
        {".5", "expected a value"},
        {"NaN", "expected a value"},
        {"tru", "expected a value"},
        {"\"abc", "string is never closed"},
        {"\"a\tb\"", "control character"},
        {"\"\\x\"", "invalid escape"},
        {"\"\\u12G4\"", "invalid escape"},
        {"\"\\uD83D\"", "invalid escape"},          /* high surrogate alone */
        {"\"\\uDE00\"", "invalid escape"},          /* low surrogate alone */
        {"\"\\uD83D\\u0041\"", "invalid escape"},   /* high + non-low */
        {"\"\xC3\"", "invalid UTF-8"},
        {"\"\xC0\xAF\"", "invalid UTF-8"},          /* overlong '/' */
        {"\"\xED\xA0\x80\"", "invalid UTF-8"},      /* encoded surrogate */
        {"\xEF\xBB\xBF{}", "byte order mark"},
        {"{} x", "byte 3: expected the end of input"},
        {"{}{}", "expected the end of input"},
        {"/* c */ 1", "expected a value"},
        {"[1] // c", "expected the end of input"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_json doc;
        gb_err e = {0};
        gb_status st = parse(&doc, bad[i].src, &e);
        CHECK(st == GB_E_FORMAT, "%s: expected GB_E_FORMAT, got %d", bad[i].src, (int)st);
        CHECK(strstr(e.msg, bad[i].want) != NULL, "%s: message \"%s\" lacks \"%s\"", bad[i].src,
              e.msg, bad[i].want);
        CHECK(strncmp(e.msg, "test.json: malformed JSON at byte ", 34) == 0, "prefix: %s", e.msg);
    }
}

static void check_depth(void) {
    char deep[200];
    gb_json doc;
    gb_err e = {0};
    for (int depth = 63; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        deep[2 * depth] = '\0';
        gb_status st = parse(&doc, deep, &e);
        CHECK((st == GB_OK) == (depth <= 64), "depth %d: status %d (%s)", depth, (int)st, e.msg);
        if (st == GB_OK) gb_json_free(&doc);
        else CHECK(strstr(e.msg, "deeper than 64") != NULL, "depth message: %s", e.msg);
    }
}

static void check_structure(void) {
    const char *src = " {\"n_layer\": 12, \"eps\": 1e-05, \"neg\": -0.5, \"arr\": [1, [2, 3], {}],"
                      " \"t\": true, \"f\": false, \"z\": null, \"s\": \"x\", \"n_layer\": 13} ";
    gb_json doc;
    gb_err e = {0};
    CHECK(parse(&doc, src, &e) == GB_OK, "parse: %s", e.msg);
    CHECK(doc.nodes[0].type == GB_JSON_OBJECT && doc.nodes[0].count == 9, "root");
    CHECK(doc.nodes[0].skip == doc.n_nodes, "root skip %d of %d", doc.nodes[0].skip, doc.n_nodes);
    double v = 0;
    CHECK(gb_json_number(&doc, gb_json_get(&doc, 0, "n_layer"), &v) == 0 && v == 13,
          "duplicate key: last wins, got %g", v);
    CHECK(gb_json_number(&doc, gb_json_get(&doc, 0, "eps"), &v) == 0 && v == 1e-05, "eps %g", v);
    CHECK(gb_json_number(&doc, gb_json_get(&doc, 0, "neg"), &v) == 0 && v == -0.5, "neg");
    int32_t arr = gb_json_get(&doc, 0, "arr");
    CHECK(arr > 0 && doc.nodes[arr].type == GB_JSON_ARRAY && doc.nodes[arr].count == 3, "arr");
    int32_t second = doc.nodes[gb_json_first(&doc, arr)].skip;
    CHECK(doc.nodes[second].type == GB_JSON_ARRAY && doc.nodes[second].count == 2, "arr[1]");
    int32_t third = doc.nodes[second].skip;
    CHECK(doc.nodes[third].type == GB_JSON_OBJECT && doc.nodes[third].count == 0, "arr[2]");
    CHECK(doc.nodes[gb_json_get(&doc, 0, "t")].type == GB_JSON_TRUE, "true");
    CHECK(doc.nodes[gb_json_get(&doc, 0, "f")].type == GB_JSON_FALSE, "false");
    CHECK(doc.nodes[gb_json_get(&doc, 0, "z")].type == GB_JSON_NULL, "null");
    CHECK(gb_json_get(&doc, 0, "missing") == -1, "missing key");
    CHECK(gb_json_get(&doc, arr, "x") == -1, "get on an array");
    CHECK(gb_json_get(&doc, 9999, "x") == -1, "get out of range");
    CHECK(gb_json_number(&doc, gb_json_get(&doc, 0, "s"), &v) == -1, "string is not a number");
    gb_json_free(&doc);
    CHECK(parse(&doc, "[1e999]", &e) == GB_OK && gb_json_number(&doc, 1, &v) == -1,
          "1e999 parses but does not fit a double");
    gb_json_free(&doc);
}

static void check_strings(void) {
    /* "\u00e9" é, surrogate pair U+1F600, escapes, raw UTF-8, and \u0000 */
    const char *src = "{\"k\\u00e9y\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", "
                      "\"emoji\": \"\\ud83d\\ude00 \xF0\x9F\x98\x80\", \"nul\": \"x\\u0000y\"}";
    gb_json doc;
    gb_err e = {0};
    CHECK(parse(&doc, src, &e) == GB_OK, "parse: %s", e.msg);
    int32_t v = gb_json_get(&doc, 0, "k\xC3\xA9y");
    CHECK(v > 0, "escaped key found by its unescaped value");
    char buf[64];
    size_t len = 0;
    CHECK(gb_json_string(&doc, v, buf, sizeof buf, &len) == 0 && len == 12 &&
              memcmp(buf, "a\"b\\c/d\b\f\n\r\t", 12) == 0 && buf[12] == 0, "escapes: len %zu", len);
    CHECK(gb_json_string(&doc, v, buf, 4, &len) == 0 && len == 12 && memcmp(buf, "a\"b\\", 4) == 0,
          "truncated copy still reports the full length");
    CHECK(gb_json_string(&doc, v, NULL, 0, &len) == 0 && len == 12, "sizing call");
    int32_t em = gb_json_get(&doc, 0, "emoji");
    CHECK(gb_json_string(&doc, em, buf, sizeof buf, &len) == 0 && len == 9 &&
              memcmp(buf, "\xF0\x9F\x98\x80 \xF0\x9F\x98\x80", 9) == 0, "surrogate pair");
    CHECK(gb_json_string_eq(&doc, em, "\xF0\x9F\x98\x80 \xF0\x9F\x98\x80"), "string_eq escapes");
    CHECK(!gb_json_string_eq(&doc, em, "\xF0\x9F\x98\x80 "), "string_eq prefix is not equal");
    CHECK(!gb_json_string_eq(&doc, em, "\xF0\x9F\x98\x80 \xF0\x9F\x98\x80!"), "longer");
    int32_t nul = gb_json_get(&doc, 0, "nul");
    CHECK(gb_json_string(&doc, nul, buf, sizeof buf, &len) == 0 && len == 3 &&
              memcmp(buf, "x\0y", 3) == 0, "\\u0000 kept");
    CHECK(gb_json_string(&doc, 0, buf, sizeof buf, &len) == -1, "object is not a string");
    gb_json_free(&doc);
    gb_json_free(&doc); /* twice is harmless */
}

/* ~2 MB object of 100k entries, like tokenizer.json's vocabulary. */
static void check_speed(void) {
    size_t cap = 4u << 20, n = 0;
    char *src = malloc(cap);
    CHECK(src != NULL, "malloc");
    if (!src) return;
    n += (size_t)snprintf(src + n, cap - n, "{");
    for (int i = 0; i < 100000; i++)
        n += (size_t)snprintf(src + n, cap - n, "%s\"tok\\u0120%d\xC3\xA9\": %d", i ? ", " : "", i, i);
    n += (size_t)snprintf(src + n, cap - n, "}");
    gb_json doc;
    gb_err e = {0};
    clock_t t0 = clock();
    gb_status st = gb_json_parse(&doc, src, n, "big.json", &e);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(st == GB_OK && doc.n_nodes == 200001, "big parse: %s", e.msg);
    printf("test_json: parsed %.1f MB, %d nodes in %.3f s\n", n / 1e6, doc.n_nodes, secs);
    CHECK(secs < 2.0, "parsing 2 MB took %.2f s", secs);
    double v;
    if (st == GB_OK)
        CHECK(gb_json_number(&doc, gb_json_get(&doc, 0, "tok\xC4\xA0" "99999\xC3\xA9"), &v) == 0 &&
                  v == 99999, "last key found");
    gb_json_free(&doc);
    free(src);
}

/* Every prefix and thousands of random byte mutations of a document must
 * parse or fail cleanly; under ASan this shows no read past the input. */
static void check_mutations(void) {
    const char *base = "{\"a\": [1, -2.5e+3, true, false, null, \"s\\u00e9\\ud83d\\ude00\\n\"],"
                       " \"b\": {\"c\": {}, \"d\": []}, \"\xC3\xA9\": \"\xF0\x9F\x98\x80\"}";
    size_t n = strlen(base), ok = 0;
    char *buf = malloc(n);
    static const char bytes[] = "{}[]\",:\\u0123456789eE+-.tfn \x80\xC3\xED\xF4";
    uint64_t s = 88172645463325252ULL;
    for (int round = 0; round < 20000 && buf; round++) {
        size_t len = n;
        memcpy(buf, base, n);
        if (round < (int)n) {
            len = (size_t)round; /* every prefix */
        } else {
            for (int k = 0; k < 1 + 2 * (round & 1); k++) { /* 1 or 3 bytes */
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                buf[s % n] = bytes[(s >> 32) % (sizeof bytes - 1)];
            }
        }
        gb_json doc;
        gb_err e = {0};
        if (gb_json_parse(&doc, buf, len, "m.json", &e) != GB_OK) {
            CHECK(e.code == GB_E_FORMAT && strstr(e.msg, "m.json: malformed JSON at byte "),
                  "mutation %d: %s", round, e.msg);
            continue;
        }
        ok++;
        for (int32_t i = 0; i < doc.n_nodes; i++) { /* read every node back */
            char tmp[64];
            size_t l;
            double v;
            if (doc.nodes[i].type == GB_JSON_STRING)
                CHECK(gb_json_string(&doc, i, tmp, sizeof tmp, &l) == 0, "string %d", (int)i);
            if (doc.nodes[i].type == GB_JSON_NUMBER) gb_json_number(&doc, i, &v);
            CHECK(doc.nodes[i].skip > i && doc.nodes[i].skip <= doc.n_nodes, "skip %d", (int)i);
        }
        gb_json_free(&doc);
    }
    CHECK(ok > 100, "only %zu mutated documents parsed", ok);
    free(buf);
}

int main(void) {
    check_rejects();
    check_depth();
    check_structure();
    check_strings();
    check_speed();
    check_mutations();
    gb_json doc;
    gb_err e = {0};
    CHECK(gb_json_parse(&doc, NULL, 1, NULL, &e) == GB_E_ARG, "NULL source");
    CHECK(gb_json_parse(&doc, NULL, 0, NULL, &e) == GB_E_FORMAT && strstr(e.msg, "JSON:"),
          "empty input named JSON: %s", e.msg);
    return CHECK_DONE("test_json");
}
