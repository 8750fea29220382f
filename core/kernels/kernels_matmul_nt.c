/* kernels_matmul_nt.c — the SIMD gb_matmul_nt and gb_matmul_nt_packed
 * (x @ w^T with w output-major: the LM head, wte [vocab, n_embd]) and the
 * LM head's in-place packer.
 *
 * Rounding versus the references (kernels_ref.c): at T >= 4 they use
 * kernels_matmul.c's register tile and keep the reference's order (k
 * ascending from 0), so without FMA they match bit for bit; the dot-product
 * paths (T < 4) sum VW interleaved partial sums and match within float
 * tolerance. Written over simd.h's vocabulary; without SIMD, kernels_scalar.c. */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/tile.h"

#ifdef VW
// ----------------------------------------------------------------------------
// gb_matmul_nt: out[T,N] = x[T,K] @ w[N,K]^T
//
// With several rows (T >= NT_PACKED_MIN_T, the LM head over a prompt), it is
// gb_matmul's tile: x packed by gb_tile_pack_x, and PNR rows of w (wte) at a time
// transposed into a panel (K rows of PNR floats, 24 KB: it stays in L1 for
// every row block of x), so outputs are written in place, rows of out. w is
// read once, PNR rows side by side. The transposition is 4 x 4 vector
// blocks (~2% of the arithmetic); broadcasting from five w rows in place
// instead (no transposition, tiles written back transposed) ran ~10% slower in
// WASM: V8 spends an address computation per row per k. The order per output
// is k ascending from 0, as gb_matmul_nt_ref. If the scratch cannot be
// allocated it falls back to the dot-product tiles below.
//
// Otherwise dot products vectorised over K. Pairs of x rows run in tiles of
// 2 x-rows x 4 w-rows (8 independent accumulators; w is read once per pair of
// rows, and the tile sweeps all pairs for each 4 w-rows so they stay in L1). A
// lone x row (T = 1: the LM head at decode, bandwidth-bound) and leftover w
// rows go through gb_dot one row at a time, which streams w fastest
// (measured). Tile order per output: VW lane partial sums over k = j mod VW,
// reduced in lane order, then the scalar tail k >= K - K % VW added in order.

#define NT_PACKED_MIN_T 4

/* panel[k*PNR + j] = w[j*K + k] for the nn <= PNR rows of w, 0 past them. */
static void pack_transposed(float *panel, const float *w, int K, int nn) {
    int k = 0;
#if VW == 4
    if (nn == PNR)
        for (; k + 4 <= K; k += 4)
            for (int g = 0; g < PNR; g += 4) {
                const float *r = w + (size_t)g * K + k;
                vf a = v_load(r), b = v_load(r + K), c = v_load(r + 2 * (size_t)K), d = v_load(r + 3 * (size_t)K);
                V_TRANSPOSE4(a, b, c, d);
                float *o = panel + (size_t)k * PNR + g;
                v_store(o, a), v_store(o + PNR, b), v_store(o + 2 * PNR, c), v_store(o + 3 * PNR, d);
            }
#endif
    for (; k < K; k++)
        for (int j = 0; j < PNR; j++) panel[(size_t)k * PNR + j] = j < nn ? w[(size_t)j * K + k] : 0.0f;
}

static int matmul_nt_packed(float *out, const float *x, const float *w, int T, int K, int N) {
    float *xp = malloc(((size_t)T + PMR - 1) / PMR * PMR * (size_t)K * sizeof *xp);
    float *panel = malloc((size_t)K * PNR * sizeof *panel), tile[PMR * PNR];
    if (!xp || !panel) {
        free(xp), free(panel);
        return 0;
    }
    gb_tile_pack_x(xp, x, T, K);
    for (int n0 = 0; n0 < N; n0 += PNR) {
        int nn = N - n0 < PNR ? N - n0 : PNR;
        pack_transposed(panel, w + (size_t)n0 * K, K, nn);
        for (int t0 = 0; t0 < T; t0 += PMR) {
            int mr = T - t0 < PMR ? T - t0 : PMR;
            const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
            if (mr == PMR && nn == PNR) {
                gb_tile_mul(out + (size_t)t0 * N + n0, N, ap, panel, K, NULL);
            } else {
                gb_tile_mul(tile, PNR, ap, panel, K, NULL);
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < nn; j++) out[(size_t)(t0 + r) * N + n0 + j] = tile[r * PNR + j];
            }
        }
    }
    free(xp), free(panel);
    return 1;
}

