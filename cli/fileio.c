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

gb_status gb_load_model_dir(gb_ctx *ctx, const char *dir) {
    char err[600] = "";
    size_t lc = 0, ls = 0, lv = 0, lm = 0, lt = 0;
    gb_status st = GB_OK;
    uint8_t *cfg = read_in_dir(dir, "config.json", &lc, 1, err, sizeof err);
    uint8_t *sft = cfg ? read_in_dir(dir, "model.safetensors", &ls, 1, err, sizeof err) : NULL;
    uint8_t *voc = NULL, *mrg = NULL, *tkj = NULL;
    if (sft) {
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
    if (!cfg || !sft || (!tkj && (!voc || !mrg))) {
        st = GB_E_IO;
    } else {
        st = gb_load_model(ctx, cfg, lc, sft, ls, tkj ? NULL : voc, tkj ? 0 : lv,
                           tkj ? NULL : mrg, tkj ? 0 : lm, tkj, lt);
    }
    free(cfg); free(sft); free(voc); free(mrg); free(tkj);
    if (st == GB_E_IO) gb_report_error(ctx, st, err);
    return st;
}
