/* kernels_matmul.c — the SIMD gb_matmul and gb_matmul_packed (x @ w + b with
 * w in GPT-2's Conv1D layout, as stored or packed into panels), the in-place
 * packer, and the register tile they share with kernels_matmul_nt.c.
 *
 * Rounding versus the references (kernels_ref.c): both keep the reference's
 * order per output (bias, then k ascending), so without FMA (SSE2, WASM) they
 * match gb_matmul_ref bit for bit; with FMA each step rounds once instead of
 * twice. Written over simd.h's vocabulary; without SIMD, kernels_scalar.c. */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/tile.h"

#ifdef VW
// ----------------------------------------------------------------------------
// gb_matmul: out[T,N] = x[T,K] @ w[K,N] + b, w in GPT-2's Conv1D layout
//
// The engine's block matrices are packed in place at load and go through
// gb_matmul_packed (below), which shares this register tile; gb_matmul serves
// matrices that could not be packed (N not a multiple of GB_PACK_NR) and
// callers with plain Conv1D weights. Two paths:
//
// T >= MM_PANEL_MIN_T (a prompt): w is cut into panels of PNR = 2 vectors of
// columns. Each panel, K rows of PNR floats, is first copied into a contiguous
// buffer (24-96 KB for GPT-2: it stays in L2), then every PMR-row block of x
// runs the register tile over it, so the k loop reads one sequential stream.
// The copy is a pass over the weights that does not overlap the arithmetic
// (a strided read, a new page per row: the prefetcher does not follow it):
// in WASM it made a 64-token forward ~12% slower (434 vs 386 ms of CPU) than
// weights packed once at load. Copying two panels per pass (whole 64-byte
// lines) measured the same.
//
// x is packed too (gb_tile_pack_x: PMR rows interleaved, [k][PMR]), so the tile's
// five broadcasts per k come from one pointer at constant offsets: V8 then
// spends no address arithmetic on them (41 -> 36 instructions per k step;
// the packed tile runs at ~93% of the measured mul+add peak in WASM).
//
// The register tile is PMR rows x PNR columns: per k, the panel's two vectors
// are loaded once and each row's x[t,k] is broadcast to its two multiply-adds.
// Live vectors: 10 accumulators + 2 weights + 1 broadcast + 1 temporary = 14
// of the 15 V8 gives WASM on x64. clang would hoist all five broadcasts to the
// top of the k loop (19 live: spills, half speed); V_BARRIER after each row
// keeps each broadcast next to its uses. Measured in WASM on the 4 GPT-2
// shapes at T = 64: 5 x 8 ~ 4 x 8 + 5%; 6 x 8 and 3 x 16 spill; unrolling k
// by 2 or 4 spills (V8 schedules all the loads of the body first). The kernel
// must not be inlined into its caller (V8 then spills the accumulators):
// wasm-opt inlines a function called from one place whatever LLVM's
// noinline says, so the tile (gb_tile_mul, shared with kernels_matmul_nt.c)
// is called from eight places. Rows past the last full
// tile are zero rows of the packed x and go through a scratch tile, as do
// columns past the last full panel (zero-padded in the panel buffer).
//
// T < MM_PANEL_MIN_T (decode: one new token): no copy; out row = bias, then
// the rows of w are streamed in order (mm_rows). Bandwidth-bound: every
// weight is read once, sequentially.
//
// Both keep the reference's order per output: bias, then k ascending, one
// multiply and one add each, so without FMA (SSE2, WASM) they match
// gb_matmul_ref bit for bit. If the buffers cannot be allocated, the rows
// path computes the same result.

/* PMR x PNR tile: o[r*ldo + j] = init[j] + sum_k ap[k*PMR + r] * bp[k*PNR + j]
 * (init NULL: 0), x packed by gb_tile_pack_x (the five broadcasts at constant
 * offsets from one pointer), bp one panel. Written out row by row (not as
 * loops over arrays) so every compiler keeps the accumulators in registers:
 * gcc -O2 does not fully unroll the loops. */
__attribute__((noinline)) void gb_tile_mul(float *o, int ldo, const float *ap,
                                      const float *bp, int K, const float *init) {
    vf i0 = init ? v_load(init) : v_set1(0.0f), i1 = init ? v_load(init + VW) : v_set1(0.0f);
    vf c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
    vf c40 = i0, c41 = i1;
#define MM_ROW(r)                                                                             \
    {                                                                                         \
        vf x = v_bcast(ap + r);                                                               \
        c##r##0 = v_madd(c##r##0, x, b0);                                                     \
        c##r##1 = v_madd(c##r##1, x, b1);                                                     \
        V_BARRIER();                                                                          \
    }
    for (int k = 0; k < K; k++, bp += PNR, ap += PMR) {
        vf b0 = v_load(bp), b1 = v_load(bp + VW);
        MM_ROW(0) MM_ROW(1) MM_ROW(2) MM_ROW(3) MM_ROW(4)
    }
#undef MM_ROW
    v_store(o, c00), v_store(o + VW, c01);
    v_store(o + ldo, c10), v_store(o + ldo + VW, c11);
    v_store(o + 2 * ldo, c20), v_store(o + 2 * ldo + VW, c21);
    v_store(o + 3 * ldo, c30), v_store(o + 3 * ldo + VW, c31);
    v_store(o + 4 * ldo, c40), v_store(o + 4 * ldo + VW, c41);
}

