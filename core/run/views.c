/* views.c — what a view of one head draws, computed for that view: the
 * attention pattern of (layer, head) downsampled to an overview of the
 * requested size plus a zoomed region at full resolution (gb_head_pattern_view),
 * and the activation store's size for a run length (gb_store_bytes), so a
 * page can choose keep_all by what fits.
 *
 * Without keep_all the pattern is not stored. Instead of recomputing the whole
 * block (its MLP included) this recomputes only the head: ln_1 of the kept
 * residual, the head's d_head query columns (gb_matmul_packed_cols), scores
 * against the kept K, softmax: the forward pass's kernels on the same inputs,
 * so the same bits as the stored pattern (tested). At 1,024 tokens on GPT-2
 * small that is ~100 MFLOP for q and ~34 for the scores, against ~2 GFLOP
 * for the block. Rows are split over the pool by overview cell rows, so each
 * cell's max or mean is whole within one task. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kernels/kernels.h"

typedef struct {
    gb_ctx *ctx;
    int layer, head, T, D;
    const float *qh;      /* [T, D] this head's queries, or NULL: read the stored pattern */
    const float *pattern; /* the stored pattern (packed triangles), when qh is NULL */
    float *rows;          /* [n_workers, T] one pattern row per worker */
    int ow, oh, mean;
    float *overview;      /* [oh, ow] or NULL */
    int r0, r1, c0, c1;
    float *zoom;          /* [r1 - r0, c1 - c0] or NULL */
    int bands, band_rows; /* task i covers cell row i (overview) or zoom rows [i*band_rows, ...) */
} view_job;

/* Cell i of n over [0, T): [lo, hi), at least one index wide. */
static void cell(int i, int n, int T, int *lo, int *hi) {
    *lo = (int)((long long)i * T / n);
    *hi = (int)((long long)(i + 1) * T / n);
    if (*hi <= *lo) *hi = *lo + 1;
    if (*hi > T) *hi = T;
}

/* Pattern row t of the head into p[0..t] (entries past t are masked: 0). */
static const float *pattern_row(const view_job *j, int t, float *p) {
    const gb_ctx *ctx = j->ctx;
    int H = ctx->model.mc.c.n_head, D = j->D;
    if (!j->qh) return j->pattern + (size_t)H * ((size_t)t * (t + 1) / 2) + (size_t)j->head * (t + 1);
    const float *k = gb_acts_ptr(&ctx->acts, HOOK_K, j->layer) + (size_t)j->head * D;
    gb_matvec(p, k, (size_t)H * D, j->qh + (size_t)t * D, t + 1, D);
    float scale = gb_attn_scale(&ctx->model.mc, j->layer, D);
    for (int i = 0; i <= t; i++) p[i] *= scale;
    gb_softmax(p, p, t + 1);
    return p;
}

static void view_task(void *arg, int i, int worker) {
    const view_job *j = arg;
    float *buf = j->rows + (size_t)worker * j->T;
    int lo, hi;
    if (j->overview) cell(i, j->oh, j->T, &lo, &hi);
    else {
        lo = j->r0 + i * j->band_rows;
        hi = lo + j->band_rows < j->r1 ? lo + j->band_rows : j->r1;
    }
    float *ov = j->overview ? j->overview + (size_t)i * j->ow : NULL;
    if (ov) for (int c = 0; c < j->ow; c++) ov[c] = 0.0f;
    for (int t = lo; t < hi; t++) {
        int in_zoom = j->zoom && t >= j->r0 && t < j->r1;
        if (!ov && !in_zoom) continue;
        const float *p = pattern_row(j, t, buf);
        if (in_zoom) {
            float *z = j->zoom + (size_t)(t - j->r0) * (j->c1 - j->c0);
            for (int c = j->c0; c < j->c1; c++) z[c - j->c0] = c <= t ? p[c] : 0.0f;
        }
        if (ov)
            for (int c = 0; c < j->ow; c++) {
                int a, b;
                cell(c, j->ow, j->T, &a, &b);
                if (b > t + 1) b = t + 1; /* masked keys are 0: add nothing, below any max */
                float acc = ov[c];
                for (int s = a; s < b; s++) acc = j->mean ? acc + p[s] : (p[s] > acc ? p[s] : acc);
                ov[c] = acc;
            }
    }
    if (ov && j->mean)
        for (int c = 0; c < j->ow; c++) {
            int a, b;
            cell(c, j->ow, j->T, &a, &b);
            ov[c] /= (float)((double)(hi - lo) * (b - a));
        }
}

