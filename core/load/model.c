/* model.c — loads GPT-2 weights from config.json + model.safetensors bytes.
 *
 * Accepts the checkpoints Hugging Face publishes: names with or without the
 * "transformer." prefix, lm_head.weight absent (tied to wte) or present,
 * F32/F16/BF16 storage, and extra buffers (attn.bias, attn.masked_bias) that
 * are ignored. Every expected tensor is checked against the config's shape
 * before one byte is converted.
 *
 * Loading is one pass at most: an F32 tensor in bytes the model owns is used
 * in place (no copy), anything else is converted straight from the file bytes
 * into one arena allocated once (malloc, not calloc: every float of it is
 * written). Then the four matrices of each block and the LM head are packed
 * in place for the matmul kernels (pack_blocks, pack_lm_head: no second copy). */
#include "load/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/safetensors.h"

typedef struct {
    char name[96];   /* without prefix */
    float **dst;
    int ndim;
    int64_t d0, d1;
    int pack;        /* how loading packs it: GB_PACK_RANGE_KN or _NT, or NO_PACK */
} wspec;

#define NO_PACK (-1)

/* The checkpoint's tensors in a fixed order, with the shape config.json implies. */
static int list_tensors(gb_model *m, wspec *out, int tied) {
    const gb_config *c = &m->mc.c;
    int64_t C = c->n_embd, M = c->d_mlp, V = c->vocab_size, P = c->n_positions;
    int n = 0;
#define W(dst_, nd_, a_, b_, pack_, ...)                                      \
    do {                                                                      \
        snprintf(out[n].name, sizeof out[n].name, __VA_ARGS__);              \
        out[n].dst = (dst_);                                                  \
        out[n].ndim = (nd_); out[n].d0 = (a_); out[n].d1 = (b_);             \
        out[n].pack = (pack_);                                                \
        n++;                                                                  \
    } while (0)
    const int KN = GB_PACK_RANGE_KN, NT = GB_PACK_RANGE_NT, NO = NO_PACK;
    W(&m->wte, 2, V, C, tied ? NT : NO, "wte.weight");
    W(&m->wpe, 2, P, C, NO, "wpe.weight");
    for (int l = 0; l < c->n_layer; l++) {
        gb_block_weights *b = &m->h[l];
        W(&b->ln_1_w, 1, C, 0, NO, "h.%d.ln_1.weight", l);
        W(&b->ln_1_b, 1, C, 0, NO, "h.%d.ln_1.bias", l);
        W(&b->c_attn_w, 2, C, 3 * C, KN, "h.%d.attn.c_attn.weight", l);
        W(&b->c_attn_b, 1, 3 * C, 0, NO, "h.%d.attn.c_attn.bias", l);
        W(&b->attn_c_proj_w, 2, C, C, KN, "h.%d.attn.c_proj.weight", l);
        W(&b->attn_c_proj_b, 1, C, 0, NO, "h.%d.attn.c_proj.bias", l);
        W(&b->ln_2_w, 1, C, 0, NO, "h.%d.ln_2.weight", l);
        W(&b->ln_2_b, 1, C, 0, NO, "h.%d.ln_2.bias", l);
        W(&b->c_fc_w, 2, C, M, KN, "h.%d.mlp.c_fc.weight", l);
        W(&b->c_fc_b, 1, M, 0, NO, "h.%d.mlp.c_fc.bias", l);
        W(&b->mlp_c_proj_w, 2, M, C, KN, "h.%d.mlp.c_proj.weight", l);
        W(&b->mlp_c_proj_b, 1, C, 0, NO, "h.%d.mlp.c_proj.bias", l);
    }
    W(&m->ln_f_w, 1, C, 0, NO, "ln_f.weight");
    W(&m->ln_f_b, 1, C, 0, NO, "ln_f.bias");
    if (!tied) W(&m->lm_head, 2, V, C, NT, "lm_head.weight");
#undef W
    return n;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *d) {
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", (long long)d[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

static const gb_st_tensor *find_weight(const gb_safetensors *st, const char *prefix,
                                       const char *name) {
    if (strcmp(name, "lm_head.weight") == 0) return gb_st_find(st, name);
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return gb_st_find(st, full);
}

/* Finds w's tensor and checks its shape and dtype; nothing is read yet. */
static gb_status check_one(const gb_safetensors *st, const char *prefix, const wspec *w,
                           const gb_st_tensor **out, gb_err *e) {
    const gb_st_tensor *t = find_weight(st, prefix, w->name);
    int64_t want[2] = {w->d0, w->d1};
    char ws[64], gs[64];
    shape_str(ws, sizeof ws, w->ndim, want);
    if (!t)
        return GB_FAIL(e, GB_E_SHAPE, "model.safetensors: missing tensor %s%s (expected shape %s)",
                       strcmp(w->name, "lm_head.weight") ? prefix : "", w->name, ws);
    int ok = t->ndim == w->ndim;
    for (int i = 0; ok && i < w->ndim; i++) ok = t->shape[i] == want[i];
    if (!ok) {
        shape_str(gs, sizeof gs, t->ndim, t->shape);
        return GB_FAIL(e, GB_E_SHAPE, "model.safetensors: tensor %s has shape %s, config expects %s",
                       t->name, gs, ws);
    }
    if (t->dtype != GB_DT_F32 && t->dtype != GB_DT_F16 && t->dtype != GB_DT_BF16)
        return GB_FAIL(e, GB_E_SHAPE, "model.safetensors: tensor %s has dtype %s; weights must be F32, F16 or BF16",
                       t->name, gb_dtype_name(t->dtype));
    *out = t;
    return GB_OK;
}

/* An F32 tensor at a float-aligned address can be read where it lies. */
static int usable_in_place(const gb_safetensors *st, const gb_st_tensor *t) {
    return t->dtype == GB_DT_F32 && (uintptr_t)(st->data + t->begin) % sizeof(float) == 0;
}

/* Finds and checks every tensor config.json implies (list_tensors, check_one);
 * reads nothing. Allocates m->h (the model's) and *specs, *found with *n
 * entries (the caller's to free, also on failure). Loading and the streaming
 * plan both start here, so they cannot disagree on names or shapes. */
static gb_status locate_tensors(gb_model *m, const gb_safetensors *st, int tied, wspec **specs,
                                const gb_st_tensor ***found, int *n, gb_err *e) {
    const char *prefix = gb_st_find(st, "transformer.wte.weight") ? "transformer." : "";
    size_t max_specs = 3 + 12 * (size_t)m->mc.c.n_layer + 2;
    *specs = malloc(sizeof **specs * max_specs);
    *found = malloc(sizeof **found * max_specs);
    m->h = calloc((size_t)m->mc.c.n_layer, sizeof *m->h);
    *n = 0;
    if (!*specs || !*found || !m->h) return GB_FAIL(e, GB_E_OOM, "out of memory loading the weights");
    *n = list_tensors(m, *specs, tied);
    gb_status s = GB_OK;
    for (int i = 0; i < *n && !s; i++) s = check_one(st, prefix, &(*specs)[i], &(*found)[i], e);
    return s;
}

/* in_place: the model owns st's bytes, so F32 tensors may stay in them.
 * Sets *used_file when some tensor points into them. */
static gb_status load_weights(gb_model *m, const gb_safetensors *st, int in_place, int *used_file,
                              gb_err *e) {
    int tied = gb_st_find(st, "lm_head.weight") == NULL;
    const gb_config *c = &m->mc.c;
    uint64_t params = gb_config_param_count(c, tied);
    *used_file = 0;
    if (params * 4 > GB_MAX_WEIGHT_BYTES)
        return GB_FAIL(e, GB_E_OOM, "config.json: %llu parameters need %.1f GB as float32; the limit is %.1f GB",
                       (unsigned long long)params, params * 4 / 1e9, GB_MAX_WEIGHT_BYTES / 1e9);
    wspec *specs;
    const gb_st_tensor **found;
    int n;
    /* Every tensor is found and checked before the arena is allocated: a
     * 100-byte file whose config claims 2.9 GB of weights must fail on the
     * missing tensors, not allocate 2.9 GB first (fuzz_model_load). Once all
     * are present, the arena is at most twice the file (F16 -> F32). */
    gb_status s = locate_tensors(m, st, tied, &specs, &found, &n, e);
    size_t total = 0;
    for (int i = 0; i < n && !s; i++)
        if (!(in_place && usable_in_place(st, found[i]))) total += found[i]->numel;
    if (!s && total && !(m->arena = malloc(total * sizeof(float))))
        s = GB_FAIL(e, GB_E_OOM, "out of memory allocating %.1f MB of weights", total * 4 / 1e6);
    float *p = m->arena;
    for (int i = 0; i < n && !s; i++) {
        if (in_place && usable_in_place(st, found[i])) {
            /* the bytes were stored as bytes (memcpy, fread, JS), so they
             * have no effective type and may be read as float */
            *specs[i].dst = (float *)(void *)(st->data + found[i]->begin);
            *used_file = 1;
        } else {
            *specs[i].dst = p;
            s = gb_st_read_f32(st, found[i], p, e);
            p += found[i]->numel;
        }
    }
    if (tied) m->lm_head = m->wte;
    free(specs);
    free(found);
    return s;
}

/* Packs the four matrices of every block in place (gb_pack_inplace: they are
 * in bytes the model owns, the file's or the arena's), so gb_matmul_packed
 * streams them. All or none: a shape that cannot be packed, or no memory for
 * the scratch (one matrix), leaves them in Conv1D layout for gb_matmul. */
static void pack_blocks(gb_model *m, int already) {
    const gb_config *c = &m->mc.c;
    int C = c->n_embd, M = c->d_mlp, widest = 3 * C > M ? 3 * C : M;  /* C x widest is the largest */
    if (!gb_packable(C, 3 * C) || !gb_packable(C, M) || !gb_packable(M, C)) return;
    if (already) { /* a streaming load packed them as they arrived (gb_model_pack_plan) */
        m->packed = 1;
        return;
    }
    float *scratch = malloc(sizeof(float) * (size_t)C * widest);
    if (!scratch) return;
    for (int l = 0; l < c->n_layer; l++) {
        gb_block_weights *b = &m->h[l];
        gb_pack_inplace(b->c_attn_w, C, 3 * C, scratch);
        gb_pack_inplace(b->attn_c_proj_w, C, C, scratch);
        gb_pack_inplace(b->c_fc_w, C, M, scratch);
        gb_pack_inplace(b->mlp_c_proj_w, M, C, scratch);
    }
    free(scratch);
    m->packed = 1;
}

/* Packs the LM head in place (gb_pack_nt_inplace: panels of GB_PACK_NR rows
 * transposed within themselves), so gb_matmul_nt_packed reads it where it
 * lies; wte when tied, whose rows the embedding then reads through
 * gb_packed_nt_row. No scratch, no packing (gb_matmul_nt reads it as stored). */
static void pack_lm_head(gb_model *m, int already) {
    const gb_config *c = &m->mc.c;
    if (already) {
        m->lm_head_packed = 1;
        return;
    }
    float *scratch = malloc(sizeof(float) * GB_PACK_NR * (size_t)c->n_embd);
    if (!scratch) return;
    gb_pack_nt_inplace(m->lm_head, c->vocab_size, c->n_embd, scratch);
    free(scratch);
    m->lm_head_packed = 1;
}

void gb_model_embedding(const gb_model *m, int token, float *out) {
    int C = m->mc.c.n_embd;
    if (m->lm_head_packed && m->lm_head == m->wte)
        gb_packed_nt_row(out, m->wte, m->mc.c.vocab_size, C, token);
    else
        memcpy(out, m->wte + (size_t)token * C, sizeof(float) * C);
}

void gb_model_lm_head(const gb_model *m, float *logits, const float *x, int T) {
    int C = m->mc.c.n_embd, V = m->mc.c.vocab_size;
    if (m->lm_head_packed) gb_matmul_nt_packed(logits, x, m->lm_head, T, C, V);
    else gb_matmul_nt(logits, x, m->lm_head, T, C, V);
}

static gb_status model_load(gb_model *m, const uint8_t *config_json, size_t config_len,
                            const uint8_t *safetensors, size_t safetensors_len, uint8_t *owned,
                            unsigned prepacked, gb_err *e) {
    memset(m, 0, sizeof *m);
    if (!config_json || !safetensors) {
        free(owned);
        return GB_FAIL(e, GB_E_ARG, "config.json and model.safetensors are both required");
    }
    gb_safetensors st;
    int used_file = 0;
    gb_status s = gb_config_parse(&m->mc, config_json, config_len, e);
    if (!s) s = gb_st_parse(&st, safetensors, safetensors_len, "model.safetensors", e);
    if (!s) {
        s = load_weights(m, &st, owned != NULL, &used_file, e);
        gb_st_free(&st);
    }
    if (!s) pack_blocks(m, prepacked & GB_PREPACKED_BLOCKS), pack_lm_head(m, prepacked & GB_PREPACKED_LM_HEAD);
    if (!s && used_file) m->file = owned;
    else free(owned);
    if (s) gb_model_free(m);
    return s;
}

gb_status gb_model_load(gb_model *m, const uint8_t *config_json, size_t config_len,
                        const uint8_t *safetensors, size_t safetensors_len, gb_err *e) {
    return model_load(m, config_json, config_len, safetensors, safetensors_len, NULL, 0, e);
}

gb_status gb_model_load_owned(gb_model *m, const uint8_t *config_json, size_t config_len,
                              uint8_t *safetensors, size_t safetensors_len, unsigned prepacked,
                              gb_err *e) {
    return model_load(m, config_json, config_len, safetensors, safetensors_len, safetensors,
                      prepacked, e);
}

/* Decides exactly as model_load will: the same tensor list and checks
 * (list_tensors, check_one), the same in-place rule (usable_in_place), the
 * same packability (gb_packable). The blocks are planned all or none, as
 * pack_blocks packs them. */
int gb_model_pack_plan(const gb_model_config *mc, const gb_safetensors *st,
                       gb_pack_range *out, unsigned *parts) {
    *parts = 0;
    const gb_config *c = &mc->c;
    int C = c->n_embd, M = c->d_mlp, n, n_out = 0;
    gb_model m;
    memset(&m, 0, sizeof m);
    m.mc = *mc;
    wspec *specs;
    const gb_st_tensor **found;
    gb_err ignored;
    if (locate_tensors(&m, st, gb_st_find(st, "lm_head.weight") == NULL, &specs, &found, &n, &ignored) == GB_OK) {
        int blocks = gb_packable(C, 3 * C) && gb_packable(C, M) && gb_packable(M, C);
        for (int i = 0; i < n; i++) /* pack_blocks packs every block matrix or none */
            if (specs[i].pack == GB_PACK_RANGE_KN && !usable_in_place(st, found[i])) blocks = 0;
        for (int i = 0; i < n; i++) {
            const gb_st_tensor *t = found[i];
            int kind = specs[i].pack;
            if (kind == GB_PACK_RANGE_NT ? !usable_in_place(st, t) : kind != GB_PACK_RANGE_KN || !blocks) continue;
            size_t at = st->data_offset + t->begin;
            out[n_out++] = (gb_pack_range){at, at + t->numel * sizeof(float), kind, (int)t->shape[0], (int)t->shape[1]};
            *parts |= kind == GB_PACK_RANGE_NT ? GB_PREPACKED_LM_HEAD : GB_PREPACKED_BLOCKS;
        }
    }
    free(specs);
    free(found);
    free(m.h);
    return n_out;
}

void gb_model_free(gb_model *m) {
    free(m->arena);
    free(m->file);
    free(m->h);
    memset(m, 0, sizeof *m);
}
