/* json.c — strict JSON (RFC 8259) into the flat node array of json.h.
 *
 * Strict on purpose: a model directory that only loads because we guessed
 * what a broken file meant would load differently elsewhere. So no comments,
 * trailing commas, NaN, leading zeros, raw control characters, lone
 * surrogates, invalid UTF-8 or byte order mark. Escapes are checked while
 * parsing, so unescaping later cannot fail on a node this file produced.
 *
 * The parser is recursive descent with an explicit depth limit, and stores
 * nodes by index (the array moves when it grows). GPT-2's tokenizer.json
 * (~1.3 MB, ~100k nodes) parses in a few milliseconds.
 */
#include "load/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/unicode_tables.h"

#define GB_JSON_MAX_DEPTH 64

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    gb_json_node *nodes;
    int32_t n, cap;
    const char *what;
    gb_err *e;
} parser;

// --------------------------------------------------------------- helpers

static gb_status bad(parser *p, size_t at, const char *detail) {
    return GB_FAIL(p->e, GB_E_FORMAT, "%s: malformed JSON at byte %zu: %s%s", p->what, at,
                   detail, at >= p->len ? " (the input ends there)" : "");
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

/* Appends a node and returns its index, or -1 (error set) when out of room. */
static int32_t new_node(parser *p, gb_json_type type, size_t start) {
    if (p->n == p->cap) {
        if (p->cap > INT32_MAX / 2) {
            bad(p, start, "too many values (more than 2^30 nodes)");
            return -1;
        }
        int32_t cap = p->cap ? p->cap * 2 : 256;
        size_t bytes;
        if (!gb_mul_size((size_t)cap, sizeof *p->nodes, &bytes)) {
            bad(p, start, "too many values for this machine's memory");
            return -1;
        }
        gb_json_node *grown = realloc(p->nodes, bytes);
        if (!grown) {
            GB_FAIL(p->e, GB_E_OOM, "%s: out of memory parsing JSON (%d nodes)", p->what, cap);
            return -1;
        }
        p->nodes = grown;
        p->cap = cap;
    }
    int32_t i = p->n++;
    p->nodes[i] = (gb_json_node){type, start, start, 0, i + 1};
    return i;
}

static int hex4(const unsigned char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* Reads the \uXXXX escape (or surrogate pair) at s[0..n), s[0] == 'u'.
 * Returns the number of bytes consumed after the backslash, 0 if invalid. */
static size_t unicode_escape(const unsigned char *s, size_t n, uint32_t *cp) {
    uint32_t hi, lo;
    if (n < 5 || !hex4(s + 1, &hi)) return 0;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return 0;            /* lone low surrogate */
    if (hi < 0xD800 || hi > 0xDBFF) { *cp = hi; return 5; }
    if (n < 11 || s[5] != '\\' || s[6] != 'u' || !hex4(s + 7, &lo)) return 0;
    if (lo < 0xDC00 || lo > 0xDFFF) return 0;             /* high without low */
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 11;
}

// --------------------------------------------------------------- scalars

static gb_status parse_string(parser *p) {
    size_t open = p->pos++;
    int32_t i = new_node(p, GB_JSON_STRING, p->pos);
    if (i < 0) return p->e ? p->e->code : GB_E_OOM;
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->nodes[i].end = p->pos++;
            return GB_OK;
        }
        if (c < 0x20) return bad(p, p->pos, "control character inside a string (must be escaped)");
        if (c == '\\') {
            size_t rest = p->len - p->pos - 1, used = 1;
            unsigned char x = rest ? p->s[p->pos + 1] : 0;
            uint32_t cp;
            if (x == 'u') used = unicode_escape(p->s + p->pos + 1, rest, &cp);
            else if (!x || !strchr("\"\\/bfnrt", x)) used = 0;
            if (!used)
                return bad(p, p->pos, "invalid escape: expected \\\", \\\\, \\/, \\b, \\f, "
                                      "\\n, \\r, \\t or \\uXXXX (surrogates in pairs)");
            p->pos += 1 + used;
        } else if (c < 0x80) {
            p->pos++;
        } else {
            uint32_t cp;
            size_t n = gb_utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
            if (!n) return bad(p, p->pos, "invalid UTF-8 inside a string");
            p->pos += n;
        }
    }
    return bad(p, open, "string is never closed: expected '\"'");
}

