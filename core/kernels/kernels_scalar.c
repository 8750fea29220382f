/* kernels_scalar.c — which path the gb_* kernels take (gb_kernels_isa), and,
 * on a target simd.h has no vocabulary for, every gb_* kernel as its scalar
 * _ref twin (kernels_ref.c). */
#include "kernels/kernels.h"
#include "kernels/simd.h"

const char *gb_kernels_isa(void) { return GB_ISA; }

#ifndef VW
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
void gb_pack_nt_from(float *panel, const uint8_t *src, int nn, int K) { gb_pack_nt_from_ref(panel, src, nn, K); }
void gb_layernorm(float *out, float *scale, const float *x, const float *w, const float *b,
                  int T, int C, float eps) {
    gb_layernorm_ref(out, scale, x, w, b, T, C, eps);
}
void gb_softmax(float *out, const float *x, int n) { gb_softmax_ref(out, x, n); }
void gb_gelu(float *out, const float *x, size_t n) { gb_gelu_ref(out, x, n); }
void gb_gelu_erf(float *out, const float *x, size_t n) { gb_gelu_erf_ref(out, x, n); }
float gb_dot(const float *a, const float *b, int n) { return gb_dot_ref(a, b, n); }
void gb_axpy(float *y, float a, const float *x, int n) { gb_axpy_ref(y, a, x, n); }
void gb_matvec(float *out, const float *m, size_t ldm, const float *x, int n, int D) {
    gb_matvec_ref(out, m, ldm, x, n, D);
}
void gb_vecmat(float *out, const float *p, const float *m, size_t ldm, int n, int D) {
    gb_vecmat_ref(out, p, m, ldm, n, D);
}
#endif /* !VW */
