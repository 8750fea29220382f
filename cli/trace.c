/* trace.c — the CLI's `trace` output: a safetensors file readable by Python's
 * safetensors, holding the tokens and every named activation of the run. */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[96];
    int hook, layer;
    gb_shape shape;
} entry;

/* Every (hook, layer) of the loaded model, in hook order. */
static entry *list_entries(gb_ctx *ctx, int *n) {
    int L = gb_get_config(ctx)->n_layer, count = 0;
    entry *es = calloc((size_t)gb_num_hooks() * (size_t)L, sizeof *es);
    for (int h = 0; es && h < gb_num_hooks(); h++) {
        int per = gb_hook_is_per_layer(h);
        for (int l = per ? 0 : -1; l < (per ? L : 0); l++) {
            entry *e = &es[count++];
            snprintf(e->name, sizeof e->name, gb_hook_pattern(h), l);
            e->hook = h;
            e->layer = l;
            gb_activation_shape(ctx, h, l, &e->shape, NULL);
        }
    }
    *n = count;
    return es;
}

/* JSON header: tokens first, then entries at consecutive offsets. */
static char *build_header(gb_ctx *ctx, const entry *es, int n, size_t *hlen) {
    size_t cap = 256 + (size_t)n * 200, used = 0, off = 0;
    char *h = malloc(cap);
    if (!h) return NULL;
    size_t tok_bytes = (size_t)gb_num_tokens(ctx) * 4;
    used += (size_t)snprintf(h + used, cap - used,
                             "{\"tokens\":{\"dtype\":\"I32\",\"shape\":[%d],\"data_offsets\":[0,%zu]}",
                             gb_num_tokens(ctx), tok_bytes);
    off = tok_bytes;
    for (int i = 0; i < n; i++) {
        const gb_shape *s = &es[i].shape;
        used += (size_t)snprintf(h + used, cap - used, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", es[i].name);
        for (int d = 0; d < s->ndim; d++)
            used += (size_t)snprintf(h + used, cap - used, d ? ",%d" : "%d", s->shape[d]);
        used += (size_t)snprintf(h + used, cap - used, "],\"data_offsets\":[%zu,%zu]}", off,
                                 off + s->numel * 4);
        off += s->numel * 4;
    }
    used += (size_t)snprintf(h + used, cap - used, "}");
    while (used % 8) h[used++] = ' '; /* keeps the data section 8-byte aligned */
    *hlen = used;
    return h;
}

static gb_status write_all(gb_ctx *ctx, FILE *f, const entry *es, int n, const char *hdr,
                           size_t hlen) {
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(hdr, 1, hlen, f);
    fwrite(gb_tokens(ctx), 4, (size_t)gb_num_tokens(ctx), f);
    gb_status s = GB_OK;
    for (int i = 0; i < n && !s; i++) {
        float *buf = malloc(es[i].shape.numel * sizeof(float) + 1);
        if (!buf) return gb_report_error(ctx, GB_E_OOM, "out of memory writing the trace");
        s = gb_activation_copy(ctx, es[i].hook, es[i].layer, buf, es[i].shape.numel);
        if (!s) fwrite(buf, sizeof(float), es[i].shape.numel, f);
        free(buf);
    }
    return s;
}

gb_status gb_write_trace(gb_ctx *ctx, const char *path) {
    int n = 0;
    size_t hlen = 0;
    entry *es = list_entries(ctx, &n);
    char *hdr = es ? build_header(ctx, es, n, &hlen) : NULL;
    if (!hdr) { free(es); return gb_report_error(ctx, GB_E_OOM, "out of memory writing the trace"); }
    FILE *f = fopen(path, "wb");
    gb_status s;
    if (!f) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s: cannot write: %s", path, strerror(errno));
        s = gb_report_error(ctx, GB_E_IO, msg);
    } else {
        s = write_all(ctx, f, es, n, hdr, hlen);
        if (fclose(f) != 0 && !s) s = gb_report_error(ctx, GB_E_IO, "trace: write failed (disk full?)");
    }
    free(hdr);
    free(es);
    return s;
}
