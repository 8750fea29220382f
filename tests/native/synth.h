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

typedef struct { char name[64]; int ndim; int d0, d1; } synth_tensor;

static int synth_list(synth_tensor *t, int L, int C, int M, int V, int P) {
    int n = 0;
#define T_(nd, a, b, ...) do { snprintf(t[n].name, 64, __VA_ARGS__); t[n].ndim = nd; t[n].d0 = a; t[n].d1 = b; n++; } while (0)
    T_(2, V, C, "transformer.wte.weight");
    T_(2, P, C, "transformer.wpe.weight");
    for (int l = 0; l < L; l++) {
        T_(1, C, 0, "transformer.h.%d.ln_1.weight", l); T_(1, C, 0, "transformer.h.%d.ln_1.bias", l);
        T_(2, C, 3 * C, "transformer.h.%d.attn.c_attn.weight", l); T_(1, 3 * C, 0, "transformer.h.%d.attn.c_attn.bias", l);
        T_(2, C, C, "transformer.h.%d.attn.c_proj.weight", l); T_(1, C, 0, "transformer.h.%d.attn.c_proj.bias", l);
        T_(1, C, 0, "transformer.h.%d.ln_2.weight", l); T_(1, C, 0, "transformer.h.%d.ln_2.bias", l);
        T_(2, C, M, "transformer.h.%d.mlp.c_fc.weight", l); T_(1, M, 0, "transformer.h.%d.mlp.c_fc.bias", l);
        T_(2, M, C, "transformer.h.%d.mlp.c_proj.weight", l); T_(1, C, 0, "transformer.h.%d.mlp.c_proj.bias", l);
    }
    T_(1, C, 0, "transformer.ln_f.weight"); T_(1, C, 0, "transformer.ln_f.bias");
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

static void synth_make(synth_model *m, int L, int H, int C, int P) {
    int M = 4 * C, V = 256;
    synth_tensor ts[4 + 12 * 16];
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
        size_t bytes = (size_t)ts[i].d0 * (ts[i].ndim == 2 ? (size_t)ts[i].d1 : 1) * 4;
        if (ts[i].ndim == 2)
            hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                                   ts[i].name, ts[i].d0, ts[i].d1, off, off + bytes);
        else
            hl += (size_t)snprintf(hdr + hl, hcap - hl, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                                   ts[i].name, ts[i].d0, off, off + bytes);
        off += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "}");
    m->st_len = 8 + hl + off;
    m->st = malloc(m->st_len);
    for (int i = 0; i < 8; i++) m->st[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(m->st + 8, hdr, hl);
    float *w = (float *)malloc(off);
    for (size_t i = 0; i < off / 4; i++) w[i] = 0.5f * synth_randn();
    memcpy(m->st + 8 + hl, w, off);
    free(w);
    free(hdr);
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
