/* safetensors.c — parses and validates a safetensors buffer (see safetensors.h).
 * Nothing here trusts the file: every length and offset is checked against the
 * buffer before use, so a truncated or hostile file yields an error, not a read
 * out of bounds. */
#include "load/safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "load/json.h"

static const struct { const char *name; size_t size; } dtype_info[GB_DT_COUNT] = {
    [GB_DT_F32] = {"F32", 4}, [GB_DT_F16] = {"F16", 2}, [GB_DT_BF16] = {"BF16", 2},
    [GB_DT_F64] = {"F64", 8}, [GB_DT_I64] = {"I64", 8}, [GB_DT_I32] = {"I32", 4},
    [GB_DT_I16] = {"I16", 2}, [GB_DT_I8] = {"I8", 1},   [GB_DT_U8] = {"U8", 1},
    [GB_DT_BOOL] = {"BOOL", 1},
};

const char *gb_dtype_name(gb_dtype dt) {
    return dt < GB_DT_COUNT ? dtype_info[dt].name : "?";
}

static int parse_dtype(const gb_json *doc, int32_t node, gb_dtype *out) {
    for (int i = 0; i < GB_DT_COUNT; i++)
        if (gb_json_string_eq(doc, node, dtype_info[i].name)) { *out = (gb_dtype)i; return 0; }
    return -1;
}

/* Reads a JSON number that must be a non-negative integer below 2^53. */
static int json_uint(const gb_json *doc, int32_t node, uint64_t *out) {
    double v;
    if (gb_json_number(doc, node, &v) != 0 || !(v >= 0) || v > 9007199254740992.0 ||
        v != (double)(uint64_t)v)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static gb_status parse_shape(gb_st_tensor *t, const gb_json *doc, int32_t node,
                             const char *what, gb_err *e) {
    if (node < 0 || doc->nodes[node].type != GB_JSON_ARRAY)
        return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s has no \"shape\" array", what, t->name);
    if (doc->nodes[node].count > GB_ST_MAX_DIMS)
        return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s has %d dimensions (at most %d supported)",
                       what, t->name, (int)doc->nodes[node].count, GB_ST_MAX_DIMS);
    t->ndim = doc->nodes[node].count;
    t->numel = 1;
    int32_t c = gb_json_first(doc, node);
    for (int d = 0; d < t->ndim; d++, c = doc->nodes[c].skip) {
        uint64_t dim;
        if (json_uint(doc, c, &dim) != 0 || dim > INT64_MAX)
            return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s: shape entries must be non-negative integers",
                           what, t->name);
        t->shape[d] = (int64_t)dim;
        if (!gb_mul_size(t->numel, (size_t)dim, &t->numel) || (uint64_t)(size_t)dim != dim)
            return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s: shape overflows", what, t->name);
    }
    return GB_OK;
}

static gb_status parse_tensor(gb_st_tensor *t, const gb_json *doc, int32_t obj,
                              size_t data_len, const char *what, gb_err *e) {
    if (doc->nodes[obj].type != GB_JSON_OBJECT)
        return GB_FAIL(e, GB_E_FORMAT, "%s: entry %s is not an object", what, t->name);
    int32_t dt = gb_json_get(doc, obj, "dtype");
    if (dt < 0 || parse_dtype(doc, dt, &t->dtype) != 0) {
        char got[32] = "missing";
        size_t n = 0;
        if (dt >= 0 && gb_json_string(doc, dt, got, sizeof got - 1, &n) == 0)
            got[n < sizeof got - 1 ? n : sizeof got - 1] = 0;
        return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s has unknown dtype \"%s\" (expected F32, F16, BF16, ...)",
                       what, t->name, got);
    }
    gb_status s = parse_shape(t, doc, gb_json_get(doc, obj, "shape"), what, e);
    if (s) return s;
    int32_t off = gb_json_get(doc, obj, "data_offsets");
    uint64_t b, en;
    if (off < 0 || doc->nodes[off].type != GB_JSON_ARRAY || doc->nodes[off].count != 2 ||
        json_uint(doc, off + 1, &b) || json_uint(doc, doc->nodes[off + 1].skip, &en))
        return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s needs \"data_offsets\": [begin, end]", what,
                       t->name);
    if (b > en || en > data_len)
        return GB_FAIL(e, GB_E_FORMAT,
                       "%s: tensor %s has data_offsets [%llu, %llu] outside the %zu-byte data section (file truncated?)",
                       what, t->name, (unsigned long long)b, (unsigned long long)en, data_len);
    t->begin = (size_t)b;
    t->end = (size_t)en;
    size_t want;
    if (!gb_mul_size(t->numel, dtype_info[t->dtype].size, &want) || want != t->end - t->begin)
        return GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s holds %zu bytes but dtype %s x shape needs %zu",
                       what, t->name, t->end - t->begin, dtype_info[t->dtype].name, want);
    return GB_OK;
}

