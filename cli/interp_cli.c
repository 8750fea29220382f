/* interp_cli.c — the safetensors writer and argument helpers of
 * `glassbox patch` and `glassbox attribute` (interp_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp_cli.h"

static size_t numel_of(const cli_out_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

gb_status cli_write_tensors(gb_ctx *ctx, const char *path, const cli_out_tensor *t, int n) {
    size_t cap = 256 + (size_t)n * 160, len = 0, off = 0;
    char *hdr = malloc(cap);
    if (!hdr) return gb_report_error(ctx, GB_E_OOM, "out of memory writing the safetensors header");
    len += (size_t)snprintf(hdr + len, cap - len, "{\"__metadata__\":{\"format\":\"glassbox-interp-1\"}");
    for (int i = 0; i < n; i++) {
        size_t bytes = numel_of(&t[i]) * 4;
        len += (size_t)snprintf(hdr + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].name,
                                t[i].is_i32 ? "I32" : "F32");
        for (int d = 0; d < t[i].ndim; d++)
            len += (size_t)snprintf(hdr + len, cap - len, "%s%d", d ? "," : "", t[i].shape[d]);
        len += (size_t)snprintf(hdr + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
        off += bytes;
    }
    len += (size_t)snprintf(hdr + len, cap - len, "}");
    while (len % 8) hdr[len++] = ' '; /* cap leaves room: the 8-byte alignment of the data */
    FILE *f = fopen(path, "wb");
    if (!f) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s: cannot write: %s", path, strerror(errno));
        free(hdr);
        return gb_report_error(ctx, GB_E_IO, msg);
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)len >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, len, f) == len;
    for (int i = 0; ok && i < n; i++) ok = fwrite(t[i].data, 4, numel_of(&t[i]), f) == numel_of(&t[i]);
    ok = fclose(f) == 0 && ok;
    free(hdr);
    return ok ? GB_OK : gb_report_error(ctx, GB_E_IO, "write failed (disk full?)");
}

int cli_out_add(cli_out_tensor *list, int n, int cap, const char *name, int is_i32, const void *data, int ndim,
               int d0, int d1, int d2) {
    if (n >= cap) return n;
    cli_out_tensor *t = &list[n];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->is_i32 = is_i32;
    t->ndim = ndim;
    t->shape[0] = d0; t->shape[1] = d1; t->shape[2] = d2;
    t->data = data;
    return n + 1;
}

int32_t *cli_tokens(gb_ctx *ctx, const char *ids_csv, const char *text, int *n) {
    *n = 0;
    if (ids_csv) {
        int32_t *ids = malloc(sizeof *ids * (strlen(ids_csv) / 2 + 1));
        const char *p = ids_csv;
        while (ids && *p) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || (*end && *end != ',') || v < 0 || v > 0x7fffffff) {
                gb_report_error(ctx, GB_E_ARG, "token lists must be comma-separated non-negative integers");
                free(ids);
                return NULL;
            }
            ids[(*n)++] = (int32_t)v;
            p = *end ? end + 1 : end;
        }
        return ids;
    }
    if (!text) { gb_report_error(ctx, GB_E_ARG, "a prompt is missing (text or a token list)"); return NULL; }
    size_t len = strlen(text);
    int32_t *ids = malloc(sizeof *ids * (len + 1));
    if (!ids || gb_tokenize(ctx, text, len, ids, NULL, (int)len + 1, n) != GB_OK) { free(ids); return NULL; }
    return ids;
}

int cli_token(gb_ctx *ctx, const char *spec, const char *what) {
    char msg[300];
    if (!spec) {
        snprintf(msg, sizeof msg, "--%s is required: a token's text (one token) or #id", what);
        gb_report_error(ctx, GB_E_ARG, msg);
        return -1;
    }
    if (spec[0] == '#' && spec[1]) {
        char *end;
        long v = strtol(spec + 1, &end, 10);
        const gb_config *c = gb_get_config(ctx);
        if (*end || v < 0 || !c || v >= c->vocab_size) {
            snprintf(msg, sizeof msg, "--%s %s: not an id of the vocabulary", what, spec);
            gb_report_error(ctx, GB_E_RANGE, msg);
            return -1;
        }
        return (int)v;
    }
    int n = 0;
    int32_t *ids = cli_tokens(ctx, NULL, spec, &n);
    int id = ids && n == 1 ? ids[0] : -1;
    if (ids && n != 1) {
        snprintf(msg, sizeof msg, "--%s \"%s\" is %d tokens; give one token's text (e.g. \" Paris\") or #id", what,
                 spec, n);
        gb_report_error(ctx, GB_E_ARG, msg);
    }
    free(ids);
    return id;
}
