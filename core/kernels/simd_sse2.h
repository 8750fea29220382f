/* simd_sse2.h — the SIMD vocabulary (simd.h) for baseline x86-64: SSE2,
 * emmintrin.h, VW = 4 floats, no FMA (so the matmuls match the references
 * bit for bit). Included by simd.h only. */
#ifndef GB_SIMD_SSE2_H
#define GB_SIMD_SSE2_H

#include <emmintrin.h>

#define GB_ISA "sse2"
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
static inline vf v_abs(vf a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
/* x > 0 ? a : b, lane by lane (NaN in x: b) */
static inline vf v_if_pos(vf x, vf a, vf b) {
    vf m = _mm_cmpgt_ps(x, _mm_setzero_ps());
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}

#endif