/* Data order: by begin, then end, so a zero-byte tensor sits before a
 * tensor starting at the same offset. */
static int by_range(const void *a, const void *b) {
    const gb_st_tensor *x = *(const gb_st_tensor *const *)a, *y = *(const gb_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const gb_st_tensor *const *)a)->name, (*(const gb_st_tensor *const *)b)->name);
}

/* What the reference library (safetensors' validate) refuses, refused here:
 * a name listed twice (one would shadow the other), two tensors sharing
 * bytes (they would alias), bytes no tensor claims between, before or after
 * the tensors (the offsets do not describe the file). */
static gb_status check_layout(gb_safetensors *st, gb_err *e) {
    int n = st->n_tensors;
    if (n == 0)
        return st->data_len ? GB_FAIL(e, GB_E_FORMAT, "%s: the data section holds %zu bytes but the header lists no tensors",
                                      st->what, st->data_len)
                            : GB_OK;
    gb_st_tensor **order = malloc(sizeof *order * (size_t)n);
    if (!order) return GB_FAIL(e, GB_E_OOM, "%s: out of memory", st->what);
    for (int i = 0; i < n; i++) order[i] = &st->tensors[i];
    gb_status s = GB_OK;
    qsort(order, (size_t)n, sizeof *order, by_name);
    for (int i = 1; i < n && !s; i++)
        if (strcmp(order[i]->name, order[i - 1]->name) == 0)
            s = GB_FAIL(e, GB_E_FORMAT, "%s: tensor %s is listed twice in the header", st->what, order[i]->name);
    qsort(order, (size_t)n, sizeof *order, by_range);
    if (!s && order[0]->begin != 0)
        s = GB_FAIL(e, GB_E_FORMAT, "%s: the data section starts with %zu bytes no tensor claims (first tensor %s begins at %zu)",
                    st->what, order[0]->begin, order[0]->name, order[0]->begin);
    for (int i = 1; i < n && !s; i++) {
        const gb_st_tensor *p = order[i - 1], *t = order[i];
        if (t->begin < p->end)
            s = GB_FAIL(e, GB_E_FORMAT, "%s: tensors %s [%zu, %zu) and %s [%zu, %zu) overlap in the data section",
                        st->what, p->name, p->begin, p->end, t->name, t->begin, t->end);
        else if (t->begin > p->end)
            s = GB_FAIL(e, GB_E_FORMAT, "%s: %zu bytes between tensors %s (ends at %zu) and %s (begins at %zu) belong to no tensor",
                        st->what, t->begin - p->end, p->name, p->end, t->name, t->begin);
    }
    if (!s && order[n - 1]->end != st->data_len)
        s = GB_FAIL(e, GB_E_FORMAT, "%s: the data section has %zu bytes after the last tensor %s (ends at %zu of %zu)",
                    st->what, st->data_len - order[n - 1]->end, order[n - 1]->name, order[n - 1]->end, st->data_len);
    free(order);
    return s;
}

/* __metadata__, when present, is an object of strings to strings. */
static gb_status check_metadata(const gb_safetensors *st, const gb_json *doc, int32_t v, gb_err *e) {
    if (doc->nodes[v].type != GB_JSON_OBJECT)
        return GB_FAIL(e, GB_E_FORMAT, "%s: __metadata__ must be a JSON object of strings to strings", st->what);
    int32_t k = gb_json_first(doc, v);
    for (int32_t i = 0; i < doc->nodes[v].count; i++) {
        int32_t val = doc->nodes[k].skip;
        if (doc->nodes[val].type != GB_JSON_STRING) {
            char key[64] = "";
            size_t n = 0;
            gb_json_string(doc, k, key, sizeof key - 1, &n);
            key[n < sizeof key - 1 ? n : sizeof key - 1] = 0;
            return GB_FAIL(e, GB_E_FORMAT, "%s: __metadata__ entry \"%s\" is not a string (metadata maps strings to strings)",
                           st->what, key);
        }
        k = doc->nodes[val].skip;
    }
    return GB_OK;
}

