/* fileio.c — reads files and model directories for native callers. */
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *gb_read_file(const char *path, size_t *len, char *err, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, cap, "%s: cannot determine file size", path);
    } else if (!(buf = malloc((size_t)size + 1))) {
        snprintf(err, cap, "%s: out of memory reading %ld bytes", path, size);
    } else if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, cap, "%s: read failed", path);
        free(buf);
        buf = NULL;
    } else {
        buf[size] = 0; /* convenience for text files; not counted in len */
        *len = (size_t)size;
    }
    fclose(f);
    return buf;
}

static uint8_t *read_in_dir(const char *dir, const char *name, size_t *len, int required,
                            char *err, size_t cap) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *buf = gb_read_file(path, len, err, cap);
    if (!buf && !required) *len = 0;
    return buf;
}

/* model.safetensors is read in pieces into the engine's streaming load
 * (gb_load_begin/write/finish): one copy of the file in memory, and the
 * weights packed as they arrive instead of in a second pass. */
static gb_status stream_safetensors(gb_ctx *ctx, FILE *f, const char *path, const uint8_t *cfg,
                                    size_t lc, char *err, size_t cap) {
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, cap, "%s: cannot determine file size", path);
        return GB_E_IO;
    }
    gb_status st = gb_load_begin(ctx, cfg, lc, (size_t)size);
    if (st) return st;
    enum { CHUNK = 4 << 20 };
    uint8_t *chunk = malloc(CHUNK);
    if (!chunk) {
        gb_load_cancel(ctx);
        snprintf(err, cap, "%s: out of memory", path);
        return GB_E_IO;
    }
    for (size_t left = (size_t)size; left && !st;) {
        size_t want = left < CHUNK ? left : CHUNK, got = fread(chunk, 1, want, f);
        if (got != want) {
            gb_load_cancel(ctx);
            snprintf(err, cap, "%s: read failed after %zu of %ld bytes", path, (size_t)size - left + got, size);
            st = GB_E_IO;
        } else {
            st = gb_load_write(ctx, chunk, got);
            left -= got;
        }
    }
    free(chunk);
    return st;
}

gb_status gb_load_model_dir(gb_ctx *ctx, const char *dir) {
    char err[4400] = "", path[4096];
    size_t lc = 0, lv = 0, lm = 0, lt = 0;
    gb_status st = GB_OK;
    uint8_t *cfg = read_in_dir(dir, "config.json", &lc, 1, err, sizeof err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = cfg ? fopen(path, "rb") : NULL;
    if (cfg && !f) snprintf(err, sizeof err, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *voc = NULL, *mrg = NULL, *tkj = NULL;
    if (f) {
        char ignore[600];
        voc = read_in_dir(dir, "vocab.json", &lv, 0, ignore, sizeof ignore);
        mrg = voc ? read_in_dir(dir, "merges.txt", &lm, 0, ignore, sizeof ignore) : NULL;
        if (!voc || !mrg) {
            tkj = read_in_dir(dir, "tokenizer.json", &lt, 0, ignore, sizeof ignore);
            if (!tkj)
                snprintf(err, sizeof err,
                         "%s: no tokenizer found: expected vocab.json + merges.txt, or tokenizer.json",
                         dir);
        }
    }
    if (!cfg || !f || (!tkj && (!voc || !mrg))) {
        st = GB_E_IO;
    } else {
        st = stream_safetensors(ctx, f, path, cfg, lc, err, sizeof err);
        if (!st)
            st = gb_load_finish(ctx, tkj ? NULL : voc, tkj ? 0 : lv, tkj ? NULL : mrg, tkj ? 0 : lm,
                                tkj, lt);
    }
    if (f) fclose(f);
    free(cfg); free(voc); free(mrg); free(tkj);
    if (st == GB_E_IO) gb_report_error(ctx, st, err);
    return st;
}
