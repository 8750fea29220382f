/* loader.c — the one loading pipeline (loader.h): config.json parsed once at
 * begin; model.safetensors' header collected as it arrives and parsed once
 * (strictly: gb_st_parse_header); one plan (gb_model_plan: every tensor found
 * and checked, the arena allocated, each weight given its place and the
 * kernels' layout); then every later byte goes straight to its weight through
 * the kernels' writer (gb_layout_write), converted from F16/BF16 on the way
 * if need be, or is dropped (tensors the model does not use, such as
 * attn.bias buffers). Each weight byte is written once; the file itself is
 * never held. An error in the header is reported by the write that completes
 * it, not at the end of a long download. */
#include "load/loader.h"

#include <stdlib.h>
#include <string.h>

#include "load/safetensors.h"

/* Half-precision weights are converted through this many floats at a time. */
#define STAGE_FLOATS 4096

struct gb_loader {
    gb_model_config mc;
    size_t len, pos;            /* announced size of model.safetensors; bytes written so far */
    uint8_t first8[8];          /* the header's length */
    uint8_t *header;            /* the header's JSON as it arrives, until planned */
    size_t header_len;
    int planned;
    gb_model model;             /* the weights being filled (arena allocated by the plan) */
    gb_weight_dest *dests;      /* in file order */
    int n_dests, next;          /* next: first dest not yet fully written */
    float *scratch;             /* for gb_layout_write (one LM-head panel) */
    float *stage;               /* STAGE_FLOATS converted half-precision weights */
    uint8_t carry;              /* first byte of a half-precision weight cut between pieces */
};

/* A file can be at most the weight limit plus a header: anything larger could
 * not load, so it is refused before anything is allocated. */
#define MAX_FILE_BYTES (GB_MAX_WEIGHT_BYTES + GB_ST_MAX_HEADER + 8)
#define WHAT "model.safetensors"

void gb_loader_free(gb_loader *l) {
    if (!l) return;
    free(l->header);
    gb_model_free(&l->model);
    free(l->dests);
    free(l->scratch);
    free(l->stage);
    free(l);
}

gb_status gb_loader_begin(gb_loader **out, const uint8_t *config_json, size_t config_len,
                          size_t safetensors_len, gb_err *e) {
    *out = NULL;
    if (!config_json) return GB_FAIL(e, GB_E_ARG, "config.json is required");
    if ((uint64_t)safetensors_len > MAX_FILE_BYTES)
        return GB_FAIL(e, GB_E_OOM, WHAT " is %.2f GB; the most this engine can load is %.2f GB",
                       safetensors_len / 1e9, MAX_FILE_BYTES / 1e9);
    gb_loader *l = calloc(1, sizeof *l);
    if (!l) return GB_FAIL(e, GB_E_OOM, "out of memory starting a load");
    gb_status st = gb_config_parse(&l->mc, config_json, config_len, e);
    if (!st && safetensors_len < 8)
        st = GB_FAIL(e, GB_E_FORMAT, WHAT ": file is %zu bytes, too short for a safetensors header", safetensors_len);
    if (st) {
        gb_loader_free(l);
        return st;
    }
    l->len = safetensors_len;
    *out = l;
    return GB_OK;
}

/* The whole header is in: parse it, plan, and get the buffers the writes need. */
static gb_status plan(gb_loader *l, gb_err *e) {
    gb_safetensors st;
    gb_status s = gb_st_parse_header(&st, l->header, l->header_len, l->len, WHAT, e);
    if (s) return s;
    s = gb_model_plan(&l->model, &l->mc, &st, &l->dests, &l->n_dests, e);
    gb_st_free(&st);
    free(l->header);
    l->header = NULL;
    if (s) return s;
    size_t scratch = 0;
    int halves = 0;
    for (int i = 0; i < l->n_dests; i++) {
        size_t f = gb_layout_scratch_floats(&l->dests[i].layout);
        scratch = f > scratch ? f : scratch;
        halves |= l->dests[i].dtype != GB_DT_F32;
    }
    l->scratch = malloc(sizeof(float) * (scratch ? scratch : 1));
    l->stage = halves ? malloc(sizeof(float) * STAGE_FLOATS) : NULL;
    if (!l->scratch || (halves && !l->stage)) return GB_FAIL(e, GB_E_OOM, "out of memory planning the load");
    l->planned = 1;
    return GB_OK;
}

