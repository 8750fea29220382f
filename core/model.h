/* model.h — a GPT-2 checkpoint's weights, in F32, named after the HF tensors.
 * Shapes are in Conv1D order (input dim first), as stored by Hugging Face.
 * The four matrices of each block are kept only in packed form (gb_packed,
 * kernels.h: column panels for the matmul kernel), converted once at load;
 * the Conv1D copies are not kept, so the weights take no extra memory. */
#ifndef GB_MODEL_H
#define GB_MODEL_H

#include "config.h"
#include "kernels.h"

typedef struct {
    float *ln_1_w, *ln_1_b;       /* [C] */
    gb_packed c_attn_w;           /* [C, 3C]  q | k | v, heads contiguous within each */
    float *c_attn_b;              /* [3C] */
    gb_packed attn_c_proj_w;      /* [C, C] */
    float *attn_c_proj_b;         /* [C] */
    float *ln_2_w, *ln_2_b;       /* [C] */
    gb_packed c_fc_w;             /* [C, M] */
    float *c_fc_b;                /* [M] */
    gb_packed mlp_c_proj_w;       /* [M, C] */
    float *mlp_c_proj_b;          /* [C] */
} gb_block_weights;

typedef struct {
    gb_model_config mc;
    float *wte;                   /* [V, C] token embeddings, also the tied LM head */
    float *wpe;                   /* [P, C] position embeddings */
    gb_block_weights *h;          /* [n_layer] */
    float *ln_f_w, *ln_f_b;       /* [C] */
    float *lm_head;               /* [V, C]: wte when tied, else its own rows */
    float *arena;                 /* every tensor above points into this one allocation */
} gb_model;

/* Maximum bytes of F32 weights a model may take (the WASM heap is 4 GB and
 * must also hold the file bytes and activations). */
#define GB_MAX_WEIGHT_BYTES ((uint64_t)3 << 30)

gb_status gb_model_load(gb_model *m, const uint8_t *config_json, size_t config_len,
                        const uint8_t *safetensors, size_t safetensors_len, gb_err *e);
void gb_model_free(gb_model *m);

#endif