/* As gb_pack_nt_inplace_ref; full panels by pack_transposed's 4 x 4 blocks. */
void gb_pack_nt_inplace(float *w, int N, int K, float *scratch) {
    int Nm = PNR == GB_PACK_NR ? N - N % PNR : 0;
    for (int n0 = 0; n0 < Nm; n0 += PNR) {
        float *p = w + (size_t)n0 * K;
        size_t n = (size_t)PNR * K, i = 0;
        for (; i + VW <= n; i += VW) v_store(scratch + i, v_load(p + i));
        for (; i < n; i++) scratch[i] = p[i];
        pack_transposed(p, scratch, K, PNR);
    }
    if (Nm < N) gb_pack_nt_inplace_ref(w + (size_t)Nm * K, N - Nm, K, scratch);
}

/* A full panel from 4-byte-aligned rows by pack_transposed's 4 x 4 blocks
 * (its layout is gb_pack_nt_inplace's when nn == PNR == GB_PACK_NR); the
 * last, narrower panel and unaligned sources by the reference. */
void gb_pack_nt_from(float *panel, const uint8_t *src, int nn, int K) {
#if PNR == GB_PACK_NR
    if (nn == PNR && (uintptr_t)src % sizeof(float) == 0) {
        pack_transposed(panel, (const float *)(const void *)src, K, PNR);
        return;
    }
#endif
    gb_pack_nt_from_ref(panel, src, nn, K);
}

/* gb_matmul_nt on wte packed at load (gb_pack_nt_inplace): the panels
 * matmul_nt_packed transposes on every call are already in place, so the
 * pass over wte that does not overlap the arithmetic (~16 ms of a 64-token
 * forward in WASM, memory-bound) is paid once, at load. T >= 4: the register
 * tile over each panel; the last, narrower panel is padded into a buffer.
 * T < 4 (decode): each panel streamed once, in memory order. */
void gb_matmul_nt_packed(float *out, const float *x, const float *w, int T, int K, int N) {
    float *xp = NULL, *pad = NULL, tile[PMR * PNR];
    if (T >= MM_PANEL_MIN_T) {
        xp = malloc(((size_t)T + PMR - 1) / PMR * PMR * (size_t)K * sizeof *xp);
        pad = malloc((size_t)K * PNR * sizeof *pad);
        if (xp && pad) gb_tile_pack_x(xp, x, T, K);
    }
    for (int n0 = 0; n0 < N; n0 += GB_PACK_NR) {
        int nn = N - n0 < GB_PACK_NR ? N - n0 : GB_PACK_NR;
        const float *bp = w + (size_t)n0 * K;
#if PNR == GB_PACK_NR
        if (xp && pad) {
            if (nn < PNR) { /* K rows of nn floats -> K rows of PNR, zero-padded */
                for (int k = 0; k < K; k++)
                    for (int j = 0; j < PNR; j++) pad[(size_t)k * PNR + j] = j < nn ? bp[(size_t)k * nn + j] : 0.0f;
                bp = pad;
            }
            for (int t0 = 0; t0 < T; t0 += PMR) {
                int mr = T - t0 < PMR ? T - t0 : PMR;
                const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
                if (mr == PMR && nn == PNR) {
                    gb_tile_mul(out + (size_t)t0 * N + n0, N, ap, bp, K, NULL);
                } else {
                    gb_tile_mul(tile, PNR, ap, bp, K, NULL);
                    for (int r = 0; r < mr; r++)
                        for (int j = 0; j < nn; j++) out[(size_t)(t0 + r) * N + n0 + j] = tile[r * PNR + j];
                }
            }
            continue;
        }
        if (nn == PNR) {
            for (int t = 0; t < T; t++) {
                const float *xt = x + (size_t)t * K, *b = bp;
                vf c0 = v_set1(0.0f), c1 = c0;
                for (int k = 0; k < K; k++, b += PNR) {
                    vf xk = v_bcast(xt + k);
                    c0 = v_madd(c0, xk, v_load(b));
                    c1 = v_madd(c1, xk, v_load(b + VW));
                }
                v_store(out + (size_t)t * N + n0, c0), v_store(out + (size_t)t * N + n0 + VW, c1);
            }
            continue;
        }
#endif
        for (int t = 0; t < T; t++) {
            const float *xt = x + (size_t)t * K;
            for (int j = 0; j < nn; j++) {
                float acc = 0.0f;
                for (int k = 0; k < K; k++) acc += xt[k] * bp[(size_t)k * nn + j];
                out[(size_t)t * N + n0 + j] = acc;
            }
        }
    }
    free(xp), free(pad);
}