gb_status gb_head_pattern_view(gb_ctx *ctx, int layer, int head, int ow, int oh, int mode, float *overview,
                               int r0, int r1, int c0, int c1, float *zoom) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded yet");
    const gb_config *c = &ctx->model.mc.c;
    int T = ctx->n_tokens, D = c->d_head, C = c->n_embd;
    if (layer < 0 || layer >= c->n_layer || head < 0 || head >= c->n_head)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "head view: block %d head %d out of range (0..%d, 0..%d)", layer, head,
                       c->n_layer - 1, c->n_head - 1);
    if (T == 0 || ctx->done[gb_stage_attn(layer)] < T)
        return GB_FAIL(&ctx->err, GB_E_STATE, "head view: block %d's attention has not run yet", layer);
    if (overview && (ow < 1 || oh < 1 || ow > T || oh > T || (mode != 0 && mode != 1)))
        return GB_FAIL(&ctx->err, GB_E_RANGE, "head view: overview %d x %d must be 1..%d each, mode 0 (max) or 1 (mean)",
                       ow, oh, T);
    if (zoom && !(0 <= r0 && r0 < r1 && r1 <= T && 0 <= c0 && c0 < c1 && c1 <= T))
        return GB_FAIL(&ctx->err, GB_E_RANGE, "head view: zoom rows [%d, %d) x keys [%d, %d) must lie in [0, %d)", r0,
                       r1, c0, c1, T);
    if (!overview && !zoom) return GB_OK;

    int W = ctx->par.n_workers;
    view_job j = {ctx, layer, head, T, D, NULL, NULL, NULL, ow, oh, mode == 1, overview, r0, r1, c0, c1, zoom, 0, 0};
    float *ln = NULL, *qh = NULL;
    int stored = ctx->acts.keep_all || (ctx->scratch_layer == layer && ctx->scratch_from == 0);
    gb_status s = GB_OK;
    if (!stored && !ctx->model.packed) { /* no column entry for Conv1D weights: the whole block */
        if ((s = gb_forward_materialize(ctx, layer))) return s;
        stored = 1;
    }
    j.rows = malloc(sizeof(float) * (size_t)T * (size_t)W);
    if (!stored) {
        ln = malloc(sizeof(float) * (size_t)T * C);
        qh = malloc(sizeof(float) * (size_t)T * D);
        size_t xpn = gb_pack_rows_floats(T, C);
        float *xp = xpn ? malloc(sizeof(float) * xpn) : NULL;
        if (ln && qh && (!xpn || xp)) {
            const gb_block_weights *w = &ctx->model.h[layer];
            gb_layernorm(ln, NULL, gb_acts_ptr(&ctx->acts, HOOK_RESID_PRE, layer), w->ln_1_w, w->ln_1_b, T, C,
                         c->layer_norm_epsilon);
            if (xp) gb_pack_rows(xp, ln, T, C);
            /* the head's query columns [head*D, head*D + D) of c_attn: a packed [C, D] matrix of their own */
            gb_matmul_packed_cols(qh, D, xp, ln, w->c_attn_w + (size_t)head * D * C, w->c_attn_b + (size_t)head * D,
                                  T, C, 0, D);
        }
        free(xp);
        j.qh = qh;
    } else {
        j.pattern = gb_acts_ptr(&ctx->acts, HOOK_PATTERN, layer);
    }
    if (!j.rows || (!stored && (!ln || !qh))) {
        s = GB_FAIL(&ctx->err, GB_E_OOM, "head view: out of memory for %d tokens", T);
    } else {
        int n;
        if (overview) n = oh;
        else {
            j.band_rows = (r1 - r0 + 4 * W - 1) / (4 * W);
            n = (r1 - r0 + j.band_rows - 1) / j.band_rows;
        }
        gb_par_for(&ctx->par, view_task, &j, n);
    }
    free(ln);
    free(qh);
    free(j.rows);
    return s;
}

gb_status gb_store_bytes(gb_ctx *ctx, int n_tokens, int keep_all, double *bytes) {
    if (!ctx || !bytes) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded yet");
    if (n_tokens < 1 || n_tokens > ctx->model.mc.c.n_positions)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "store size: %d tokens (1..%d)", n_tokens, ctx->model.mc.c.n_positions);
    /* the capacity api.c's ensure_capacity allocates: doubling from 16, at most n_positions */
    int cap = 16;
    while (cap < n_tokens) cap *= 2;
    if (cap > ctx->model.mc.c.n_positions) cap = ctx->model.mc.c.n_positions;
    double qkv = (double)cap * 3 * ctx->model.mc.c.n_embd * sizeof(float);
    *bytes = gb_acts_bytes(&ctx->acts.d, keep_all != 0, cap) + qkv;
    return GB_OK;
}