static float half_to_f32(gb_dtype dt, uint16_t h) {
    return dt == GB_DT_F16 ? gb_f16_to_f32(h) : gb_bf16_to_f32(h);
}

/* Bytes [off, off + n) of weight d as stored. F32 goes to the writer as is;
 * F16/BF16 is converted whole weights at a time (a weight cut between pieces
 * waits in l->carry for its second byte), then written as F32 at 2 * off. */
static void write_weight(gb_loader *l, const gb_weight_dest *d, size_t off, const uint8_t *src, size_t n) {
    if (d->dtype == GB_DT_F32) {
        gb_layout_write(&d->layout, d->dst, off, src, n, l->scratch);
        return;
    }
    while (n) {
        size_t k = n / 2 < STAGE_FLOATS ? n / 2 : STAGE_FLOATS, used;
        if (off % 2) { /* the second byte of a cut weight */
            l->stage[0] = half_to_f32(d->dtype, (uint16_t)(l->carry | src[0] << 8));
            k = 1, used = 1;
        } else if (k == 0) { /* n == 1: the first byte of a cut weight */
            l->carry = src[0];
            off++, src++, n--;
            continue;
        } else {
            for (size_t i = 0; i < k; i++) l->stage[i] = half_to_f32(d->dtype, (uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
            used = 2 * k;
        }
        gb_layout_write(&d->layout, d->dst, off / 2 * sizeof(float), (const uint8_t *)l->stage, k * sizeof(float), l->scratch);
        off += used, src += used, n -= used;
    }
}

gb_status gb_loader_write(gb_loader *l, const uint8_t *bytes, size_t n, gb_err *e) {
    if (!bytes && n) return GB_FAIL(e, GB_E_ARG, "load: NULL bytes");
    if (n > l->len - l->pos)
        return GB_FAIL(e, GB_E_FORMAT, WHAT ": more bytes arrived than the %zu announced; load cancelled", l->len);
    while (n) {
        size_t m;
        if (l->pos < 8) { /* the header's length */
            m = 8 - l->pos < n ? 8 - l->pos : n;
            memcpy(l->first8 + l->pos, bytes, m);
            if (l->pos + m == 8) {
                gb_status s = gb_st_header_len(l->first8, l->len, WHAT, &l->header_len, e);
                if (!s && !(l->header = malloc(l->header_len ? l->header_len : 1)))
                    s = GB_FAIL(e, GB_E_OOM, "out of memory for the %zu-byte header of " WHAT, l->header_len);
                if (!s && l->header_len == 0) s = plan(l, e);
                if (s) return s;
            }
        } else if (!l->planned) { /* the header */
            size_t at = l->pos - 8;
            m = l->header_len - at < n ? l->header_len - at : n;
            memcpy(l->header + at, bytes, m);
            if (at + m == l->header_len) {
                gb_status s = plan(l, e);
                if (s) return s;
            }
        } else { /* the data: each weight's bytes to its place, others dropped */
            while (l->next < l->n_dests && l->dests[l->next].end <= l->pos) l->next++;
            const gb_weight_dest *d = l->next < l->n_dests ? &l->dests[l->next] : NULL;
            if (d && l->pos >= d->begin) {
                m = d->end - l->pos < n ? d->end - l->pos : n;
                write_weight(l, d, l->pos - d->begin, bytes, m);
            } else {
                size_t stop = d ? d->begin : l->len;
                m = stop - l->pos < n ? stop - l->pos : n;
            }
        }
        l->pos += m;
        bytes += m;
        n -= m;
    }
    return GB_OK;
}

gb_status gb_loader_finish(gb_loader *l, gb_model *m, gb_err *e) {
    if (l->pos != l->len)
        return GB_FAIL(e, GB_E_FORMAT, WHAT ": the data ended after %zu of the %zu bytes announced (truncated download?)",
                       l->pos, l->len);
    *m = l->model; /* planned: pos == len reaches the end of the header */
    memset(&l->model, 0, sizeof l->model);
    return GB_OK;
}