static float dot_tail(const float *a, const float *b, int k0, int K, float acc) {
    for (int k = k0; k < K; k++) acc += a[k] * b[k];
    return acc;
}

/* x rows x0, x1 against w rows n..n+3 (8 accumulators, 6 loads per 8 madds) */
static void nt_tile(float *o0, float *o1, const float *x0, const float *x1,
                    const float *w, int K) {
    const float *w0 = w, *w1 = w + K, *w2 = w + 2 * (size_t)K, *w3 = w + 3 * (size_t)K;
    int Km = K - K % VW;
    vf a0 = v_set1(0.0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int k = 0; k < Km; k += VW) {
        vf u = v_load(x0 + k), v = v_load(x1 + k), q;
        q = v_load(w0 + k); a0 = v_madd(a0, u, q); b0 = v_madd(b0, v, q);
        q = v_load(w1 + k); a1 = v_madd(a1, u, q); b1 = v_madd(b1, v, q);
        q = v_load(w2 + k); a2 = v_madd(a2, u, q); b2 = v_madd(b2, v, q);
        q = v_load(w3 + k); a3 = v_madd(a3, u, q); b3 = v_madd(b3, v, q);
    }
    o0[0] = dot_tail(x0, w0, Km, K, v_hsum(a0)), o1[0] = dot_tail(x1, w0, Km, K, v_hsum(b0));
    o0[1] = dot_tail(x0, w1, Km, K, v_hsum(a1)), o1[1] = dot_tail(x1, w1, Km, K, v_hsum(b1));
    o0[2] = dot_tail(x0, w2, Km, K, v_hsum(a2)), o1[2] = dot_tail(x1, w2, Km, K, v_hsum(b2));
    o0[3] = dot_tail(x0, w3, Km, K, v_hsum(a3)), o1[3] = dot_tail(x1, w3, Km, K, v_hsum(b3));
}

void gb_matmul_nt(float *out, const float *x, const float *w, int T, int K, int N) {
    if (T >= NT_PACKED_MIN_T && matmul_nt_packed(out, x, w, T, K, N)) return;
    int Tm = T - T % 2, Nm = N - N % 4;
    for (int n = 0; n < Nm && Tm > 0; n += 4) {
        const float *wn = w + (size_t)n * K;
        for (int t = 0; t < Tm; t += 2)
            nt_tile(out + (size_t)t * N + n, out + (size_t)(t + 1) * N + n,
                    x + (size_t)t * K, x + (size_t)(t + 1) * K, wn, K);
    }
    for (int t = 0; t < T; t++)
        for (int n = t < Tm ? Nm : 0; n < N; n++)
            out[(size_t)t * N + n] = gb_dot(x + (size_t)t * K, w + (size_t)n * K, K);
}

#endif /* VW */
