/* heads.c — the head finder (glassbox.h, "interpretability tools"): every
 * head's previous-token, induction, duplicate-token, sink and virtual
 * induction scores on a seeded repeated random-token sequence, and the
 * residual stream's outlier dimensions.
 *
 * The sequence is the engine's own (SplitMix64 + partial Fisher-Yates, spelled
 * out in glassbox.h) so a reference implementation can rebuild it from the
 * seed; tests/fixtures/make_interp_fixtures.py does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/interp.h"

#define ACT(h, l) gb_acts_ptr(&ctx->acts, (h), (l))
#define MAX_REPEAT 128

gb_status gb_repeated_tokens(uint64_t seed, int length, int lo, int hi, int bos, int32_t *out) {
    if (!out || length < 1 || length > MAX_REPEAT || lo < 0 || hi - lo < length) return GB_E_ARG;
    int n = hi - lo;
    int32_t *a = malloc(sizeof(int32_t) * (size_t)n);
    if (!a) return GB_E_OOM;
    for (int i = 0; i < n; i++) a[i] = lo + i;
    uint64_t st = seed;
    for (int i = 0; i < length; i++) {
        int j = i + (int)(gb_splitmix64(&st) % (uint64_t)(n - i));
        int32_t t = a[i]; a[i] = a[j]; a[j] = t;
    }
    int o = bos >= 0;
    if (o) out[0] = bos;
    for (int i = 0; i < length; i++) out[o + i] = out[o + length + i] = a[i];
    free(a);
    return GB_OK;
}

gb_status gb_outlier_dims(gb_ctx *ctx, float sigma, float *out) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    if (ctx->n_tokens == 0) return GB_FAIL(&ctx->err, GB_E_STATE, "no tokens: set the run's prompt first");
    if (!out || !(sigma > 0)) return GB_FAIL(&ctx->err, GB_E_ARG, "gb_outlier_dims: sigma > 0 and an output array");
    gb_status s = gb_run_until(ctx, gb_last_block_stage(ctx));
    if (s) return s;
    const gb_config *c = &ctx->model.mc.c;
    int C = c->n_embd, T = ctx->n_tokens;
    for (int l = 0; l < c->n_layer; l++) {
        const float *x = ACT(HOOK_RESID_POST, l);
        float *o = out + (size_t)l * C;
        memset(o, 0, sizeof(float) * C);
        for (int t = 0; t < T; t++) {
            const float *r = x + (size_t)t * C;
            double mean = 0, var = 0;
            for (int i = 0; i < C; i++) mean += r[i];
            mean /= C;
            for (int i = 0; i < C; i++) var += (r[i] - mean) * (r[i] - mean);
            double lim = sigma * sqrt(var / C);
            for (int i = 0; i < C; i++)
                if (fabs(r[i] - mean) > lim) o[i] += 1.0f / (float)T;
        }
    }
    return GB_OK;
}

/* Pattern entry [q, k] of head h from a full copy [H, T, T]. */
#define P(pat, h, q, k) (pat)[((size_t)(h) * T + (q)) * T + (k)]

static void score_layer(const float *pat, const float *all, int n_earlier, int H, int T, int L,
                        int o, float *prev, float *ind, float *dup, float *sink, float *virt) {
    for (int h = 0; h < H; h++) {
        double sp = 0, si = 0, sd = 0, ss = 0;
        for (int q = 1; q < T; q++) { sp += P(pat, h, q, q - 1); ss += P(pat, h, q, 0); }
        for (int q = o + L; q < o + 2 * L; q++) { si += P(pat, h, q, q - L + 1); sd += P(pat, h, q, q - L); }
        prev[h] = (float)(sp / (T - 1));
        sink[h] = (float)(ss / (T - 1));
        ind[h] = (float)(si / L);
        dup[h] = (float)(sd / L);
        /* (P_h @ P_g)[q, j] = sum_k P_h[q, k] P_g[k, j], nonzero for j <= k <= q */
        double best = 0;
        for (int e = 0; e < n_earlier; e++) {
            const float *pe = all + (size_t)e * H * T * T; /* block e's patterns */
            for (int g = 0; g < H; g++) {
                double acc = 0;
                for (int q = o + L; q < o + 2 * L; q++) {
                    int j = q - L + 1;
                    for (int k = j; k <= q; k++) acc += (double)P(pat, h, q, k) * P(pe, g, k, j);
                }
                if (acc / L > best) best = acc / L;
            }
        }
        virt[h] = (float)best;
    }
}

gb_status gb_head_finder(gb_ctx *ctx, uint64_t seed, int length, int lo, int hi, int bos, float *scores,
                         float *outlier_share) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loaded) return GB_FAIL(&ctx->err, GB_E_STATE, "no model loaded");
    const gb_config *c = &ctx->model.mc.c;
    int o = bos >= 0, T = o + 2 * length, L = c->n_layer, H = c->n_head;
    if (!scores) return GB_FAIL(&ctx->err, GB_E_ARG, "gb_head_finder: scores array is NULL");
    if (length < 2 || length > MAX_REPEAT || T > c->n_positions)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "head finder: length %d must be 2..%d with %d + 2 x length <= %d "
                       "positions", length, MAX_REPEAT, o, c->n_positions);
    if (lo < 0 || hi > c->vocab_size || hi - lo < length || bos >= c->vocab_size)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "head finder: ids [%d, %d) must lie in the vocabulary 0..%d and hold "
                       "%d distinct tokens", lo, hi, c->vocab_size - 1, length);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)T);
    float *pat = malloc(sizeof(float) * (size_t)L * H * T * T);
    if (!ids || !pat) {
        free(ids); free(pat);
        return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for the head finder's patterns");
    }
    gb_repeated_tokens(seed, length, lo, hi, bos, ids);
    gb_saved_run saved;
    gb_status s = gb_run_save(ctx, &saved);
    if (!s) {
        ctx->iv_suspended = 1;
        s = gb_set_tokens(ctx, ids, T);
        if (!s) s = gb_run_until(ctx, gb_last_block_stage(ctx));
        for (int l = 0; !s && l < L; l++)
            s = gb_activation_copy(ctx, HOOK_PATTERN, l, pat + (size_t)l * H * T * T, (size_t)H * T * T);
        if (!s && outlier_share) s = gb_outlier_dims(ctx, 6.0f, outlier_share);
        ctx->iv_suspended = 0;
        gb_run_restore(ctx, &saved);
    }
    if (!s) {
        for (int l = 0; l < L; l++) {
            float *sc = scores + (size_t)l * H;
            size_t stride = (size_t)L * H;
            score_layer(pat + (size_t)l * H * T * T, pat, l, H, T, length, o, sc, sc + stride,
                        sc + 2 * stride, sc + 3 * stride, sc + 4 * stride);
        }
    }
    free(ids); free(pat);
    return s;
}
