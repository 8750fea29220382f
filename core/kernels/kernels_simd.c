/* kernels_simd.c — the public gb_* kernels, vectorised for the build target.
 *
 * SIMD is a small vocabulary (ggml's simd-mappings idea, cut down): `vf` is one
 * vector of VW floats and v_* are its operations, defined once per target:
 *   __wasm_simd128__        wasm_simd128.h, VW = 4, no FMA (see KERNELS.md)
 *   __AVX2__ && __FMA__     immintrin.h,    VW = 8, v_madd is a fused FMA
 *   __SSE2__ (any x86-64)   emmintrin.h,    VW = 4
 *   otherwise               every gb_* forwards to its _ref twin.
 * Each kernel is written once over that vocabulary: a vector main loop, then a
 * scalar tail, and it never reads past the end of an array.
 *
 * Rounding versus the references (kernels_ref.c): gb_matmul, gb_matmul_packed
 * and gb_matmul_nt at T >= 4 keep the reference's order per output (bias, then k ascending),
 * so without FMA (SSE2, WASM) they match bit for bit; with
 * FMA each step rounds once instead of twice. Dot-product kernels
 * (gb_matmul_nt at T < 4, gb_dot, the sums in layernorm and softmax) sum VW
 * interleaved partial sums and then reduce them, and
 * exp/GELU use the polynomial v_exp below, so those match within float
 * tolerance, not bit for bit.
 */
#include "kernels/kernels.h"

#include <math.h>
#include <stdlib.h>

#if defined(__wasm_simd128__)
#define GB_ISA "wasm-simd128"
#include <wasm_simd128.h>
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__) && defined(__FMA__)
#define GB_ISA "avx2"
#include <immintrin.h>
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define GB_ISA "sse2"
#include <emmintrin.h>
#else
#define GB_ISA "scalar"
#endif

const char *gb_kernels_isa(void) { return GB_ISA; }

#if defined(__wasm_simd128__)
// ----------------------------------------------------------------------------
// vocabulary: WASM SIMD128

typedef v128_t vf;
typedef v128_t vi;
#define VW 4
static inline vf v_load(const float *p) { return wasm_v128_load(p); }
static inline void v_store(float *p, vf v) { wasm_v128_store(p, v); }
static inline vf v_set1(float a) { return wasm_f32x4_splat(a); }
static inline vf v_bcast(const float *p) { return wasm_v128_load32_splat(p); }
/* An empty asm with a memory clobber: clang may not move the next broadcast
 * load above it, so each tile row's broadcast stays next to its uses (see
 * mm_kernel). */
#define V_BARRIER() __asm__ volatile("" ::: "memory")
static inline vf v_add(vf a, vf b) { return wasm_f32x4_add(a, b); }
static inline vf v_sub(vf a, vf b) { return wasm_f32x4_sub(a, b); }
static inline vf v_mul(vf a, vf b) { return wasm_f32x4_mul(a, b); }
static inline vf v_div(vf a, vf b) { return wasm_f32x4_div(a, b); }
static inline vf v_madd(vf c, vf a, vf b) { return wasm_f32x4_add(c, wasm_f32x4_mul(a, b)); }
/* max/min keep a NaN in x (so NaN inputs stay NaN), as SSE's maxps/minps
 * with x second. pmax/pmin are those x86 semantics, one instruction each in
 * V8; f32x4.max/min (NaN from either side, -0 < +0) take ~7 on x64. */
