/* ctx.h — the engine handle's insides, shared by api.c, forward.c, sample.c
 * intervene.c and activations.c. Callers outside core/ only see the opaque gb_ctx. */
#ifndef GB_CTX_H
#define GB_CTX_H

#include <stdint.h>

#include "run/acts.h"
#include "run/par.h"
#include "glassbox.h"
#include "load/model.h"
#include "tokenizer/tokenizer.h"

struct gb_ctx {
    gb_err err;
    int loaded;
    gb_model model;
    gb_tokenizer *tok;

    /* the run */
    int32_t *tokens;       /* [cap] */
    int n_tokens;
    gb_acts acts;
    int *done;             /* [n_stages]: positions computed by each stage */
    int n_stages;
    float *qkv;            /* [cap, 3C] scratch for the fused QKV projection */
    int scratch_layer;     /* keep_all == 0: block whose internals the scratch holds, -1 none */
    int scratch_from;      /* ... valid for positions [scratch_from, n_tokens) */

    /* threads: the host's pool (gb_set_parallel) and the splits' scratch */
    gb_par par;

    /* interventions */
    uint8_t *ablate;       /* [n_layer * n_head]: gb_ablation per head */

    /* sampler */
    uint64_t rng;
    float *sample_buf;     /* [5 * vocab] logits, scaled, probs, top_k, top_p */
    void *sample_order;    /* [vocab] (prob, logit, id): sort scratch, gb_sample_order_bytes() */

    /* a streaming load in progress (load_stream.c), or NULL */
    struct gb_load_stream *stream;
};

/* load_stream.c: the GB_PREPACKED_* parts the load in progress is packing as
 * its bytes arrive (0 before the header is in, or with no plan). For tests. */
unsigned gb_load_stream_parts(const gb_ctx *ctx);

/* api.c: loads into ctx; owned/prepacked as gb_model_load_owned's. */
gb_status gb_ctx_load(gb_ctx *ctx, const uint8_t *config_json, size_t config_len,
                      const uint8_t *safetensors, size_t safetensors_len, uint8_t *owned,
                      unsigned prepacked, const uint8_t *vocab_json, size_t vocab_len,
                      const uint8_t *merges_txt, size_t merges_len,
                      const uint8_t *tokenizer_json, size_t tokenizer_json_len);

/* Stage numbering (see glassbox.h). */
static inline int gb_stage_attn(int layer) { return 1 + 2 * layer; }
static inline int gb_stage_mlp(int layer) { return 2 + 2 * layer; }

/* forward.c */
gb_status gb_forward_stage(gb_ctx *ctx, int stage);
/* Recomputes block `layer` for every position into the scratch slot (keep_all 0). */
gb_status gb_forward_materialize(gb_ctx *ctx, int layer);
/* Invalidates every stage from `stage` on. */
void gb_invalidate_from(gb_ctx *ctx, int stage);

/* sample.c: bytes of the sort scratch for a vocabulary of this size */
size_t gb_sample_order_bytes(int vocab);

/* intervene.c: applies this layer's ablations to z rows [t0, T) */
void gb_apply_ablations(gb_ctx *ctx, int layer, float *z, int t0, int T);
int gb_first_mean_ablated_layer(const gb_ctx *ctx);

#endif