static size_t digits(parser *p) {
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    return p->pos - start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gb_status parse_number(parser *p) {
    size_t start = p->pos;
    if (p->s[p->pos] == '-') p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            return bad(p, p->pos, "leading zeros are not allowed in numbers");
    } else if (!digits(p)) {
        return bad(p, p->pos, "expected a digit");
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (!digits(p)) return bad(p, p->pos, "expected a digit after '.'");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (!digits(p)) return bad(p, p->pos, "expected a digit in the exponent");
    }
    int32_t i = new_node(p, GB_JSON_NUMBER, start);
    if (i < 0) return p->e ? p->e->code : GB_E_OOM;
    p->nodes[i].end = p->pos;
    return GB_OK;
}

static gb_status parse_literal(parser *p, const char *word, gb_json_type type) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return bad(p, p->pos, "expected a value (object, array, string, number, true, "
                              "false or null)");
    int32_t i = new_node(p, type, p->pos);
    if (i < 0) return p->e ? p->e->code : GB_E_OOM;
    p->pos += n;
    p->nodes[i].end = p->pos;
    return GB_OK;
}

// --------------------------------------------------------------- containers

static gb_status parse_value(parser *p, int depth);

/* Parses an array or object; for objects each member is key node, value node. */
static gb_status parse_container(parser *p, int depth) {
    int is_obj = p->s[p->pos] == '{';
    char close = is_obj ? '}' : ']';
    if (depth >= GB_JSON_MAX_DEPTH)
        return bad(p, p->pos, "nesting is deeper than 64 levels");
    int32_t i = new_node(p, is_obj ? GB_JSON_OBJECT : GB_JSON_ARRAY, p->pos);
    if (i < 0) return p->e ? p->e->code : GB_E_OOM;
    p->pos++;
    skip_ws(p);
    int32_t count = 0;
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            gb_status st;
            if (is_obj) {
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != '"')
                    return bad(p, p->pos, count ? "expected a string key"
                                                : "expected a string key or '}'");
                if ((st = parse_string(p)) != GB_OK) return st;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') return bad(p, p->pos, "expected ':'");
                p->pos++;
            }
            if ((st = parse_value(p, depth + 1)) != GB_OK) return st;
            count++;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
            if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; break; }
            return bad(p, p->pos, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    p->nodes[i].end = p->pos;
    p->nodes[i].count = count;
    p->nodes[i].skip = p->n;
    return GB_OK;
}

static gb_status parse_value(parser *p, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) return bad(p, p->pos, "expected a value");
    unsigned char c = p->s[p->pos];
    if (c == '{' || c == '[') return parse_container(p, depth);
    if (c == '"') return parse_string(p);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    if (c == 't') return parse_literal(p, "true", GB_JSON_TRUE);
    if (c == 'f') return parse_literal(p, "false", GB_JSON_FALSE);
    return parse_literal(p, "null", GB_JSON_NULL);
}

gb_status gb_json_parse(gb_json *doc, const char *src, size_t len, const char *what,
                        gb_err *e) {
    if (!what) what = "JSON";
    if (!doc || (!src && len))
        return GB_FAIL(e, GB_E_ARG, "%s: gb_json_parse needs a document and source bytes", what);
    *doc = (gb_json){src, len, NULL, 0};
    parser p = {(const unsigned char *)src, len, 0, NULL, 0, 0, what, e};
    gb_status st;
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        st = bad(&p, 0, "starts with a UTF-8 byte order mark, which JSON does not allow");
    else if ((st = parse_value(&p, 0)) == GB_OK) {
        skip_ws(&p);
        if (p.pos != len) st = bad(&p, p.pos, "expected the end of input after the top-level value");
    }
    if (st != GB_OK) {
        free(p.nodes);
        return st;
    }
    doc->nodes = p.nodes;
    doc->n_nodes = p.n;
    return GB_OK;
}

void gb_json_free(gb_json *doc) {
    if (!doc) return;
    free(doc->nodes);
    doc->nodes = NULL;
    doc->n_nodes = 0;
}

// --------------------------------------------------------------- reading values

static const gb_json_node *string_node(const gb_json *doc, int32_t node) {
    if (!doc || !doc->nodes || node < 0 || node >= doc->n_nodes) return NULL;
    const gb_json_node *n = &doc->nodes[node];
    if (n->type != GB_JSON_STRING || n->start > n->end || n->end > doc->len) return NULL;
    return n;
}

