/* model.c — loads GPT-2 weights from config.json + model.safetensors bytes.
 *
 * Accepts the checkpoints Hugging Face publishes: names with or without the
 * "transformer." prefix, lm_head.weight absent (tied to wte) or present,
 * F32/F16/BF16 storage, and extra buffers (attn.bias, attn.masked_bias) that
 * are ignored. Every expected tensor is checked against the config's shape
 * before one byte is converted. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

typedef struct {
    char name[96];   /* without prefix */
    float **dst;
    gb_packed *packed; /* non-NULL: a block matrix, kept only packed (dst is NULL) */
    int ndim;
    int64_t d0, d1;
} wspec;

/* The checkpoint's tensors in a fixed order, with the shape config.json implies. */
static int list_tensors(gb_model *m, wspec *out, int tied) {
    const gb_config *c = &m->mc.c;
    int64_t C = c->n_embd, M = c->d_mlp, V = c->vocab_size, P = c->n_positions;
    int n = 0;
#define W(dst_, nd_, a_, b_, ...)                                             \
    do {                                                                      \
        snprintf(out[n].name, sizeof out[n].name, __VA_ARGS__);              \
        out[n].dst = (dst_); out[n].packed = NULL;                           \
        out[n].ndim = (nd_); out[n].d0 = (a_); out[n].d1 = (b_);             \
        n++;                                                                  \
    } while (0)
#define P(packed_, a_, b_, ...)                                               \
    do {                                                                      \
        W(NULL, 2, a_, b_, __VA_ARGS__);                                      \
        out[n - 1].packed = (packed_);                                        \
    } while (0)
    W(&m->wte, 2, V, C, "wte.weight");
    W(&m->wpe, 2, P, C, "wpe.weight");
    for (int l = 0; l < c->n_layer; l++) {
        gb_block_weights *b = &m->h[l];
        W(&b->ln_1_w, 1, C, 0, "h.%d.ln_1.weight", l);
        W(&b->ln_1_b, 1, C, 0, "h.%d.ln_1.bias", l);
        P(&b->c_attn_w, C, 3 * C, "h.%d.attn.c_attn.weight", l);
        W(&b->c_attn_b, 1, 3 * C, 0, "h.%d.attn.c_attn.bias", l);
        P(&b->attn_c_proj_w, C, C, "h.%d.attn.c_proj.weight", l);
        W(&b->attn_c_proj_b, 1, C, 0, "h.%d.attn.c_proj.bias", l);
        W(&b->ln_2_w, 1, C, 0, "h.%d.ln_2.weight", l);
        W(&b->ln_2_b, 1, C, 0, "h.%d.ln_2.bias", l);
        P(&b->c_fc_w, C, M, "h.%d.mlp.c_fc.weight", l);
        W(&b->c_fc_b, 1, M, 0, "h.%d.mlp.c_fc.bias", l);
        P(&b->mlp_c_proj_w, M, C, "h.%d.mlp.c_proj.weight", l);
        W(&b->mlp_c_proj_b, 1, C, 0, "h.%d.mlp.c_proj.bias", l);
    }
    W(&m->ln_f_w, 1, C, 0, "ln_f.weight");
    W(&m->ln_f_b, 1, C, 0, "ln_f.bias");
    if (!tied) W(&m->lm_head, 2, V, C, "lm_head.weight");
#undef P
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

/* Floats a tensor takes in the arena (packed matrices round N up to whole
 * panels: no extra for GPT-2's widths, which are multiples of 8 and 16). */
static size_t arena_floats(const wspec *w) {
    if (w->packed) return gb_packed_floats((int)w->d0, (int)w->d1);
    return (size_t)w->d0 * (size_t)(w->ndim == 2 ? w->d1 : 1);
}

static gb_status load_weights(gb_model *m, const gb_safetensors *st, gb_err *e) {
    const char *prefix = gb_st_find(st, "transformer.wte.weight") ? "transformer." : "";
    int tied = gb_st_find(st, "lm_head.weight") == NULL;
    const gb_config *c = &m->mc.c;
    uint64_t params = gb_config_param_count(c, tied);
    if (params * 4 > GB_MAX_WEIGHT_BYTES)
        return GB_FAIL(e, GB_E_OOM, "config.json: %llu parameters need %.1f GB as float32; the limit is %.1f GB",
                       (unsigned long long)params, params * 4 / 1e9, GB_MAX_WEIGHT_BYTES / 1e9);
    int max_specs = 3 + 12 * c->n_layer + 2;
    wspec *specs = malloc(sizeof *specs * (size_t)max_specs);
    const gb_st_tensor **found = malloc(sizeof *found * (size_t)max_specs);
    m->h = calloc((size_t)c->n_layer, sizeof *m->h);
    float *conv = NULL;
    gb_status s = GB_OK;
    if (!specs || !found || !m->h) {
        s = GB_FAIL(e, GB_E_OOM, "out of memory loading the weights");
    } else {
        /* Every tensor is found and checked before the arena is allocated: a
         * 100-byte file whose config claims 2.9 GB of weights must fail on the
         * missing tensors, not allocate 2.9 GB first (fuzz_model_load). Once all
         * are present, the arena is at most twice the file (F16 -> F32). */
        int n = list_tensors(m, specs, tied);
        for (int i = 0; i < n && !s; i++) s = check_one(st, prefix, &specs[i], &found[i], e);
        /* A block matrix is converted to F32 in Conv1D layout in `conv` (one
         * matrix at a time) and packed from there into the arena. */
        size_t total = 0, conv_max = 0;
        for (int i = 0; i < n && !s; i++) {
            total += arena_floats(&specs[i]);
            if (specs[i].packed && found[i]->numel > conv_max) conv_max = found[i]->numel;
        }
        if (!s && !(m->arena = malloc(total * sizeof(float))))
            s = GB_FAIL(e, GB_E_OOM, "out of memory allocating %.1f MB of weights", total * 4 / 1e6);
        if (!s && conv_max && !(conv = malloc(conv_max * sizeof(float))))
            s = GB_FAIL(e, GB_E_OOM, "out of memory allocating %.1f MB to convert weights", conv_max * 4 / 1e6);
        float *p = m->arena;
        for (int i = 0; i < n && !s; i++) {
            if (specs[i].packed) {
                s = gb_st_read_f32(st, found[i], conv, e);
                if (!s) gb_pack(specs[i].packed, p, conv, (int)specs[i].d0, (int)specs[i].d1);
            } else {
                *specs[i].dst = p;
                s = gb_st_read_f32(st, found[i], p, e);
            }
            p += arena_floats(&specs[i]);
        }
        if (tied) m->lm_head = m->wte;
    }
    free(conv);
    free(specs);
    free(found);
    return s;
}

gb_status gb_model_load(gb_model *m, const uint8_t *config_json, size_t config_len,
                        const uint8_t *safetensors, size_t safetensors_len, gb_err *e) {
    memset(m, 0, sizeof *m);
    if (!config_json || !safetensors)
        return GB_FAIL(e, GB_E_ARG, "config.json and model.safetensors are both required");
    gb_status s = gb_config_parse(&m->mc, config_json, config_len, e);
    if (s) return s;
    gb_safetensors st;
    s = gb_st_parse(&st, safetensors, safetensors_len, "model.safetensors", e);
    if (s) return s;
    s = load_weights(m, &st, e);
    gb_st_free(&st);
    if (s) gb_model_free(m);
    return s;
}

void gb_model_free(gb_model *m) {
    free(m->arena);
    free(m->h);
    memset(m, 0, sizeof *m);
}
