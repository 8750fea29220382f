/* synth.h — builds small GPT-2 checkpoints in memory for tests that need a
 * model but not a reference: KV cache, sampling, ablation, corrupt inputs.
 *
 * The model has random weights from a fixed seed, a byte-level vocabulary of
 * the 256 bytes (id = byte value) with no merges, and is written exactly as
 * Hugging Face lays it out (config.json, safetensors with Conv1D shapes). */
#ifndef GB_SYNTH_H
#define GB_SYNTH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glassbox.h"

typedef struct {
    char *config; size_t config_len;
    uint8_t *st; size_t st_len;
    char *vocab; size_t vocab_len;
    char *merges; size_t merges_len;
} synth_model;

static uint64_t synth_rng = 0x1234567;
static float synth_randn(void) { /* uniform in [-1, 1), enough for tests */
    synth_rng ^= synth_rng << 13; synth_rng ^= synth_rng >> 7; synth_rng ^= synth_rng << 17;
    return (float)((synth_rng >> 40) * (1.0 / 8388608.0) - 1.0);
}

typedef struct { char name[64]; int ndim; int d[4]; } synth_tensor;

/* 0: names as save_pretrained writes them ("transformer." prefix).
 * 1: as the hub's gpt2 files are published: no prefix, plus the attn.bias
 *    causal-mask buffers [1,1,P,P] and attn.masked_bias scalars, all unused. */
static int synth_published_layout = 0;

static int synth_list(synth_tensor *t, int L, int C, int M, int V, int P) {
    int n = 0;
    const char *pre = synth_published_layout ? "" : "transformer.";
#define T_(nd, a, b, fmt, ...) do { snprintf(t[n].name, 64, "%s" fmt, pre, __VA_ARGS__); t[n].ndim = nd; \
        t[n].d[0] = a; t[n].d[1] = b; n++; } while (0)
    T_(2, V, C, "wte.weight%s", "");
    T_(2, P, C, "wpe.weight%s", "");
    for (int l = 0; l < L; l++) {
        if (synth_published_layout) {
            snprintf(t[n].name, 64, "h.%d.attn.bias", l);
            t[n].ndim = 4; t[n].d[0] = 1; t[n].d[1] = 1; t[n].d[2] = P; t[n].d[3] = P; n++;
            snprintf(t[n].name, 64, "h.%d.attn.masked_bias", l);
            t[n].ndim = 0; n++;
        }
        T_(1, C, 0, "h.%d.ln_1.weight", l); T_(1, C, 0, "h.%d.ln_1.bias", l);
        T_(2, C, 3 * C, "h.%d.attn.c_attn.weight", l); T_(1, 3 * C, 0, "h.%d.attn.c_attn.bias", l);
        T_(2, C, C, "h.%d.attn.c_proj.weight", l); T_(1, C, 0, "h.%d.attn.c_proj.bias", l);
        T_(1, C, 0, "h.%d.ln_2.weight", l); T_(1, C, 0, "h.%d.ln_2.bias", l);
        T_(2, C, M, "h.%d.mlp.c_fc.weight", l); T_(1, M, 0, "h.%d.mlp.c_fc.bias", l);
        T_(2, M, C, "h.%d.mlp.c_proj.weight", l); T_(1, C, 0, "h.%d.mlp.c_proj.bias", l);
    }
    T_(1, C, 0, "ln_f.weight%s", ""); T_(1, C, 0, "ln_f.bias%s", "");
#undef T_
    return n;
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * rest to 256, 257, ... in byte order. */
static int synth_byte_char(int b) {
    int n = 0;
    for (int x = 0; x < 256; x++) {
        int printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
        if (x == b) return printable ? x : 256 + n;
        if (!printable) n++;
    }
    return -1;
}

static void synth_free(synth_model *m) {
    free(m->config); free(m->st); free(m->vocab); free(m->merges);
    memset(m, 0, sizeof *m);
}

/* config.json and model.safetensors only, with vocab_size V (the tokenizer
 * files are left to the caller; the fuzz targets pair it with their own). */