/* Decodes the next unit of a string body at *pos (a raw byte or one escape)
 * into buf; returns its byte count (1-4), or 0 on an invalid escape. */
static size_t next_unit(const gb_json *doc, const gb_json_node *n, size_t *pos, char buf[4]) {
    const unsigned char *s = (const unsigned char *)doc->src;
    if (s[*pos] != '\\') { buf[0] = (char)s[(*pos)++]; return 1; }
    size_t rest = n->end - *pos - 1;
    if (!rest) return 0;
    unsigned char x = s[*pos + 1];
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = x == 'u' ? NULL : strchr(from, x);
    if (hit && x) { buf[0] = to[hit - from]; *pos += 2; return 1; }
    uint32_t cp;
    size_t used = x == 'u' ? unicode_escape(s + *pos + 1, rest, &cp) : 0;
    if (!used) return 0;
    *pos += 1 + used;
    if (cp < 0x80) { buf[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6)); buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12)); buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18)); buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int gb_json_string(const gb_json *doc, int32_t node, char *out, size_t cap, size_t *len) {
    const gb_json_node *n = string_node(doc, node);
    if (!n || (!out && cap)) return -1;
    size_t total = 0, pos = n->start;
    char buf[4];
    while (pos < n->end) {
        size_t k = next_unit(doc, n, &pos, buf);
        if (!k) return -1;
        for (size_t j = 0; j < k; j++, total++)
            if (total < cap) out[total] = buf[j];
    }
    if (total < cap) out[total] = '\0'; /* a convenience when it fits */
    if (len) *len = total;
    return 0;
}

int gb_json_string_eq(const gb_json *doc, int32_t node, const char *s) {
    const gb_json_node *n = string_node(doc, node);
    if (!n || !s) return 0;
    size_t raw = n->end - n->start, want = strlen(s);
    if (!memchr(doc->src + n->start, '\\', raw))  /* the common case: no escapes */
        return raw == want && memcmp(doc->src + n->start, s, raw) == 0;
    size_t pos = n->start, at = 0;
    char buf[4];
    while (pos < n->end) {
        size_t k = next_unit(doc, n, &pos, buf);
        if (!k || k > want - at || memcmp(buf, s + at, k) != 0) return 0;
        at += k;
    }
    return at == want;
}

int32_t gb_json_get(const gb_json *doc, int32_t obj, const char *key) {
    if (!doc || !doc->nodes || obj < 0 || obj >= doc->n_nodes) return -1;
    if (doc->nodes[obj].type != GB_JSON_OBJECT) return -1;
    int32_t found = -1, i = obj + 1;
    /* The last duplicate wins, as in Python's json and JavaScript's JSON.parse. */
    for (int32_t k = 0; k < doc->nodes[obj].count; k++) {
        if (i + 1 >= doc->n_nodes) return -1;
        if (gb_json_string_eq(doc, i, key)) found = i + 1;
        i = doc->nodes[i + 1].skip;
    }
    return found;
}

int gb_json_number(const gb_json *doc, int32_t node, double *out) {
    if (!doc || !doc->nodes || node < 0 || node >= doc->n_nodes || !out) return -1;
    const gb_json_node *n = &doc->nodes[node];
    if (n->type != GB_JSON_NUMBER || n->end > doc->len || n->start >= n->end) return -1;
    size_t len = n->end - n->start;
    /* Plain integers (every id in vocab.json) without strtod, whose wasm build
     * multiplies in software long double: exact below 10^15, as strtod's. */
    if (len <= 15) {
        const char *c = doc->src + n->start;
        size_t k = c[0] == '-';
        double v = 0;
        for (; k < len && c[k] >= '0' && c[k] <= '9'; k++) v = v * 10 + (c[k] - '0');
        if (k == len && len > (size_t)(c[0] == '-')) {
            *out = c[0] == '-' ? -v : v;
            return 0;
        }
    }
    char small[64], *buf = small;
    if (len >= sizeof small && !(buf = malloc(len + 1))) return -1;
    memcpy(buf, doc->src + n->start, len);
    buf[len] = '\0';
    /* strtod follows LC_NUMERIC; nothing in Glassbox changes it from "C". */
    char *end;
    double v = strtod(buf, &end);
    int ok = end == buf + len && isfinite(v);
    if (buf != small) free(buf);
    if (!ok) return -1;
    *out = v;
    return 0;
}
