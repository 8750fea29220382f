/* simd_avx2.h — the SIMD vocabulary (simd.h) for x86 with AVX2 and FMA:
 * immintrin.h, VW = 8 floats, v_madd a fused multiply-add (one rounding, so
 * the matmuls match the references within float tolerance rather than bit
 * for bit). Included by simd.h only. */
#ifndef GB_SIMD_AVX2_H
#define GB_SIMD_AVX2_H

#include <immintrin.h>

#define GB_ISA "avx2"
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
static inline vf v_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
/* x > 0 ? a : b, lane by lane (NaN in x: b) */
static inline vf v_if_pos(vf x, vf a, vf b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
}

#endif