/* x[T,K] as ceil(T / PMR) blocks of K rows of PMR floats: dst[(q*K + k)*PMR + r]
 * = x[(q*PMR + r)*K + k], 0 past row T. */
void gb_tile_pack_x(float *dst, const float *x, int T, int K) {
    for (int t0 = 0; t0 < T; t0 += PMR, dst += (size_t)K * PMR) {
        int mr = T - t0 < PMR ? T - t0 : PMR;
        for (int r = 0; r < PMR; r++) {
            const float *xr = x + (size_t)(t0 + r) * K;
            if (r < mr)
                for (int k = 0; k < K; k++) dst[k * PMR + r] = xr[k];
            else
                for (int k = 0; k < K; k++) dst[k * PMR + r] = 0.0f;
        }
    }
}
/* dst[k*PNR + j] = w[k*N + n0 + j] for the nn = min(PNR, N - n0) columns, 0 past them. */
static void pack_panel(float *dst, const float *w, int K, int N, int n0) {
    int nn = N - n0 < PNR ? N - n0 : PNR;
    const float *src = w + n0;
    if (nn == PNR) {
        for (int k = 0; k < K; k++, src += N, dst += PNR) {
            v_store(dst, v_load(src));
            v_store(dst + VW, v_load(src + VW));
        }
    } else {
        for (int k = 0; k < K; k++, src += N, dst += PNR)
            for (int j = 0; j < PNR; j++) dst[j] = j < nn ? src[j] : 0.0f;
    }
}

/* Every row t: out[t] = b, then out[t] += x[t,k] * w[k] for k ascending, all
 * rows per k, so w is read once, front to back, in one sequential stream.
 * (Four rows of w per pass, each output vector loaded once per four k, ran
 * 1.6x faster with w in cache but 1.5x slower from DRAM, 10.7 vs 16.6 GB/s
 * over GPT-2's 48 block matrices natively: four interleaved streams defeat
 * the prefetcher. At decode the weights always come from DRAM.) */
static void mm_rows(float *out, const float *x, const float *w, const float *b, int T, int K, int N) {
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) out[(size_t)t * N + n] = b ? b[n] : 0.0f;
    for (int k = 0; k < K; k++)
        for (int t = 0; t < T; t++) gb_axpy(out + (size_t)t * N, x[(size_t)t * K + k], w + (size_t)k * N, N);
}
void gb_matmul(float *out, const float *x, const float *w, const float *b, int T, int K, int N) {
    size_t blocks = ((size_t)T + PMR - 1) / PMR;
    float *panel = NULL, *xp = NULL;
    if (T >= MM_PANEL_MIN_T && K > 0) {
        panel = malloc((size_t)K * PNR * sizeof *panel);
        xp = malloc(blocks * PMR * (size_t)K * sizeof *xp);
    }
    if (!panel || !xp) {
        free(panel), free(xp);
        mm_rows(out, x, w, b, T, K, N);
        return;
    }
    gb_tile_pack_x(xp, x, T, K);
    float tile[PMR * PNR], bias[PNR];
    for (int n0 = 0; n0 < N; n0 += PNR) {
        int nn = N - n0 < PNR ? N - n0 : PNR;
        const float *init = b ? b + n0 : NULL;
        if (b && nn < PNR) { /* last panel: bias padded like the weights */
            for (int j = 0; j < PNR; j++) bias[j] = j < nn ? b[n0 + j] : 0.0f;
            init = bias;
        }
        pack_panel(panel, w, K, N, n0);
        for (int t0 = 0; t0 < T; t0 += PMR) {
            int mr = T - t0 < PMR ? T - t0 : PMR;
            const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
            if (nn == PNR && mr == PMR) {
                gb_tile_mul(out + (size_t)t0 * N + n0, N, ap, panel, K, init);
            } else {
                gb_tile_mul(tile, PNR, ap, panel, K, init);
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < nn; j++) out[(size_t)(t0 + r) * N + n0 + j] = tile[r * PNR + j];
            }
        }
    }
    free(panel);
    free(xp);
}