static void synth_make_weights(synth_model *m, int L, int H, int C, int P, int V) {
    int M = 4 * C;
    synth_tensor *ts = malloc(sizeof *ts * (size_t)(4 + 14 * L));
    int n = synth_list(ts, L, C, M, V, P);
    m->config = malloc(512);
    m->config_len = (size_t)snprintf(m->config, 512,
        "{\"model_type\":\"gpt2\",\"n_layer\":%d,\"n_head\":%d,\"n_embd\":%d,\"n_positions\":%d,"
        "\"vocab_size\":%d,\"layer_norm_epsilon\":1e-05,\"activation_function\":\"gelu_new\",\"n_inner\":null}",
        L, H, C, P, V);
    size_t hcap = 128 * (size_t)n + 64, hl = 0, off = 0;
    char *hdr = malloc(hcap);
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n; i++) {
        size_t bytes = 4;
        hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", ts[i].name);
        for (int k = 0; k < ts[i].ndim; k++) {
            bytes *= (size_t)ts[i].d[k];
            hl += (size_t)snprintf(hdr + hl, hcap - hl, k ? ",%d" : "%d", ts[i].d[k]);
        }
        hl += (size_t)snprintf(hdr + hl, hcap - hl, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
        off += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "}");
    m->st_len = 8 + hl + off;
    m->st = malloc(m->st_len);
    for (int i = 0; i < 8; i++) m->st[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(m->st + 8, hdr, hl);
    /* each tensor's values depend only on its unprefixed name, so both
     * layouts hold the same model */
    float *w = (float *)malloc(off), *p = w;
    for (int i = 0; i < n; i++) {
        const char *nm = strncmp(ts[i].name, "transformer.", 12) ? ts[i].name : ts[i].name + 12;
        synth_rng = 1469598103934665603ull;
        for (const char *c = nm; *c; c++) synth_rng = (synth_rng ^ (unsigned char)*c) * 1099511628211ull;
        size_t numel = 1;
        for (int k = 0; k < ts[i].ndim; k++) numel *= (size_t)ts[i].d[k];
        for (size_t j = 0; j < numel; j++) *p++ = 0.5f * synth_randn();
    }
    memcpy(m->st + 8 + hl, w, off);
    free(w);
    free(hdr);
    free(ts);
}

/* Pads the header with spaces to a multiple of 8 bytes, as the safetensors
 * writer does, so every F32 tensor is 4-byte aligned and can be used (and
 * packed) where it lies. synth_make_weights leaves headers unpadded, so the
 * tests also see misaligned tensors. */
static inline void synth_pad_header(synth_model *m) {
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | m->st[i];
    size_t pad = (8 - (8 + hlen) % 8) % 8, len = m->st_len + pad;
    uint8_t *st = malloc(len);
    for (int i = 0; i < 8; i++) st[i] = (uint8_t)((hlen + pad) >> (8 * i));
    memcpy(st + 8, m->st + 8, (size_t)hlen);
    memset(st + 8 + hlen, ' ', pad);
    memcpy(st + 8 + hlen + pad, m->st + 8 + hlen, m->st_len - 8 - (size_t)hlen);
    free(m->st);
    m->st = st;
    m->st_len = len;
}

/* A model with the 256-byte vocabulary (id = byte) and no merges. */
static void synth_make(synth_model *m, int L, int H, int C, int P) {
    synth_make_weights(m, L, H, C, P, 256);
    m->vocab = malloc(256 * 16 + 8);
    size_t vl = 0;
    m->vocab[vl++] = '{';
    for (int b = 0; b < 256; b++)
        vl += (size_t)sprintf(m->vocab + vl, "%s\"\\u%04x\":%d", b ? "," : "", synth_byte_char(b), b);
    m->vocab[vl++] = '}';
    m->vocab_len = vl;
    m->merges = malloc(32);
    m->merges_len = (size_t)sprintf(m->merges, "#version: 0.2\n");
}

static gb_status synth_load(gb_ctx *ctx, const synth_model *m) {
    return gb_load_model(ctx, (const uint8_t *)m->config, m->config_len, m->st, m->st_len,
                         (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges,
                         m->merges_len, NULL, 0);
}

#endif