static inline vf v_max(vf x, vf c) { return wasm_f32x4_pmax(x, c); }
static inline vf v_min(vf x, vf c) { return wasm_f32x4_pmin(x, c); }
static inline vf v_round(vf a) { return wasm_f32x4_nearest(a); }
/* 2^n for integral n in [-126, 127] held as floats. */
static inline vf v_pow2i(vf n) {
    /* n + 1.5 * 2^23 is exact and holds n in its low mantissa bits; adding
     * 127 and shifting left by 23 leaves (n + 127) << 23 (the constant's own
     * bits shift out). i32x4.trunc_sat_f32x4_s is ~6 instructions in V8. */
    vi i = wasm_f32x4_add(n, wasm_f32x4_splat(12582912.0f));
    return wasm_i32x4_shl(wasm_i32x4_add(i, wasm_i32x4_splat(127)), 23);
}
/* x where x >= lo, else 0 (NaN kept) */
static inline vf v_zero_below(vf v, vf x, vf lo) { return wasm_v128_andnot(v, wasm_f32x4_lt(x, lo)); }
/* rows a..d of a 4 x 4 block become its columns */
#define V_TRANSPOSE4(a, b, c, d)                                                              \
    do {                                                                                      \
        vf t0_ = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), t1_ = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5); \
        vf t2_ = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7), t3_ = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7); \
        a = wasm_i32x4_shuffle(t0_, t1_, 0, 1, 4, 5), b = wasm_i32x4_shuffle(t0_, t1_, 2, 3, 6, 7); \
        c = wasm_i32x4_shuffle(t2_, t3_, 0, 1, 4, 5), d = wasm_i32x4_shuffle(t2_, t3_, 2, 3, 6, 7); \
    } while (0)

#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__) && defined(__FMA__)
// ----------------------------------------------------------------------------
// vocabulary: AVX2 + FMA

typedef __m256 vf;
#define VW 8
static inline vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf v_set1(float a) { return _mm256_set1_ps(a); }
static inline vf v_bcast(const float *p) { return _mm256_broadcast_ss(p); }
#define V_BARRIER() ((void)0)
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf v_madd(vf c, vf a, vf b) { return _mm256_fmadd_ps(a, b, c); }
/* maxps/minps return the second operand when either is NaN: put x second. */
static inline vf v_max(vf x, vf c) { return _mm256_max_ps(c, x); }
static inline vf v_min(vf x, vf c) { return _mm256_min_ps(c, x); }
static inline vf v_round(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf v_pow2i(vf n) {
    __m256i i = _mm256_cvtps_epi32(n);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(i, _mm256_set1_epi32(127)), 23));
}
static inline vf v_zero_below(vf v, vf x, vf lo) { return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), v); }

#elif (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
// ----------------------------------------------------------------------------
// vocabulary: SSE2 (baseline x86-64)

typedef __m128 vf;
#define VW 4
static inline vf v_load(const float *p) { return _mm_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm_storeu_ps(p, v); }
static inline vf v_set1(float a) { return _mm_set1_ps(a); }
static inline vf v_bcast(const float *p) { return _mm_load1_ps(p); }
#define V_BARRIER() ((void)0)
static inline vf v_add(vf a, vf b) { return _mm_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm_div_ps(a, b); }
static inline vf v_madd(vf c, vf a, vf b) { return _mm_add_ps(c, _mm_mul_ps(a, b)); }
static inline vf v_max(vf x, vf c) { return _mm_max_ps(c, x); }
static inline vf v_min(vf x, vf c) { return _mm_min_ps(c, x); }
/* cvtps rounds to nearest-even under the default MXCSR; |a| < 2^31 here. */
static inline vf v_round(vf a) { return _mm_cvtepi32_ps(_mm_cvtps_epi32(a)); }
static inline vf v_pow2i(vf n) {
    __m128i i = _mm_cvtps_epi32(n);
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(i, _mm_set1_epi32(127)), 23));
}
static inline vf v_zero_below(vf v, vf x, vf lo) { return _mm_andnot_ps(_mm_cmplt_ps(x, lo), v); }
#define V_TRANSPOSE4(a, b, c, d) _MM_TRANSPOSE4_PS(a, b, c, d)
#endif

#ifdef VW
// ----------------------------------------------------------------------------
// shared helpers