// ----------------------------------------------------------------------------
// gb_matmul_packed: out[T,N] = x[T,K] @ w + b, w packed in place at load
//
// The same PMR x PNR register tile as gb_matmul (gb_tile_mul), but the
// weight panel is read where it lies (K rows of PNR floats, contiguous): the
// first row block streams it from memory, the others find it in cache. No
// copy per call: gb_matmul's panel copy (a strided pass over every weight,
// which does not overlap the arithmetic) was ~10% of a 64-token forward in
// WASM. Packing costs the load two passes over the 340 MB of GPT-2 small's
// block matrices (a copy to scratch, then the panels back in place): ~50 ms
// of CPU in WASM, against ~48 ms saved per 64-token forward. Panels cut
// into k-blocks of 32..256 rows (so that packing would need less scratch)
// measured 19%..5% slower: each jump to the next block restarts the stream.
// T < MM_PANEL_MIN_T (decode) streams the whole matrix once, in memory
// order (mm_rows_packed).

/* As gb_pack_inplace_ref, with vector copies: the copy to scratch and the
 * eight-row strips (emscripten's memcpy copies a word at a time). */
void gb_pack_inplace(float *w, int K, int N, float *scratch) {
    size_t n = (size_t)K * N, i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        vf a = v_load(w + i), b = v_load(w + i + VW), c = v_load(w + i + 2 * VW), d = v_load(w + i + 3 * VW);
        v_store(scratch + i, a), v_store(scratch + i + VW, b);
        v_store(scratch + i + 2 * VW, c), v_store(scratch + i + 3 * VW, d);
    }
    for (; i < n; i++) scratch[i] = w[i];
    for (int k0 = 0; k0 < K; k0 += 8) {
        int kn = K - k0 < 8 ? K - k0 : 8;
        for (int n0 = 0; n0 < N; n0 += GB_PACK_NR) {
            float *dst = w + (size_t)n0 * K + (size_t)k0 * GB_PACK_NR;
            const float *src = scratch + (size_t)k0 * N + n0;
            for (int k = 0; k < kn; k++, dst += GB_PACK_NR, src += N)
                for (int j = 0; j < GB_PACK_NR; j += VW) v_store(dst + j, v_load(src + j));
        }
    }
}

#if PNR == GB_PACK_NR
/* Per panel, per row t: out[t, panel] = b, then the panel's K rows in order.
 * The matrix is read once, front to back. */
static void mm_rows_packed(float *out, const float *x, const float *w, const float *b, int T, int K,
                           int N) {
    vf z = v_set1(0.0f);
    for (int n0 = 0; n0 < N; n0 += PNR, w += (size_t)K * PNR)
        for (int t = 0; t < T; t++) {
            const float *xt = x + (size_t)t * K, *bp = w;
            vf c0 = b ? v_load(b + n0) : z, c1 = b ? v_load(b + n0 + VW) : z;
            for (int k = 0; k < K; k++, bp += PNR) {
                vf xk = v_bcast(xt + k);
                c0 = v_madd(c0, xk, v_load(bp));
                c1 = v_madd(c1, xk, v_load(bp + VW));
            }
            v_store(out + (size_t)t * N + n0, c0), v_store(out + (size_t)t * N + n0 + VW, c1);
        }
}

void gb_matmul_packed(float *out, const float *x, const float *w, const float *b, int T, int K, int N) {
    float *xp = T >= MM_PANEL_MIN_T ? malloc(((size_t)T + PMR - 1) / PMR * PMR * (size_t)K * sizeof *xp)
                                    : NULL;
    if (!xp) {
        mm_rows_packed(out, x, w, b, T, K, N);
        return;
    }
    gb_tile_pack_x(xp, x, T, K);
    float tile[PMR * PNR];
    for (int n0 = 0; n0 < N; n0 += PNR) {
        const float *init = b ? b + n0 : NULL, *bp = w + (size_t)n0 * K;
        for (int t0 = 0; t0 < T; t0 += PMR) {
            int mr = T - t0 < PMR ? T - t0 : PMR;
            const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
            if (mr == PMR) {
                gb_tile_mul(out + (size_t)t0 * N + n0, N, ap, bp, K, init);
            } else {
                gb_tile_mul(tile, PNR, ap, bp, K, init);
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < PNR; j++) out[(size_t)(t0 + r) * N + n0 + j] = tile[r * PNR + j];
            }
        }
    }
    free(xp);
}
#else
/* A build whose tile is not GB_PACK_NR wide (avx2): the reference. */
void gb_matmul_packed(float *out, const float *x, const float *w, const float *b, int T, int K, int N) {
    gb_matmul_packed_ref(out, x, w, b, T, K, N);
}
#endif
#endif /* VW */
