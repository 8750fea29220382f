/* fileio.c — reads files, standard input and model directories for native
 * callers (the CLI and the native tests). */
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *cli_read_file(const char *path, size_t *len, char *err, size_t cap) {
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
    uint8_t *buf = cli_read_file(path, len, err, cap);
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

/* The tokenizer is optional: config.json + model.safetensors alone is a
 * model that runs on token ids. Half a tokenizer (vocab.json without
 * merges.txt, or the reverse, and no tokenizer.json) is an error: the user
 * most likely forgot a file. */
gb_status cli_load_model_dir(gb_ctx *ctx, const char *dir) {
    char err[4400] = "", path[4096];
    size_t lc = 0, lv = 0, lm = 0, lt = 0;
    gb_status st = GB_OK;
    uint8_t *cfg = read_in_dir(dir, "config.json", &lc, 1, err, sizeof err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = cfg ? fopen(path, "rb") : NULL;
    if (cfg && !f) snprintf(err, sizeof err, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *voc = NULL, *mrg = NULL, *tkj = NULL;
    int half = 0;
    if (f) {
        char ignore[600];
        voc = read_in_dir(dir, "vocab.json", &lv, 0, ignore, sizeof ignore);
        mrg = read_in_dir(dir, "merges.txt", &lm, 0, ignore, sizeof ignore);
        if (!voc || !mrg) {
            tkj = read_in_dir(dir, "tokenizer.json", &lt, 0, ignore, sizeof ignore);
            half = !tkj && (voc || mrg);
            if (half)
                snprintf(err, sizeof err, "%s: %s without %s (give both, or tokenizer.json, or neither for a model run on token ids)",
                         dir, voc ? "vocab.json" : "merges.txt", voc ? "merges.txt" : "vocab.json");
        }
    }
    if (!cfg || !f || half) {
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

uint8_t *cli_read_stream(FILE *f, const char *what, size_t *len, char *err, size_t cap) {
    size_t n = 0, size = 1 << 16;
    uint8_t *buf = malloc(size + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, size - n, f);
        n += got;
        if (got == 0) break;
        if (n == size) {
            uint8_t *b = size > ((size_t)1 << 30) ? NULL : realloc(buf, 2 * size + 1);
            if (!b) {
                free(buf);
                snprintf(err, cap, "%s: more than 1 GB, or out of memory", what);
                return NULL;
            }
            buf = b, size *= 2;
        }
    }
    if (!buf) {
        snprintf(err, cap, "%s: out of memory", what);
        return NULL;
    }
    if (ferror(f)) {
        snprintf(err, cap, "%s: read failed: %s", what, strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}
