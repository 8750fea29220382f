/* acts.h — the activation store: every hook's name, shape and storage, from one list.
 *
 * GB_HOOKS lists each activation once: id, TransformerLens name, whether it is
 * per block, its shape kind, whether it is kept for every block when keep_all
 * is off (KEEP) or lives in one recomputable scratch slot (SCRATCH), and the
 * stage that writes it. The row index is the stable hook id used by the C
 * API, the JS API, the CLI's trace and the tests.
 *
 * Storage is position-major so that appending tokens never moves data: each
 * tensor is [T_cap rows][row], and attention scores/pattern are causal
 * triangles packed by query row (row t holds [head][key 0..t]), which also
 * halves their memory.
 */
#ifndef GB_ACTS_H
#define GB_ACTS_H

#include <stddef.h>

#include "error.h"

typedef enum {
    SH_TC,   /* [T, n_embd] */
    SH_T1,   /* [T, 1] layer-norm scale */
    SH_THD,  /* [T, n_head, d_head] */
    SH_HTT,  /* [n_head, T, T], stored as packed causal triangles */
    SH_TM,   /* [T, d_mlp] */
    SH_TV    /* [T, vocab] */
} gb_shape_kind;

typedef enum { ST_EMBED, ST_ATTN, ST_MLP, ST_FINAL } gb_stage_kind;

#define GB_HOOKS(X)                                                                        \
    X(HOOK_EMBED,        "hook_embed",                       0, SH_TC,  1, ST_EMBED)      \
    X(HOOK_POS_EMBED,    "hook_pos_embed",                   0, SH_TC,  1, ST_EMBED)      \
    X(HOOK_RESID_PRE,    "blocks.%d.hook_resid_pre",         1, SH_TC,  1, ST_EMBED)      \
    X(HOOK_LN1_SCALE,    "blocks.%d.ln1.hook_scale",         1, SH_T1,  0, ST_ATTN)       \
    X(HOOK_LN1_NORM,     "blocks.%d.ln1.hook_normalized",    1, SH_TC,  0, ST_ATTN)       \
    X(HOOK_Q,            "blocks.%d.attn.hook_q",            1, SH_THD, 0, ST_ATTN)       \
    X(HOOK_K,            "blocks.%d.attn.hook_k",            1, SH_THD, 1, ST_ATTN)       \
    X(HOOK_V,            "blocks.%d.attn.hook_v",            1, SH_THD, 1, ST_ATTN)       \
    X(HOOK_ATTN_SCORES,  "blocks.%d.attn.hook_attn_scores",  1, SH_HTT, 0, ST_ATTN)       \
    X(HOOK_PATTERN,      "blocks.%d.attn.hook_pattern",      1, SH_HTT, 0, ST_ATTN)       \
    X(HOOK_Z,            "blocks.%d.attn.hook_z",            1, SH_THD, 0, ST_ATTN)       \
    X(HOOK_ATTN_OUT,     "blocks.%d.hook_attn_out",          1, SH_TC,  0, ST_ATTN)       \
    X(HOOK_RESID_MID,    "blocks.%d.hook_resid_mid",         1, SH_TC,  0, ST_ATTN)       \
    X(HOOK_LN2_SCALE,    "blocks.%d.ln2.hook_scale",         1, SH_T1,  0, ST_MLP)        \
    X(HOOK_LN2_NORM,     "blocks.%d.ln2.hook_normalized",    1, SH_TC,  0, ST_MLP)        \
    X(HOOK_MLP_PRE,      "blocks.%d.mlp.hook_pre",           1, SH_TM,  0, ST_MLP)        \
    X(HOOK_MLP_POST,     "blocks.%d.mlp.hook_post",          1, SH_TM,  0, ST_MLP)        \
    X(HOOK_MLP_OUT,      "blocks.%d.hook_mlp_out",           1, SH_TC,  0, ST_MLP)        \
    X(HOOK_RESID_POST,   "blocks.%d.hook_resid_post",        1, SH_TC,  1, ST_MLP)        \
    X(HOOK_LNF_SCALE,    "ln_final.hook_scale",              0, SH_T1,  1, ST_FINAL)      \
    X(HOOK_LNF_NORM,     "ln_final.hook_normalized",         0, SH_TC,  1, ST_FINAL)      \
    X(HOOK_LOGITS,       "logits",                           0, SH_TV,  1, ST_FINAL)

typedef enum {
#define X(id, name, per_layer, shape, keep, stage) id,
    GB_HOOKS(X)
#undef X
    GB_NUM_HOOKS
} gb_hook_id;

typedef struct {
    const char *pattern;
    int per_layer;
    gb_shape_kind shape;
    int keep;
    gb_stage_kind stage;
} gb_hook_info;

extern const gb_hook_info gb_hooks[GB_NUM_HOOKS];

/* Dimensions the store needs from the model. */
typedef struct { int n_layer, n_head, d_head, n_embd, d_mlp, vocab; } gb_dims;

typedef struct {
    gb_dims d;
    int keep_all;          /* 1: every block's internals stored; 0: one scratch slot */
    int cap;               /* rows allocated per tensor */
    float *arena;
    size_t off[GB_NUM_HOOKS];      /* start of each hook's slots, in floats */
    size_t slot_size[GB_NUM_HOOKS];/* floats per slot at this capacity */
} gb_acts;

/* Floats in one row (position) of a hook; for SH_HTT the row length depends on t. */
size_t gb_acts_row(const gb_dims *d, gb_shape_kind s, int t);
/* Floats for the first n rows. */
size_t gb_acts_rows(const gb_dims *d, gb_shape_kind s, int n);

/* (Re)allocates for cap rows, keeping the first `keep_rows` rows of every
 * tensor. Fails with GB_E_OOM (store unchanged) if it cannot. */
gb_status gb_acts_reserve(gb_acts *a, int cap, int keep_rows, gb_err *e);
void gb_acts_free(gb_acts *a);
/* Bytes the store takes at capacity cap with this keep_all (0 on overflow). */
double gb_acts_bytes(const gb_dims *d, int keep_all, int cap);

/* Base of hook h for block `layer` (scratch slot when not kept). */
float *gb_acts_ptr(const gb_acts *a, gb_hook_id h, int layer);

#endif
