/* model.c — the plan of a GPT-2 load: which tensors config.json implies,
 * where each one's bytes go and in which layout (gb_model_plan), and the two
 * reads that depend on the LM head's layout (gb_model_embedding,
 * gb_model_lm_head).
 *
 * Accepts the checkpoints Hugging Face publishes: names with or without the
 * "transformer." prefix, lm_head.weight absent (tied to wte) or present,
 * F32/F16/BF16 storage, and extra buffers (attn.bias, attn.masked_bias) that
 * are ignored. Every expected tensor is checked against the config's shape
 * before the arena is allocated, so a 100-byte file whose config claims
 * 2.9 GB of weights fails on the missing tensors (fuzz_model_load); once all
 * are present the arena is at most twice the file (F16 -> F32). The layouts
 * are the kernels' choice (gb_layout_conv1d, gb_layout_nt): this file never
 * computes a panel offset. */
#include "load/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[96];   /* without prefix */
    float **dst;
    int ndim;
    int64_t d0, d1;
    int role;        /* ROLE_*: which layout the kernels give it */
} wspec;

enum { ROLE_ROWS, ROLE_BLOCK_MATRIX, ROLE_LM_HEAD };

/* The checkpoint's tensors in a fixed order, with the shape config.json implies. */
static int list_tensors(gb_model *m, wspec *out, int tied) {
    const gb_config *c = &m->mc.c;
    int64_t C = c->n_embd, M = c->d_mlp, V = c->vocab_size, P = c->n_positions;
    int n = 0;
#define W(dst_, nd_, a_, b_, role_, ...)                                      \
    do {                                                                      \
        snprintf(out[n].name, sizeof out[n].name, __VA_ARGS__);              \
        out[n].dst = (dst_);                                                  \
        out[n].ndim = (nd_); out[n].d0 = (a_); out[n].d1 = (b_);             \
        out[n].role = (role_);                                                \
        n++;                                                                  \
    } while (0)
    const int KN = ROLE_BLOCK_MATRIX, NT = ROLE_LM_HEAD, NO = ROLE_ROWS;
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

/* Finds and checks every tensor config.json implies (list_tensors, check_one);
 * reads nothing. Allocates m->h (the model's) and *specs, *found with *n
 * entries (the caller's to free, also on failure). */
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

static int by_begin(const void *a, const void *b) {
    const gb_weight_dest *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

gb_status gb_model_plan(gb_model *m, const gb_model_config *mc, const gb_safetensors *st,
                        gb_weight_dest **dests, int *n_dests, gb_err *e) {
    memset(m, 0, sizeof *m);
    m->mc = *mc;
    *dests = NULL;
    *n_dests = 0;
    int tied = gb_st_find(st, "lm_head.weight") == NULL;
    const gb_config *c = &m->mc.c;
    uint64_t params = gb_config_param_count(c, tied);
    if (params * 4 > GB_MAX_WEIGHT_BYTES)
        return GB_FAIL(e, GB_E_OOM, "config.json: %llu parameters need %.1f GB as float32; the limit is %.1f GB",
                       (unsigned long long)params, params * 4 / 1e9, GB_MAX_WEIGHT_BYTES / 1e9);
    wspec *specs;
    const gb_st_tensor **found;
    int n;
    gb_status s = locate_tensors(m, st, tied, &specs, &found, &n, e);
    size_t total = 0;
    for (int i = 0; i < n && !s; i++) total += found[i]->numel;
    gb_weight_dest *d = s ? NULL : malloc(sizeof *d * (size_t)(n ? n : 1));
    if (!s && !d) s = GB_FAIL(e, GB_E_OOM, "out of memory planning the load");
    if (!s && !(m->arena = malloc((total ? total : 1) * sizeof(float))))
        s = GB_FAIL(e, GB_E_OOM, "out of memory allocating %.1f MB of weights", total * 4 / 1e6);
    if (!s) {
        /* The block matrices are all panels or all rows: forward.c picks the
         * kernel by one flag. */
        int C = c->n_embd, M = c->d_mlp;
        m->packed = gb_layout_conv1d(C, 3 * C).kind == GB_LAYOUT_KN_PANELS &&
                    gb_layout_conv1d(C, M).kind == GB_LAYOUT_KN_PANELS &&
                    gb_layout_conv1d(M, C).kind == GB_LAYOUT_KN_PANELS;
        m->lm_head_packed = gb_layout_nt(c->vocab_size, C).kind == GB_LAYOUT_NT_PANELS;
        float *p = m->arena;
        for (int i = 0; i < n; i++) {
            const gb_st_tensor *t = found[i];
            int rows = (int)specs[i].d0, cols = specs[i].ndim == 2 ? (int)specs[i].d1 : 1;
            gb_layout l = specs[i].role == ROLE_BLOCK_MATRIX && m->packed ? gb_layout_conv1d(rows, cols)
                          : specs[i].role == ROLE_LM_HEAD && m->lm_head_packed ? gb_layout_nt(rows, cols)
                                                                               : gb_layout_rows(rows, cols);
            d[i] = (gb_weight_dest){st->data_offset + t->begin, st->data_offset + t->end, t->dtype, p, l};
            *specs[i].dst = p;
            p += t->numel;
        }
        if (tied) m->lm_head = m->wte;
        qsort(d, (size_t)n, sizeof *d, by_begin);
        *dests = d;
        *n_dests = n;
    } else {
        free(d);
        gb_model_free(m);
    }
    free(specs);
    free(found);
    return s;
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

void gb_model_free(gb_model *m) {
    free(m->arena);
    free(m->h);
    memset(m, 0, sizeof *m);
}
