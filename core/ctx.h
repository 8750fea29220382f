/* ctx.h — the engine handle's insides, shared by api.c, forward.c, sample.c
 * intervene.c and activations.c (core/load/ never sees it). Callers outside core/ only see the opaque gb_ctx. */
#ifndef GB_CTX_H
#define GB_CTX_H

#include <math.h>
#include <stdint.h>

#include "run/acts.h"
#include "run/par.h"
#include "glassbox.h"
#include "load/loader.h"
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
    int logits_from;       /* rows [logits_from, done) of the logits hold logits; the rest are
                              computed when read (gb_forward_logits) */
    /* keep_all == 0: the logits hook's store is one row, the last position's
     * (all that sampling needs; T x vocab is 206 MB at 1,024 tokens of GPT-2).
     * Every position's logits go to logits_all, allocated on the first read
     * of the whole hook; rows [0, logits_all_rows) of it are valid. */
    float *logits_all;     /* [logits_all_cap, vocab] or NULL */
    int logits_all_cap, logits_all_rows;

    int n_prompt;          /* tokens[0, n_prompt) are the prompt, the rest were generated */

    /* threads: the host's pool (gb_set_parallel) and the splits' scratch */
    gb_par par;

    /* interventions: entries of the run (intervene.c) */
    gb_intervention *iv;   /* [GB_MAX_INTERVENTIONS] */
    int n_iv;
    int iv_suspended;      /* 1 while a tool runs another sequence (patch source, head finder) */
    struct gb_interp *interp; /* patch source, grid probe, ReAGent state (run/interp.h); NULL until used */

    /* sampler (sample.c) */
    uint64_t seed;         /* the stream's starting state (never 0) */
    float *sample_buf;     /* [5 * vocab] logits, scaled, probs, top_k, top_p */
    void *sample_order;    /* [vocab] rows bucketed by probability: gb_sample_order_bytes() */
    int *sample_bucket;    /* [2 * GB_SAMPLE_BUCKETS + 1]: bucket starts, then sorted flags */
    int sample_valid;      /* sample_buf/sample_order hold the last sampling call's answer */
    float *lens_buf;       /* [2 * vocab] the logit lens's and gb_top_tokens' scratch: probabilities,
                              then one row of logits computed on demand */

    /* a load in progress (gb_load_begin .. gb_load_finish), or NULL */
    gb_loader *loader;
};

/* Stage numbering (see glassbox.h). */
static inline int gb_stage_attn(int layer) { return 1 + 2 * layer; }
static inline int gb_stage_mlp(int layer) { return 2 + 2 * layer; }

/* forward.c */
gb_status gb_forward_stage(gb_ctx *ctx, int stage);
/* Recomputes block `layer` for every position into the scratch slot (keep_all 0). */
gb_status gb_forward_materialize(gb_ctx *ctx, int layer);
/* Makes logits rows [t0, n_tokens) valid (the final stage must be done) and
 * points *logits at row 0 of every position's logits (with keep_all off,
 * logits_all: allocated here). */
gb_status gb_forward_logits(gb_ctx *ctx, int t0, const float **logits);
/* Points *row at position t's logits (the final stage must be done): stored,
 * or computed into lens_buf's second half, valid until the next read. */
gb_status gb_forward_logits_row(gb_ctx *ctx, int t, const float **row);
/* Invalidates every stage from `stage` on. */
void gb_invalidate_from(gb_ctx *ctx, int stage);

/* sample.c: bytes of the order scratch for a vocabulary of this size, and
 * the bucket count (probabilities are bucketed by their float bits). */
size_t gb_sample_order_bytes(int vocab);
#define GB_SAMPLE_BUCKETS 2048
/* The k most likely entries of p[V] (ties by logit, then id) into ids/probs:
 * a partial selection, no full sort. logits may be NULL (ties by p, id). */
void gb_top_k_of(const float *p, const float *logits, int V, int k, int32_t *ids, float *probs);

/* intervene.c: applies the run's interventions on (hook, layer) to rows
 * [t0, t1) of that activation, as the forward pass writes it. */
void gb_apply_interventions(gb_ctx *ctx, int hook, int layer, float *data, int t0, int t1);
/* The first block whose intervened values depend on every position of the run
 * (a mean ablation), so appending tokens must recompute from there; -1 none. */
int gb_first_whole_run_layer(const gb_ctx *ctx);
/* run/patch.c: frees ctx->interp (with the model's run). */
void gb_interp_free(gb_ctx *ctx);

/* The factor scores are multiplied by in block `layer` (config.json's
 * scale_attn_weights and scale_attn_by_inverse_layer_idx). */
static inline float gb_attn_scale(const gb_model_config *mc, int layer, int d_head) {
    float scale = mc->scale_attn_weights ? 1.0f / sqrtf((float)d_head) : 1.0f;
    if (mc->scale_by_layer) scale /= (float)(layer + 1);
    return scale;
}

#endif
