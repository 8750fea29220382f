/* interp.h — what the interpretability tools (patch.c, attribute.c, heads.c,
 * sparsity.c, reagent.c) share inside core/: the patch source run, the
 * grid's temporary patch, ReAGent's state, and small helpers for running
 * another token sequence without losing the caller's run. */
#ifndef GB_INTERP_H
#define GB_INTERP_H

#include <stdint.h>

#include "ctx.h"

typedef struct gb_reagent gb_reagent;

struct gb_interp {
    /* the patch source run (gb_set_patch_source): [L][T][C] each */
    int src_T;
    int32_t *src_tokens;
    float *src_resid_pre, *src_attn_out, *src_mlp_out, *src_z;
    float *src_final;        /* [C] the last block's hook_resid_post at position T-1 */
    /* the patching grid's temporary entry (not in the run's list) */
    int has_probe;
    gb_intervention probe;
    gb_reagent *reagent;
};

/* Allocates ctx->interp on first use. */
gb_status gb_interp_get(gb_ctx *ctx, struct gb_interp **out);
/* patch.c: copies the source's rows [t0, t1) of entry iv into data. */
void gb_patch_apply(gb_ctx *ctx, const gb_intervention *iv, float *data, int t0, int t1);
/* patch.c: checks a GB_IV_PATCH entry (hook, head, a source exists). */
gb_status gb_patch_check(gb_ctx *ctx, const gb_intervention *iv);
/* patch.c: applies the grid's temporary cell, if it is on (hook, layer). */
void gb_patch_apply_probe(gb_ctx *ctx, int hook, int layer, float *data, int t0, int t1);
/* The stage that writes (hook, layer): where invalidation for a change to it starts. */
int gb_hook_writer_stage(int hook, int layer);
/* Marks rows [row, T) of every stage from `stage` on as not computed (so the
 * next run recomputes only those: rows before `row` cannot see a change at
 * `row` through causal attention). A mean ablation depends on every row, so
 * then the whole stage is redone. */
void gb_invalidate_rows(gb_ctx *ctx, int stage, int row);
/* The last stage before the final layer norm: every block's output. */
static inline int gb_last_block_stage(const gb_ctx *ctx) { return gb_stage_mlp(ctx->model.mc.c.n_layer - 1); }

/* A saved run (tokens, prompt length) to put back after running something else. */
typedef struct { int32_t *tokens; int n, n_prompt; } gb_saved_run;
gb_status gb_run_save(gb_ctx *ctx, gb_saved_run *s);
void gb_run_restore(gb_ctx *ctx, gb_saved_run *s); /* also frees s */
/* Replaces the run's tokens by ids (same count), recomputing only from the first change. */
void gb_run_replace_tokens(gb_ctx *ctx, const int32_t *ids);

/* Row `id` of the unembedding (lm_head, or wte when tied) into out[C]. */
void gb_unembed_row(const gb_model *m, int id, float *out);
/* Element (k, n) of a block matrix [K, N] (packed or Conv1D, as the model holds it). */
static inline float gb_weight_at(const gb_model *m, const float *w, int K, int N, int k, int n) {
    (void)N;
    if (m->packed) return w[(size_t)(n / GB_PACK_NR) * K * GB_PACK_NR + (size_t)k * GB_PACK_NR + n % GB_PACK_NR];
    return w[(size_t)k * N + n];
}
/* The logit difference target - distractor of a final-block residual row x:
 * ln_final(x) . (W_U[target] - W_U[distractor]); udiff holds that difference. */
float gb_row_logit_diff(const gb_model *m, const float *x, const float *udiff);

/* SplitMix64: the seeded stream of the head finder and ReAGent (documented in
 * glassbox.h so other implementations can reproduce the sequences). */
static inline uint64_t gb_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void gb_reagent_free(gb_reagent *r); /* reagent.c */

#endif