/* Lane sum in lane order, ((l0 + l1) + l2) + ...: the same on every target. */
static inline float v_hsum(vf v) {
    float t[VW];
    v_store(t, v);
    float s = t[0];
    for (int i = 1; i < VW; i++) s += t[i];
    return s;
}

static inline float v_hmax(vf v) {
    float t[VW];
    v_store(t, v);
    float m = t[0];
    for (int i = 1; i < VW; i++) m = t[i] > m ? t[i] : m;
    return m;
}

/* exp(x), Cephes expf's method: x = n ln2 + r with n = round(x / ln2) and
 * ln2 split in two (Cody-Waite) so r is exact, exp(r) by a degree-6
 * polynomial, times 2^n built in the exponent bits. About 1-2 ulp from expf.
 * x is clamped to [-87.33, 88] so 2^n stays normal; below -87.33 (where expf
 * is subnormal or 0, and for -INFINITY) the result is 0. */
static inline vf v_exp(vf x) {
    const vf lo = v_set1(-87.33654475f);
    vf xc = v_max(v_min(x, v_set1(88.0f)), lo);
    vf n = v_round(v_mul(xc, v_set1(1.44269504088896341f)));
    vf r = v_sub(xc, v_mul(n, v_set1(0.693359375f)));
    r = v_sub(r, v_mul(n, v_set1(-2.12194440e-4f)));
    vf p = v_set1(1.9875691500e-4f);
    p = v_add(v_mul(p, r), v_set1(1.3981999507e-3f));
    p = v_add(v_mul(p, r), v_set1(8.3334519073e-3f));
    p = v_add(v_mul(p, r), v_set1(4.1665795894e-2f));
    p = v_add(v_mul(p, r), v_set1(1.6666665459e-1f));
    p = v_add(v_mul(p, r), v_set1(5.0000001201e-1f));
    vf y = v_add(v_add(v_mul(v_mul(p, r), r), r), v_set1(1.0f));
    return v_zero_below(v_mul(y, v_pow2i(n)), x, lo);
}
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
// x is packed too (pack_rows: PMR rows interleaved, [k][PMR]), so the tile's
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
// wasm-opt inlines a static function called from one place whatever LLVM's
// noinline says, so each kernel has two call sites. Rows past the last full
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

#define PMR 5
#define PNR (2 * VW)
#define MM_PANEL_MIN_T 4

/* PMR x PNR tile: o[r*ldo + j] = init[j] + sum_k ap[k*PMR + r] * bp[k*PNR + j]
 * (init NULL: 0), x packed by pack_rows (the five broadcasts at constant
 * offsets from one pointer), bp one panel. Written out row by row (not as
 * loops over arrays) so every compiler keeps the accumulators in registers:
 * gcc -O2 does not fully unroll the loops. */
