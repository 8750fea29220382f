/* fuzz_safetensors.c — the safetensors header and tensor table.
 *
 * Input: a whole .safetensors file. Whatever gb_st_parse accepts must hold
 * up: every tensor inside the data section, its size equal to dtype x shape,
 * no two overlapping, and gb_st_read_f32 converting it (or refusing a
 * non-float dtype) without reading a byte outside the buffer. F16 and BF16
 * values are checked against a reference conversion written from the spec. */
#include <math.h>

#include "fuzz_util.h"
#include "load/safetensors.h"

static const size_t dtype_size[GB_DT_COUNT] = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1};

static float f16_ref(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0x1f) v = man ? NAN : INFINITY;
    else if (exp == 0) v = ldexp(man, -24);
    else v = ldexp(1024 + man, exp - 25);
    return (float)(sign ? -v : v);
}

static void check_tensor(const gb_safetensors *st, const gb_st_tensor *t) {
    FZ_ASSERT(t->begin <= t->end && t->end <= st->data_len, "%s: [%zu, %zu) outside %zu bytes", t->name,
              t->begin, t->end, st->data_len);
    FZ_ASSERT(t->ndim >= 0 && t->ndim <= GB_ST_MAX_DIMS, "ndim %d", t->ndim);
    size_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        FZ_ASSERT(t->shape[d] >= 0, "negative dim");
        numel *= (size_t)t->shape[d]; /* cannot wrap: the bytes are in the buffer, or a dim is 0 */
    }
    FZ_ASSERT(numel == t->numel, "numel %zu vs %zu", numel, t->numel);
    FZ_ASSERT(t->numel * dtype_size[t->dtype] == t->end - t->begin, "size");
    FZ_ASSERT(gb_st_find(st, t->name) != NULL, "find %s", t->name);
    gb_err e = {0};
    float *out = malloc(t->numel * sizeof(float) + 1);
    gb_status s = gb_st_read_f32(st, t, out, &e);
    if (t->dtype == GB_DT_F32 || t->dtype == GB_DT_F16 || t->dtype == GB_DT_BF16) {
        FZ_ASSERT(s == GB_OK, "read %s: %s", t->name, e.msg);
        const uint8_t *p = st->data + t->begin;
        for (size_t i = 0; i < t->numel; i++) {
            float want;
            if (t->dtype == GB_DT_F32) { memcpy(&want, p + 4 * i, 4); }
            else {
                uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
                if (t->dtype == GB_DT_F16) want = f16_ref(h);
                else { uint32_t b = (uint32_t)h << 16; memcpy(&want, &b, 4); }
            }
            FZ_ASSERT(memcmp(&want, &out[i], 4) == 0 || (isnan(want) && isnan(out[i])),
                      "%s[%zu]: %a vs %a", t->name, i, (double)out[i], (double)want);
        }
    } else {
        FZ_ASSERT(s == GB_E_SHAPE && e.msg[0], "non-float dtype %s accepted", gb_dtype_name(t->dtype));
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gb_safetensors st;
    gb_err e = {0};
    gb_status s = gb_st_parse(&st, data, size, "fuzz.safetensors", &e);
    if (s != GB_OK) {
        FZ_ASSERT(e.msg[0] && strstr(e.msg, "fuzz.safetensors"), "status %d without a message naming the file: %s",
                  (int)s, e.msg);
        FZ_ASSERT(st.tensors == NULL && st.n_tensors == 0, "failed parse kept tensors");
        return 0;
    }
    FZ_ASSERT(st.n_tensors >= 0 && st.n_tensors <= GB_ST_MAX_TENSORS, "n_tensors %d", st.n_tensors);
    FZ_ASSERT(st.data >= data && st.data + st.data_len == data + size, "data section");
    for (int i = 0; i < st.n_tensors; i++) check_tensor(&st, &st.tensors[i]);
    /* no two tensors share a byte (O(n^2) is fine at fuzz sizes) */
    for (int i = 0; i < st.n_tensors && i < 512; i++)
        for (int j = i + 1; j < st.n_tensors && j < 512; j++) {
            const gb_st_tensor *a = &st.tensors[i], *b = &st.tensors[j];
            int empty = a->begin == a->end || b->begin == b->end;
            FZ_ASSERT(empty || a->end <= b->begin || b->end <= a->begin, "%s and %s overlap", a->name, b->name);
        }
    gb_st_free(&st);
    return 0;
}
