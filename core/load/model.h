/* model.h — a GPT-2 checkpoint's weights, in F32, named after the HF tensors.
 * Shapes are in Conv1D order (input dim first), as stored by Hugging Face;
 * the four matrices of each block and the LM head are then packed in place
 * at load (see `packed`, `lm_head_packed`), the other tensors stay as stored.
 * So an F32 tensor can be used where it lies in the safetensors bytes: when
 * the engine owns those bytes (gb_model_load_owned), loading copies nothing
 * for them; other dtypes, misaligned tensors, and every tensor of a borrowed
 * buffer (gb_model_load) are converted into one arena. */
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
    float *arena;                 /* tensors converted or copied at load (NULL if none) */
    uint8_t *file;                /* owned safetensors bytes that tensors point into (NULL if none) */
    int packed;                   /* 1: the block matrices are packed in place (gb_pack_inplace,
                                     kernels.h) for gb_matmul_packed; 0: Conv1D layout, gb_matmul */
    int lm_head_packed;           /* 1: lm_head (wte when tied) is packed in place (gb_pack_nt_inplace):
                                     read it through gb_model_embedding / gb_model_lm_head */
} gb_model;

/* Maximum bytes of F32 weights a model may take (the WASM heap is 4 GB and
 * must also hold the file bytes and activations). */
#define GB_MAX_WEIGHT_BYTES ((uint64_t)3 << 30)

/* Loads from borrowed bytes: every tensor is copied or converted into the
 * arena; the caller keeps (and may free) safetensors. */
gb_status gb_model_load(gb_model *m, const uint8_t *config_json, size_t config_len,
                        const uint8_t *safetensors, size_t safetensors_len, gb_err *e);
/* Takes ownership of safetensors (from malloc), loaded or not: F32 tensors at
 * 4-byte-aligned addresses are used in place and the bytes are freed by
 * gb_model_free; if no tensor stays in them they are freed before returning.
 * prepacked (GB_PREPACKED_*): parts that gb_model_pack_plan planned and the
 * caller has already packed in the bytes (a streaming load); 0 otherwise. */
gb_status gb_model_load_owned(gb_model *m, const uint8_t *config_json, size_t config_len,
                              uint8_t *safetensors, size_t safetensors_len, unsigned prepacked,
                              gb_err *e);

/* What loading an owned buffer will pack in place, as byte ranges of the
 * file: the block matrices ([K,N] Conv1D -> gb_pack_inplace's panels) and the
 * LM head ([V,C] -> gb_pack_nt_inplace's panels), in file order of the tensor
 * list. A streaming load packs these as the bytes arrive, then passes *parts
 * as gb_model_load_owned's prepacked. Nothing planned (0, *parts = 0) when
 * the header or config would make the load fail, or nothing can be packed in
 * place; the load then reports or packs as usual. out holds 4 * n_layer + 1. */
enum { GB_PREPACKED_BLOCKS = 1, GB_PREPACKED_LM_HEAD = 2 };
enum { GB_PACK_RANGE_KN, GB_PACK_RANGE_NT };
typedef struct {
    size_t begin, end;            /* byte offsets in the whole file */
    int kind;                     /* GB_PACK_RANGE_* */
    int rows, cols;               /* the tensor's shape as stored */
} gb_pack_range;
int gb_model_pack_plan(const gb_model_config *mc, const gb_safetensors *st,
                       gb_pack_range *out, unsigned *parts);
void gb_model_free(gb_model *m);

/* out[n_embd] = the token's embedding (row `token` of wte, wherever packing put it). */
void gb_model_embedding(const gb_model *m, int token, float *out);
/* logits[T, vocab] = x[T, n_embd] @ lm_head^T. */
void gb_model_lm_head(const gb_model *m, float *logits, const float *x, int T);

#endif
