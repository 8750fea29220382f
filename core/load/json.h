/* json.h — a small, strict, bounds-checked JSON reader for config.json,
 * vocab.json, tokenizer.json and safetensors headers.
 *
 * Parsing produces a flat array of nodes (jsmn style) that point into the
 * source bytes; strings are unescaped on demand. Every failure is reported
 * through gb_err with the byte offset, e.g.
 *   "config.json: malformed JSON at byte 132: expected ',' or '}'".
 */
#ifndef GB_JSON_H
#define GB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum {
    GB_JSON_NULL, GB_JSON_FALSE, GB_JSON_TRUE, GB_JSON_NUMBER,
    GB_JSON_STRING, GB_JSON_ARRAY, GB_JSON_OBJECT
} gb_json_type;

typedef struct {
    gb_json_type type;
    size_t start, end;   /* byte range in src: for strings, inside the quotes */
    int32_t count;       /* arrays: elements; objects: key/value pairs */
    int32_t skip;        /* index of the node after this one's whole subtree */
} gb_json_node;

typedef struct {
    const char *src;
    size_t len;
    gb_json_node *nodes; /* nodes[0] is the root; object children alternate key, value */
    int32_t n_nodes;
} gb_json;

/* Parses src[0..len). `what` names the file in messages ("config.json").
 * Depth is limited (64) and the whole input must be one value. */
gb_status gb_json_parse(gb_json *doc, const char *src, size_t len, const char *what,
                        gb_err *e);
void gb_json_free(gb_json *doc);

/* Index of the value for key in object node obj, or -1 (also if obj is not an
 * object). With duplicate keys the last wins, as in Python and JavaScript. */
int32_t gb_json_get(const gb_json *doc, int32_t obj, const char *key);
/* Index of the first child of an array/object node (its first key for objects);
 * step with doc->nodes[i].skip. */
static inline int32_t gb_json_first(const gb_json *doc, int32_t node) { (void)doc; return node + 1; }

/* Unescaped string value (handles \uXXXX incl. surrogate pairs; invalid
 * escapes are errors). Writes up to cap bytes, and a NUL after them when the
 * full length is < cap; *len (may be NULL) gets the full length, so call with
 * cap 0 to size a buffer. Returns 0 on success, -1 if the node is not a valid
 * string. The value may contain NUL bytes ("\u0000"): trust *len, not strlen. */
int gb_json_string(const gb_json *doc, int32_t node, char *out, size_t cap, size_t *len);
/* Compares a string node's unescaped value to a C string. */
int gb_json_string_eq(const gb_json *doc, int32_t node, const char *s);
/* Number value; returns 0 on success, -1 if not a number or if it does not
 * fit a double (1e999). */
int gb_json_number(const gb_json *doc, int32_t node, double *out);

#endif
