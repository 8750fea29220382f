/* simd.h — the small SIMD vocabulary the vectorised kernels are written in
 * (ggml's simd-mappings idea, cut down). Internal to core/kernels/.
 *
 * `vf` is one vector of VW floats and v_* are its operations, defined once
 * per instruction set, in one header each:
 *   __wasm_simd128__        simd_wasm.h   VW = 4, no FMA (see shared/KERNELS.md)
 *   __AVX2__ && __FMA__     simd_avx2.h   VW = 8, v_madd is a fused FMA
 *   __SSE2__ (any x86-64)   simd_sse2.h   VW = 4
 *   otherwise               VW undefined: kernels_scalar.c makes every gb_*
 *                           kernel its _ref twin.
 * The kernels (kernels_matmul.c, kernels_matmul_nt.c, kernels_vector.c,
 * kernels_act.c) are each written once over this vocabulary, inside
 * `#ifdef VW`: a vector main loop, then a scalar tail, never reading past the
 * end of an array. Below the per-ISA part: helpers built from it (lane sums,
 * exp). */
#ifndef GB_SIMD_H
#define GB_SIMD_H

#if defined(__wasm_simd128__)
#include "kernels/simd_wasm.h"
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__) && defined(__FMA__)
#include "kernels/simd_avx2.h"
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#include "kernels/simd_sse2.h"
#else
#define GB_ISA "scalar"
#endif

#ifdef VW

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
/* exp(xc) = y * 2^n split in two: n = round(xc log2 e), y = exp(r) for
 * r = xc - n ln2 in [-ln2/2, ln2/2] by the polynomial. The two-pass softmax
 * keeps n apart (kernels_softmax2.c); v_exp multiplies it back in. */
static inline vf v_exp_split(vf xc, vf *n_out) {
    vf n = v_round(v_mul(xc, v_set1(1.44269504088896341f)));
    vf r = v_sub(xc, v_mul(n, v_set1(0.693359375f)));
    r = v_sub(r, v_mul(n, v_set1(-2.12194440e-4f)));
    vf p = v_set1(1.9875691500e-4f);
    p = v_add(v_mul(p, r), v_set1(1.3981999507e-3f));
    p = v_add(v_mul(p, r), v_set1(8.3334519073e-3f));
    p = v_add(v_mul(p, r), v_set1(4.1665795894e-2f));
    p = v_add(v_mul(p, r), v_set1(1.6666665459e-1f));
    p = v_add(v_mul(p, r), v_set1(5.0000001201e-1f));
    *n_out = n;
    return v_add(v_add(v_mul(v_mul(p, r), r), r), v_set1(1.0f));
}

static inline vf v_exp(vf x) {
    const vf lo = v_set1(-87.33654475f);
    vf xc = v_max(v_min(x, v_set1(88.0f)), lo), n;
    vf y = v_exp_split(xc, &n);
    return v_zero_below(v_mul(y, v_pow2i(n)), x, lo);
}
#endif /* VW */
#endif
