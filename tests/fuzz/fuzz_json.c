/* fuzz_json.c — the JSON reader and every accessor over what it returns.
 *
 * Input: arbitrary bytes as a JSON document. On success the node array must
 * be a well-formed tree (skip links nest, counts match, keys are strings,
 * ranges inside the source), every string must unescape to valid UTF-8 of
 * the announced length, gb_json_get must find the last duplicate of each key,
 * and accessors must refuse out-of-range node indices. */
#include "fuzz_util.h"
#include "load/json.h"
#include "tokenizer/unicode_tables.h"

static int valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = gb_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* Checks node i's subtree; returns the index after it. */
static int32_t walk(const gb_json *doc, int32_t i, int depth) {
    FZ_ASSERT(i >= 0 && i < doc->n_nodes, "node %d of %d", i, doc->n_nodes);
    FZ_ASSERT(depth <= 65, "depth %d", depth);
    const gb_json_node *n = &doc->nodes[i];
    FZ_ASSERT(n->start <= n->end && n->end <= doc->len, "range [%zu, %zu) of %zu", n->start, n->end, doc->len);
    FZ_ASSERT(n->skip > i && n->skip <= doc->n_nodes, "skip %d at %d", n->skip, i);
    if (n->type == GB_JSON_ARRAY || n->type == GB_JSON_OBJECT) {
        int32_t c = gb_json_first(doc, i), items = 0;
        while (c < n->skip) {
            if (n->type == GB_JSON_OBJECT) {
                FZ_ASSERT(doc->nodes[c].type == GB_JSON_STRING, "key %d is not a string", c);
                c = walk(doc, c, depth + 1);
                FZ_ASSERT(c < n->skip, "key without value");
            }
            c = walk(doc, c, depth + 1);
            items++;
        }
        FZ_ASSERT(c == n->skip && items == n->count, "count %d vs %d", items, n->count);
    } else {
        FZ_ASSERT(n->skip == i + 1, "leaf skip");
    }
    if (n->type == GB_JSON_STRING) {
        size_t len = 0, len2 = 0;
        FZ_ASSERT(gb_json_string(doc, i, NULL, 0, &len) == 0, "string %d", i);
        FZ_ASSERT(len <= n->end - n->start, "unescaped longer than raw");
        char *buf = malloc(len + 1);
        FZ_ASSERT(gb_json_string(doc, i, buf, len + 1, &len2) == 0 && len2 == len && buf[len] == 0, "string 2");
        FZ_ASSERT(valid_utf8(buf, len), "string %d unescapes to invalid UTF-8", i);
        if (!memchr(buf, 0, len)) FZ_ASSERT(gb_json_string_eq(doc, i, buf), "string_eq of itself");
        if (len) { /* a short buffer: truncated, never overrun (ASan watches) */
            char *small = malloc(len - 1 + !len);
            FZ_ASSERT(gb_json_string(doc, i, small, len - 1, &len2) == 0 && len2 == len, "short buffer");
            free(small);
        }
        free(buf);
        double d;
        FZ_ASSERT(gb_json_number(doc, i, &d) == -1, "string read as number");
    } else if (n->type == GB_JSON_NUMBER) {
        double d = 0;
        if (gb_json_number(doc, i, &d) == 0) FZ_ASSERT(d == d && d - d == 0, "non-finite number");
        FZ_ASSERT(gb_json_string(doc, i, NULL, 0, NULL) == -1, "number read as string");
    }
    if (n->type == GB_JSON_OBJECT) { /* gb_json_get: the last duplicate wins (first 16 keys: it is O(n^2)) */
        int32_t checked = 0;
        for (int32_t k = i + 1; k < n->skip && checked++ < 16; k = doc->nodes[k + 1].skip) {
            size_t len = 0;
            gb_json_string(doc, k, NULL, 0, &len);
            char *key = malloc(len + 1);
            gb_json_string(doc, k, key, len + 1, &len);
            if (!memchr(key, 0, len)) {
                int32_t want = -1;
                for (int32_t j = i + 1; j < n->skip; j = doc->nodes[j + 1].skip)
                    if (gb_json_string_eq(doc, j, key)) want = j + 1;
                FZ_ASSERT(gb_json_get(doc, i, key) == want && want >= 0, "get %s", key);
            }
            free(key);
        }
    } else {
        FZ_ASSERT(gb_json_get(doc, i, "") == -1, "get on a non-object");
    }
    return n->skip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gb_json doc;
    gb_err e = {0};
    if (gb_json_parse(&doc, (const char *)data, size, "fuzz.json", &e) != GB_OK) {
        FZ_ASSERT(strstr(e.msg, "fuzz.json") != NULL, "message: %s", e.msg);
        return 0;
    }
    FZ_ASSERT(doc.n_nodes >= 1 && doc.nodes, "empty document accepted");
    FZ_ASSERT(walk(&doc, 0, 0) == doc.n_nodes, "root does not span the document");
    double d;
    size_t l;
    FZ_ASSERT(gb_json_get(&doc, -1, "a") == -1 && gb_json_get(&doc, doc.n_nodes, "a") == -1, "get range");
    FZ_ASSERT(gb_json_string(&doc, doc.n_nodes, NULL, 0, &l) == -1 && gb_json_number(&doc, -5, &d) == -1, "range");
    FZ_ASSERT(!gb_json_string_eq(&doc, doc.n_nodes, ""), "string_eq range");
    gb_json_free(&doc);
    return 0;
}