__attribute__((noinline)) static void mm_kernel_packed(float *o, int ldo, const float *ap,
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
static void pack_rows(float *dst, const float *x, int T, int K) {
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
    pack_rows(xp, x, T, K);
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
                mm_kernel_packed(out + (size_t)t0 * N + n0, N, ap, panel, K, init);
            } else {
                mm_kernel_packed(tile, PNR, ap, panel, K, init);
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
// The same PMR x PNR register tile as gb_matmul (mm_kernel_packed), but the
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
    pack_rows(xp, x, T, K);
    float tile[PMR * PNR];
    for (int n0 = 0; n0 < N; n0 += PNR) {
        const float *init = b ? b + n0 : NULL, *bp = w + (size_t)n0 * K;
        for (int t0 = 0; t0 < T; t0 += PMR) {
            int mr = T - t0 < PMR ? T - t0 : PMR;
            const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
            if (mr == PMR) {
                mm_kernel_packed(out + (size_t)t0 * N + n0, N, ap, bp, K, init);
            } else {
                mm_kernel_packed(tile, PNR, ap, bp, K, init);
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

// ----------------------------------------------------------------------------
// gb_matmul_nt: out[T,N] = x[T,K] @ w[N,K]^T
//
// With several rows (T >= NT_PACKED_MIN_T, the LM head over a prompt), it is
// gb_matmul's tile: x packed by pack_rows, and PNR rows of w (wte) at a time
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
    pack_rows(xp, x, T, K);
    for (int n0 = 0; n0 < N; n0 += PNR) {
        int nn = N - n0 < PNR ? N - n0 : PNR;
        pack_transposed(panel, w + (size_t)n0 * K, K, nn);
        for (int t0 = 0; t0 < T; t0 += PMR) {
            int mr = T - t0 < PMR ? T - t0 : PMR;
            const float *ap = xp + (size_t)(t0 / PMR) * K * PMR;
            if (mr == PMR && nn == PNR) {
                mm_kernel_packed(out + (size_t)t0 * N + n0, N, ap, panel, K, NULL);
            } else {
                mm_kernel_packed(tile, PNR, ap, panel, K, NULL);
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
        if (xp && pad) pack_rows(xp, x, T, K);
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
                    mm_kernel_packed(out + (size_t)t0 * N + n0, N, ap, bp, K, NULL);
                } else {
                    mm_kernel_packed(tile, PNR, ap, bp, K, NULL);
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

// ----------------------------------------------------------------------------
// row kernels

/* Four vector accumulators over blocks of 4 VW (k = 0..4VW-1 to a0..a3, and
 * so on), then one vector at a time, summed (a0 + a1) + (a2 + a3), reduced in
 * lane order, and the scalar tail added in order. Four independent chains
 * keep enough loads in flight: a row at a time this streams ~2x faster than
 * gb_matmul_nt's 4-row tile, so the T = 1 LM head uses it. */
float gb_dot(const float *a, const float *b, int n) {
    vf a0 = v_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        a0 = v_madd(a0, v_load(a + i), v_load(b + i));
        a1 = v_madd(a1, v_load(a + i + VW), v_load(b + i + VW));
        a2 = v_madd(a2, v_load(a + i + 2 * VW), v_load(b + i + 2 * VW));
        a3 = v_madd(a3, v_load(a + i + 3 * VW), v_load(b + i + 3 * VW));
    }
    for (; i + VW <= n; i += VW) a0 = v_madd(a0, v_load(a + i), v_load(b + i));
    return dot_tail(a, b, i, n, v_hsum(v_add(v_add(a0, a1), v_add(a2, a3))));
}

void gb_axpy(float *y, float a, const float *x, int n) {
    int nm = n - n % VW, i = 0;
    vf va = v_set1(a);
    for (; i < nm; i += VW) v_store(y + i, v_madd(v_load(y + i), va, v_load(x + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/* Four rows at a time, one vector accumulator each, x loaded once per four
 * rows; the four sums reduced together (4 x 4 transpose, three adds) and
 * stored as one vector. Leftover rows (and targets without V_TRANSPOSE4) go
 * through gb_dot. Per output: lane partial sums over d = i mod VW, added
 * ((l0 + l1) + (l2 + l3)), then the scalar tail. */
void gb_matvec(float *out, const float *m, size_t ldm, const float *x, int n, int D) {
    int j = 0;
#ifdef V_TRANSPOSE4
    int Dm = D - D % VW;
    for (; j + 4 <= n; j += 4) {
        const float *m0 = m + (size_t)j * ldm, *m1 = m0 + ldm, *m2 = m1 + ldm, *m3 = m2 + ldm;
        vf a0 = v_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < Dm; d += VW) {
            vf xv = v_load(x + d);
            a0 = v_madd(a0, v_load(m0 + d), xv);
            a1 = v_madd(a1, v_load(m1 + d), xv);
            a2 = v_madd(a2, v_load(m2 + d), xv);
            a3 = v_madd(a3, v_load(m3 + d), xv);
        }
        V_TRANSPOSE4(a0, a1, a2, a3);
        v_store(out + j, v_add(v_add(a0, a1), v_add(a2, a3)));
        for (int d = Dm; d < D; d++) {
            out[j] += m0[d] * x[d], out[j + 1] += m1[d] * x[d];
            out[j + 2] += m2[d] * x[d], out[j + 3] += m3[d] * x[d];
        }
    }
#endif
    for (; j < n; j++) out[j] = gb_dot(m + (size_t)j * ldm, x, D);
}

/* Eight vectors of out at a time held in registers across all n rows (the
 * gb_axpy loop loads and stores out once per row), then one vector, then
 * scalars; each output sees 0 + p[0] m[0] + p[1] m[1] + ... in order. */
void gb_vecmat(float *out, const float *p, const float *m, size_t ldm, int n, int D) {
    int d = 0;
    for (; d + 8 * VW <= D; d += 8 * VW) {
        vf c0 = v_set1(0.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        const float *r = m + d;
        for (int j = 0; j < n; j++, r += ldm) {
            vf pj = v_bcast(p + j);
            c0 = v_madd(c0, pj, v_load(r)), c1 = v_madd(c1, pj, v_load(r + VW));
            c2 = v_madd(c2, pj, v_load(r + 2 * VW)), c3 = v_madd(c3, pj, v_load(r + 3 * VW));
            c4 = v_madd(c4, pj, v_load(r + 4 * VW)), c5 = v_madd(c5, pj, v_load(r + 5 * VW));
            c6 = v_madd(c6, pj, v_load(r + 6 * VW)), c7 = v_madd(c7, pj, v_load(r + 7 * VW));
        }
        v_store(out + d, c0), v_store(out + d + VW, c1), v_store(out + d + 2 * VW, c2);
        v_store(out + d + 3 * VW, c3), v_store(out + d + 4 * VW, c4), v_store(out + d + 5 * VW, c5);
        v_store(out + d + 6 * VW, c6), v_store(out + d + 7 * VW, c7);
    }
    for (; d + VW <= D; d += VW) {
        vf c = v_set1(0.0f);
        for (int j = 0; j < n; j++) c = v_madd(c, v_bcast(p + j), v_load(m + (size_t)j * ldm + d));
        v_store(out + d, c);
    }
    for (; d < D; d++) {
        float c = 0.0f;
        for (int j = 0; j < n; j++) c += p[j] * m[(size_t)j * ldm + d];
        out[d] = c;
    }
}

static float row_sum(const float *x, int n) {
    int nm = n - n % VW;
    vf acc = v_set1(0.0f);
    for (int i = 0; i < nm; i += VW) acc = v_add(acc, v_load(x + i));
    float s = v_hsum(acc);
    for (int i = nm; i < n; i++) s += x[i];
    return s;
}

/* Two passes as in the reference; the sums are lane partial sums. */
void gb_layernorm(float *out, float *scale, const float *x, const float *w, const float *b,
                  int T, int C, float eps) {
    int Cm = C - C % VW;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * C;
        float *ot = out + (size_t)t * C;
        float mean = row_sum(xt, C) / C;
        vf vm = v_set1(mean), acc = v_set1(0.0f);
        for (int c = 0; c < Cm; c += VW) {
            vf d = v_sub(v_load(xt + c), vm);
            acc = v_madd(acc, d, d);
        }
        float sq = v_hsum(acc);
        for (int c = Cm; c < C; c++) sq += (xt[c] - mean) * (xt[c] - mean);
        float s = sqrtf(sq / C + eps);
        vf vs = v_set1(s);
        int c = 0;
        for (; c < Cm; c += VW) {
            vf d = v_div(v_sub(v_load(xt + c), vm), vs);
            v_store(ot + c, v_madd(v_load(b + c), d, v_load(w + c)));
        }
        for (; c < C; c++) ot[c] = (xt[c] - mean) / s * w[c] + b[c];
        if (scale) scale[t] = s;
    }
}

/* exp by v_exp in the main loop, libm expf in the tail. */
void gb_softmax(float *out, const float *x, int n) {
    int nm = n - n % VW, i;
    float max = -INFINITY;
    if (nm > 0) {
        vf vmax = v_load(x);
        for (i = VW; i < nm; i += VW) vmax = v_max(v_load(x + i), vmax);
        max = v_hmax(vmax);
    }
    for (i = nm; i < n; i++) max = x[i] > max ? x[i] : max;
    if (max == -INFINITY) {
        for (i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    vf vmax = v_set1(max), acc = v_set1(0.0f);
    for (i = 0; i < nm; i += VW) {
        vf e = v_exp(v_sub(v_load(x + i), vmax));
        v_store(out + i, e);
        acc = v_add(acc, e);
    }
    float sum = v_hsum(acc);
    for (i = nm; i < n; i++) {
        out[i] = expf(x[i] - max);
        sum += out[i];
    }
    float inv = 1.0f / sum;
    vf vinv = v_set1(inv);
    for (i = 0; i < nm; i += VW) v_store(out + i, v_mul(v_load(out + i), vinv));
    for (; i < n; i++) out[i] *= inv;
}

/* 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3):
 * the logistic form has no 1 + tanh cancellation for negative x, so it is at
 * least as accurate as the reference's literal tanhf form. */
void gb_gelu(float *out, const float *x, size_t n) {
    size_t nm = n - n % VW, i = 0;
    const vf c = v_set1(-2.0f * 0.7978845608028654f), k3 = v_set1(0.044715f), one = v_set1(1.0f);
    for (; i < nm; i += VW) {
        vf v = v_load(x + i);
        vf u = v_madd(v, v_mul(k3, v), v_mul(v, v));
        v_store(out + i, v_div(v, v_add(one, v_exp(v_mul(c, u)))));
    }
    for (; i < n; i++) {
        float v = x[i];
        out[i] = v / (1.0f + expf(-2.0f * 0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

#else
// ----------------------------------------------------------------------------
// no SIMD for this target: the references are the kernels

void gb_matmul(float *out, const float *x, const float *w, const float *b, int T, int K, int N) {
    gb_matmul_ref(out, x, w, b, T, K, N);
}
void gb_matmul_nt(float *out, const float *x, const float *w, int T, int K, int N) {
    gb_matmul_nt_ref(out, x, w, T, K, N);
}
void gb_matmul_packed(float *out, const float *x, const float *w, const float *b, int T, int K, int N) {
    gb_matmul_packed_ref(out, x, w, b, T, K, N);
}
void gb_pack_inplace(float *w, int K, int N, float *scratch) { gb_pack_inplace_ref(w, K, N, scratch); }
void gb_matmul_nt_packed(float *out, const float *x, const float *w, int T, int K, int N) {
    gb_matmul_nt_packed_ref(out, x, w, T, K, N);
}
void gb_pack_nt_inplace(float *w, int N, int K, float *scratch) { gb_pack_nt_inplace_ref(w, N, K, scratch); }
void gb_layernorm(float *out, float *scale, const float *x, const float *w, const float *b,
                  int T, int C, float eps) {
    gb_layernorm_ref(out, scale, x, w, b, T, C, eps);
}
void gb_softmax(float *out, const float *x, int n) { gb_softmax_ref(out, x, n); }
void gb_gelu(float *out, const float *x, size_t n) { gb_gelu_ref(out, x, n); }
float gb_dot(const float *a, const float *b, int n) { return gb_dot_ref(a, b, n); }
void gb_axpy(float *y, float a, const float *x, int n) { gb_axpy_ref(y, a, x, n); }
void gb_matvec(float *out, const float *m, size_t ldm, const float *x, int n, int D) {
    gb_matvec_ref(out, m, ldm, x, n, D);
}
void gb_vecmat(float *out, const float *p, const float *m, size_t ldm, int n, int D) {
    gb_vecmat_ref(out, p, m, ldm, n, D);
}
#endif
