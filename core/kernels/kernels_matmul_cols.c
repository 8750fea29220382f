/* kernels_matmul_cols.c — a range of output columns of a packed block matmul,
 * for the thread splits (core/run/par.c): no allocation (tasks may run on
 * threads that must not call malloc), an output stride, and x packed once by
 * the caller for every column task.
 *
 * Per output the order is gb_matmul_packed's (bias, then k ascending), so the
 * columns a task computes are the same bits gb_matmul_packed gives for them
 * in a build without FMA (wasm, SSE2), whichever path each takes. The tile
 * path and its packed x are gb_matmul_packed's (tile.h); fewer rows than
 * MM_PANEL_MIN_T (decode) stream each panel once, as mm_rows_packed does. */
#include "kernels/kernels.h"
#include "kernels/tile.h"

#if defined(VW) && PNR == GB_PACK_NR
size_t gb_pack_rows_floats(int T, int K) {
    if (T < MM_PANEL_MIN_T || K <= 0) return 0;
    return ((size_t)T + PMR - 1) / PMR * PMR * (size_t)K;
}

void gb_pack_rows(float *xp, const float *x, int T, int K) { gb_tile_pack_x(xp, x, T, K); }

void gb_matmul_packed_cols(float *out, int ldo, const float *xp, const float *x, const float *w,
                           const float *b, int T, int K, int n0, int n1) {
    if (!xp || T < MM_PANEL_MIN_T) {
        vf z = v_set1(0.0f);
        for (int c = n0; c < n1; c += PNR) {
            const float *panel = w + (size_t)c * K;
            for (int t = 0; t < T; t++) {
                const float *xt = x + (size_t)t * K, *bp = panel;
                vf c0 = b ? v_load(b + c) : z, c1 = b ? v_load(b + c + VW) : z;
                for (int k = 0; k < K; k++, bp += PNR) {
                    vf xk = v_bcast(xt + k);
                    c0 = v_madd(c0, xk, v_load(bp));
                    c1 = v_madd(c1, xk, v_load(bp + VW));
                }
                v_store(out + (size_t)t * ldo + c, c0), v_store(out + (size_t)t * ldo + c + VW, c1);
            }
        }
        return;
    }
    float tile[PMR * PNR];
    for (int c = n0; c < n1; c += PNR) {
        const float *init = b ? b + c : NULL, *bp = w + (size_t)c * K;
        for (int t0 = 0; t0 < T; t0 += PMR) {
            int mr = T - t0 < PMR ? T - t0 : PMR;
            const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
            if (mr == PMR) {
                gb_tile_mul(out + (size_t)t0 * ldo + c, ldo, ap, bp, K, init);
            } else {
                gb_tile_mul(tile, PNR, ap, bp, K, init);
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < PNR; j++) out[(size_t)(t0 + r) * ldo + c + j] = tile[r * PNR + j];
            }
        }
    }
}
#else
/* No tile of GB_PACK_NR columns in this build (scalar, avx2): the reference,
 * which reads x as it is. */
size_t gb_pack_rows_floats(int T, int K) { (void)T; (void)K; return 0; }
void gb_pack_rows(float *xp, const float *x, int T, int K) { (void)xp; (void)x; (void)T; (void)K; }
void gb_matmul_packed_cols(float *out, int ldo, const float *xp, const float *x, const float *w,
                           const float *b, int T, int K, int n0, int n1) {
    gb_matmul_packed_cols_ref(out, ldo, xp, x, w, b, T, K, n0, n1);
}
#endif

/* gb_matmul_packed_ref's loop over columns [n0, n1) only, into rows ldo apart. */
void gb_matmul_packed_cols_ref(float *out, int ldo, const float *xp, const float *x, const float *w,
                               const float *b, int T, int K, int n0, int n1) {
    (void)xp;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * K;
        for (int n = n0; n < n1; n++) {
            const float *col = w + (size_t)(n - n % GB_PACK_NR) * K + n % GB_PACK_NR;
            float acc = b ? b[n] : 0.0f;
            for (int k = 0; k < K; k++) acc += xt[k] * col[(size_t)k * GB_PACK_NR];
            out[(size_t)t * ldo + n] = acc;
        }
    }
}
