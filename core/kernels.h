/* kernels.h — the numeric kernels the forward pass is built from.
 *
 * Each kernel has a scalar reference (`_ref`, kernels_ref.c, always compiled)
 * and a public name that dispatches to the SIMD version for the target:
 * wasm_simd128.h under __wasm_simd128__, SSE/AVX on x86, else the reference.
 * Every kernel handles any dimension (SIMD main loop plus a scalar tail).
 * Accumulation is in float; SIMD paths sum in a different order, so they
 * match the reference within float tolerance, not bit for bit.
 * Argument order follows llm.c: outputs, then inputs, then dimensions.
 */
#ifndef GB_KERNELS_H
#define GB_KERNELS_H

#include <stddef.h>

/* out[T,N] = x[T,K] @ w[K,N] + b[N]; w is in GPT-2's Conv1D layout (row k
 * holds the weights from input k to every output). b may be NULL. */
void gb_matmul(float *out, const float *x, const float *w, const float *b, int T, int K, int N);
void gb_matmul_ref(float *out, const float *x, const float *w, const float *b, int T, int K, int N);

/* A weight matrix w[K,N] (Conv1D layout) packed once, at load, into column
 * panels for gb_matmul_packed: panel p holds columns [p*nr, p*nr + nr) as K
 * rows of nr contiguous floats (data[(p*K + k)*nr + j] = w[k, p*nr + j]),
 * zero past column N. Each step of the kernel's k loop then reads nr
 * consecutive floats, and the whole matrix is one sequential stream. */
typedef struct {
    float *data;  /* gb_packed_floats(K, N) floats */
    int K, N;
    int nr;       /* panel width: gb_pack_nr() of the build that packed it */
} gb_packed;

/* The panel width the SIMD kernels use on this target (2 vectors). */
int gb_pack_nr(void);
/* Floats the packed form of a [K,N] matrix takes (N rounded up to panels). */
size_t gb_packed_floats(int K, int N);
/* Packs w[K,N] into dst (gb_packed_floats(K, N) floats, not overlapping w)
 * and describes it in *p. */
void gb_pack(gb_packed *p, float *dst, const float *w, int K, int N);
/* Panel packing with explicit strides, element (k, n) = src[k*rs + n*cs]:
 * gb_pack is rs = N, cs = 1; cs = K packs a row-major [N,K] as its transpose. */
void gb_pack_panels(float *dst, const float *src, int K, int N, size_t rs, size_t cs, int nr);

/* out[T,N] = x[T,K] @ w + b[N] with w packed (K = w->K, N = w->N); b may be
 * NULL. Same order per output as gb_matmul_ref (bias, then k ascending), so
 * without FMA it matches gb_matmul_ref on the unpacked w bit for bit. */
void gb_matmul_packed(float *out, const float *x, const gb_packed *w, const float *b, int T);
void gb_matmul_packed_ref(float *out, const float *x, const gb_packed *w, const float *b, int T);

/* out[T,N] = x[T,K] @ w[N,K]^T: each output is a dot product with a row of w
 * (the tied LM head, wte [vocab, n_embd]). */
void gb_matmul_nt(float *out, const float *x, const float *w, int T, int K, int N);
void gb_matmul_nt_ref(float *out, const float *x, const float *w, int T, int K, int N);

/* Per row t: scale[t] = sqrt(var(x[t]) + eps) (population variance),
 * out[t] = (x[t] - mean) / scale[t] * w + b. scale may be NULL. */
void gb_layernorm(float *out, float *scale, const float *x, const float *w, const float *b,
                  int T, int C, float eps);
void gb_layernorm_ref(float *out, float *scale, const float *x, const float *w,
                      const float *b, int T, int C, float eps);

/* out[i] = exp(x[i] - max) / sum; out may equal x. Entries equal to -INFINITY
 * give 0. n >= 1. */
void gb_softmax(float *out, const float *x, int n);
void gb_softmax_ref(float *out, const float *x, int n);

/* GPT-2's GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void gb_gelu(float *out, const float *x, size_t n);
void gb_gelu_ref(float *out, const float *x, size_t n);

/* sum_i a[i] b[i] */
float gb_dot(const float *a, const float *b, int n);
float gb_dot_ref(const float *a, const float *b, int n);

/* y[i] += a * x[i] */
void gb_axpy(float *y, float a, const float *x, int n);
void gb_axpy_ref(float *y, float a, const float *x, int n);

/* "wasm-simd128", "sse2", "avx2" or "scalar": the path gb_* dispatch to. */
const char *gb_kernels_isa(void);

#endif