static gb_status parse_entries(gb_safetensors *st, const gb_json *doc, gb_err *e) {
    int32_t n_pairs = doc->nodes[0].count;
    if (n_pairs > GB_ST_MAX_TENSORS)
        return GB_FAIL(e, GB_E_FORMAT, "%s: %d tensors (limit %d)", st->what, (int)n_pairs,
                       GB_ST_MAX_TENSORS);
    st->tensors = calloc((size_t)n_pairs + 1, sizeof *st->tensors);
    if (!st->tensors) return GB_FAIL(e, GB_E_OOM, "%s: out of memory", st->what);
    int32_t k = gb_json_first(doc, 0);
    for (int32_t i = 0; i < n_pairs; i++) {
        int32_t v = doc->nodes[k].skip;
        gb_status s;
        if (gb_json_string_eq(doc, k, "__metadata__")) {
            s = check_metadata(st, doc, v, e);
        } else {
            gb_st_tensor *t = &st->tensors[st->n_tensors];
            size_t n = 0;
            gb_json_string(doc, k, NULL, 0, &n);
            if (!(t->name = malloc(n + 1)))
                return GB_FAIL(e, GB_E_OOM, "%s: out of memory", st->what);
            gb_json_string(doc, k, t->name, n, &n);
            t->name[n] = 0;
            st->n_tensors++;
            s = parse_tensor(t, doc, v, st->data_len, st->what, e);
        }
        if (s) return s;
        k = doc->nodes[v].skip;
    }
    return check_layout(st, e);
}

gb_status gb_st_parse_header(gb_safetensors *st, const uint8_t *header, size_t header_len,
                             size_t file_len, const char *what, gb_err *e) {
    memset(st, 0, sizeof *st);
    st->what = what;
    if (!gb_add_size(8, header_len, &st->data_offset) || st->data_offset > file_len)
        return GB_FAIL(e, GB_E_FORMAT,
                       "%s: header length %zu is larger than the file (%zu bytes): truncated or not safetensors",
                       what, header_len, file_len);
    st->data_len = file_len - st->data_offset;
    gb_json doc;
    gb_status s = gb_json_parse(&doc, (const char *)header, header_len, what, e);
    if (s) return s;
    if (doc.nodes[0].type != GB_JSON_OBJECT)
        s = GB_FAIL(e, GB_E_FORMAT, "%s: header is not a JSON object", what);
    else
        s = parse_entries(st, &doc, e);
    gb_json_free(&doc);
    if (s) gb_st_free(st);
    return s;
}

gb_status gb_st_header_len(const uint8_t first8[8], size_t file_len, const char *what, size_t *out,
                           gb_err *e) {
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | first8[i];
    if (hlen > file_len - 8)
        return GB_FAIL(e, GB_E_FORMAT,
                       "%s: header length %llu is larger than the file (%zu bytes): truncated or not safetensors",
                       what, (unsigned long long)hlen, file_len);
    if (hlen > GB_ST_MAX_HEADER)
        return GB_FAIL(e, GB_E_FORMAT, "%s: header of %llu bytes exceeds the %u-byte limit", what,
                       (unsigned long long)hlen, GB_ST_MAX_HEADER);
    *out = (size_t)hlen;
    return GB_OK;
}

gb_status gb_st_parse(gb_safetensors *st, const uint8_t *buf, size_t len, const char *what,
                      gb_err *e) {
    memset(st, 0, sizeof *st);
    st->what = what;
    if (!buf || len < 8)
        return GB_FAIL(e, GB_E_FORMAT, "%s: file is %zu bytes, too short for a safetensors header",
                       what, len);
    size_t hlen;
    gb_status s = gb_st_header_len(buf, len, what, &hlen, e);
    if (!s) s = gb_st_parse_header(st, buf + 8, hlen, len, what, e);
    if (!s) st->data = buf + st->data_offset;
    return s;
}

void gb_st_free(gb_safetensors *st) {
    for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    st->tensors = NULL;
    st->n_tensors = 0;
}

const gb_st_tensor *gb_st_find(const gb_safetensors *st, const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

float gb_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);            /* inf / NaN */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);     /* normal: rebias 15 -> 127 */
    } else if (man == 0) {
        bits = sign;                                         /* zero */
    } else {                                                 /* subnormal: normalise */
        int shift = 0;
        while (!(man & 0x400)) { man <<= 1; shift++; }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float gb_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

gb_status gb_st_read_f32(const gb_safetensors *st, const gb_st_tensor *t, float *out, gb_err *e) {
    const uint8_t *p = st->data + t->begin;
    switch (t->dtype) {
    case GB_DT_F32:
        memcpy(out, p, t->numel * 4); /* little-endian hosts only (x86, wasm) */
        return GB_OK;
    case GB_DT_F16:
        for (size_t i = 0; i < t->numel; i++)
            out[i] = gb_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return GB_OK;
    case GB_DT_BF16:
        for (size_t i = 0; i < t->numel; i++)
            out[i] = gb_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return GB_OK;
    default:
        return GB_FAIL(e, GB_E_SHAPE, "%s: tensor %s has dtype %s; weights must be F32, F16 or BF16",
                       st->what, t->name, gb_dtype_name(t->dtype));
    }
}
