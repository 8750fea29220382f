/* model.h — a GPT-2 checkpoint's weights, in F32, named after the HF tensors,
 * and the plan that fills them (gb_model_plan, run by loader.c once the
 * safetensors header has arrived).
 * Shapes are in Conv1D order (input dim first), as stored by Hugging Face.
 * Every weight lives in one arena, in the layout the kernels chose for it
 * (kernels.h's gb_layout): the block matrices in gb_matmul_packed's panels
 * when their shapes allow (`packed`), the LM head in gb_matmul_nt_packed's
 * (`lm_head_packed`), the rest as stored. */
#ifndef GB_MODEL_H
#define GB_MODEL_H

#include "load/config.h"
#include "kernels/kernels.h"
#include "load/safetensors.h"

typedef struct {
    float *ln_1_w, *ln_1_b;       /* [C] */
    float *c_attn_w;              /* [C, 3C]  q | k | v, heads contiguous within each */
    float *c_attn_b;              /* [3C] */
    float *attn_c_proj_w;         /* [C, C] */
    float *attn_c_proj_b;         /* [C] */
    float *ln_2_w, *ln_2_b;       /* [C] */
    float *c_fc_w;                /* [C, M] */
    float *c_fc_b;                /* [M] */
    float *mlp_c_proj_w;          /* [M, C] */
    float *mlp_c_proj_b;          /* [C] */
} gb_block_weights;

typedef struct {
    gb_model_config mc;
    float *wte;                   /* [V, C] token embeddings, also the tied LM head (packed then:
                                     rows through gb_model_embedding) */
    float *wpe;                   /* [P, C] position embeddings */
    gb_block_weights *h;          /* [n_layer] */
    float *ln_f_w, *ln_f_b;       /* [C] */
    float *lm_head;               /* [V, C]: wte when tied, else its own rows */
    float *arena;                 /* every tensor above points into it */
    int packed;                   /* 1: the block matrices are in GB_LAYOUT_KN_PANELS, for
                                     gb_matmul_packed; 0: as stored, for gb_matmul */
    int lm_head_packed;           /* 1: lm_head (wte when tied) is in GB_LAYOUT_NT_PANELS:
                                     read it through gb_model_embedding / gb_model_lm_head */
} gb_model;

/* Maximum bytes of F32 weights a model may take (the WASM heap is 4 GB and
 * must also hold the file bytes and activations). */
#define GB_MAX_WEIGHT_BYTES ((uint64_t)3 << 30)

/* Where one weight's bytes go: the file's bytes [begin, end) (dtype F32,
 * F16 or BF16) become rows * cols floats at dst, in layout. */
typedef struct {
    size_t begin, end;            /* byte offsets in the whole file */
    gb_dtype dtype;
    float *dst;
    gb_layout layout;
} gb_weight_dest;

/* Plans a load from the parsed header (st, data not needed) of a checkpoint
 * whose config is mc: finds every tensor the config implies (with or without
 * the "transformer." prefix, lm_head.weight tied or not) and checks its shape
 * and dtype before anything is allocated, then allocates m's arena once and
 * points every weight into it. *dests (the caller's to free) gets one entry
 * per weight in file order, *n of them. On failure m holds nothing. */
gb_status gb_model_plan(gb_model *m, const gb_model_config *mc, const gb_safetensors *st,
                        gb_weight_dest **dests, int *n, gb_err *e);
void gb_model_free(gb_model *m);

/* out[n_embd] = the token's embedding (row `token` of wte, wherever packing put it). */
void gb_model_embedding(const gb_model *m, int token, float *out);
/* logits[T, vocab] = x[T, n_embd] @ lm_head^T. */
void gb_model_lm_head(const gb_model *m, float *logits, const float *x, int T);

#endif
