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
#include <stdint.h>

/* out[T,N] = x[T,K] @ w[K,N] + b[N]; w is in GPT-2's Conv1D layout (row k
 * holds the weights from input k to every output), used in place. b may be
 * NULL. Order per output as gb_matmul_ref (bias, then k ascending), so
 * without FMA the SIMD version matches the reference bit for bit. */
void gb_matmul(float *out, const float *x, const float *w, const float *b, int T, int K, int N);
void gb_matmul_ref(float *out, const float *x, const float *w, const float *b, int T, int K, int N);

/* Block weights packed in place (gb_pack_inplace), for gb_matmul_packed:
 * w[K,N] (Conv1D layout) reordered into N / GB_PACK_NR column panels, panel
 * p holding columns [p*NR, p*NR + NR) as K rows of NR contiguous floats:
 *   element (k, n) at  (n / NR)*K*NR + k*NR + n % NR.
 * Each step of the kernel's k loop then reads NR consecutive floats, and the
 * whole matrix is one sequential stream. The matrix keeps its place and size,
 * so N must be a multiple of GB_PACK_NR (else it stays in Conv1D layout and
 * gb_matmul reads it, copying panels on the fly). */
#define GB_PACK_NR 8
/* Whether a [K,N] matrix can be packed in place. */
int gb_packable(int K, int N);
/* Packs w in place; scratch holds K * N floats (a copy of w is taken). */
void gb_pack_inplace(float *w, int K, int N, float *scratch);
void gb_pack_inplace_ref(float *w, int K, int N, float *scratch);
/* out[T,N] = x[T,K] @ w + b[N], w packed by gb_pack_inplace; b may be NULL.
 * Order per output as gb_matmul_ref (bias, then k ascending), so without
 * FMA it matches gb_matmul_ref on the unpacked w bit for bit. */
void gb_matmul_packed(float *out, const float *x, const float *w, const float *b, int T, int K, int N);
void gb_matmul_packed_ref(float *out, const float *x, const float *w, const float *b, int T, int K, int N);

/* out[T,N] = x[T,K] @ w[N,K]^T: each output is a dot product with a row of w
 * (the tied LM head, wte [vocab, n_embd]). */
void gb_matmul_nt(float *out, const float *x, const float *w, int T, int K, int N);
void gb_matmul_nt_ref(float *out, const float *x, const float *w, int T, int K, int N);

/* An output-major matrix w[N,K] (the LM head: wte [vocab, n_embd]) packed in
 * place (gb_pack_nt_inplace) for gb_matmul_nt_packed: rows [n0, n0 + nn),
 * n0 a multiple of GB_PACK_NR and nn = min(GB_PACK_NR, N - n0), already one
 * contiguous run, are transposed within it into K rows of nn floats:
 *   element (n, k) at  n0*K + k*nn + (n - n0).
 * Any N; scratch holds GB_PACK_NR * K floats. One local pass, no copy of w. */
void gb_pack_nt_inplace(float *w, int N, int K, float *scratch);
void gb_pack_nt_inplace_ref(float *w, int N, int K, float *scratch);
/* Row n of w packed by gb_pack_nt_inplace, into out[K]. */
void gb_packed_nt_row(float *out, const float *w, int N, int K, int n);
/* One panel of nn <= GB_PACK_NR rows of an output-major [.., K] matrix,
 * read from src (the rows as stored: nn * K little-endian floats, any
 * alignment) and written transposed into panel (nn * K floats), as
 * gb_pack_nt_inplace lays it out. */
void gb_pack_nt_from(float *panel, const uint8_t *src, int nn, int K);
void gb_pack_nt_from_ref(float *panel, const uint8_t *src, int nn, int K);
/* out[T,N] = x[T,K] @ w[N,K]^T with w packed by gb_pack_nt_inplace. Order
 * per output as gb_matmul_nt_ref (k ascending from 0): without FMA the SIMD
 * version matches it bit for bit. */
void gb_matmul_nt_packed(float *out, const float *x, const float *w, int T, int K, int N);
void gb_matmul_nt_packed_ref(float *out, const float *x, const float *w, int T, int K, int N);

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
/* GELU, exact erf form (config.json's "gelu"): 0.5 x (1 + erf(x / sqrt 2)). */
void gb_gelu_erf(float *out, const float *x, size_t n);
void gb_gelu_erf_ref(float *out, const float *x, size_t n);

/* sum_i a[i] b[i] */
float gb_dot(const float *a, const float *b, int n);
float gb_dot_ref(const float *a, const float *b, int n);

/* y[i] += a * x[i] */
void gb_axpy(float *y, float a, const float *x, int n);
void gb_axpy_ref(float *y, float a, const float *x, int n);

/* out[j] = sum_d m[j*ldm + d] x[d] for j < n: one query's attention scores
 * against n keys (rows of m, ldm apart). Summed in lanes, as gb_dot: within
 * float tolerance of the reference. */
void gb_matvec(float *out, const float *m, size_t ldm, const float *x, int n, int D);
void gb_matvec_ref(float *out, const float *m, size_t ldm, const float *x, int n, int D);

/* out[d] = sum_j p[j] m[j*ldm + d] for d < D, from 0, j ascending (one
 * query's attention-weighted sum of n value rows): the order of zeroing out
 * then gb_axpy per row, so the SIMD version matches the reference bit for bit. */
void gb_vecmat(float *out, const float *p, const float *m, size_t ldm, int n, int D);
void gb_vecmat_ref(float *out, const float *p, const float *m, size_t ldm, int n, int D);

/* Weights in the kernels' layouts (kernels_layout.c). The loader never
 * computes a panel offset: it asks for a matrix's layout by role, sizes the
 * destination rows * cols floats, and streams the matrix's bytes as stored
 * (row-major little-endian F32) through gb_layout_write. Which kernel reads
 * the result follows from the kind: KN_PANELS gb_matmul_packed, NT_PANELS
 * gb_matmul_nt_packed / gb_packed_nt_row, ROWS the plain kernels. */
typedef enum { GB_LAYOUT_ROWS, GB_LAYOUT_KN_PANELS, GB_LAYOUT_NT_PANELS } gb_layout_kind;
typedef struct {
    gb_layout_kind kind;
    int rows, cols;               /* the matrix as stored */
} gb_layout;
/* A block matrix, [K,N] in Conv1D layout: panels when gb_packable, else rows. */
gb_layout gb_layout_conv1d(int K, int N);
/* An output-major [N,K] matrix (the LM head, wte when tied): panels. */
gb_layout gb_layout_nt(int N, int K);
/* Anything else: as stored. */
gb_layout gb_layout_rows(int rows, int cols);
/* Floats of scratch gb_layout_write needs for l (0: none, scratch may be NULL). */
size_t gb_layout_scratch_floats(const gb_layout *l);
/* Writes bytes [off, off + n) of the stored matrix into dst (rows * cols
 * floats) in layout l. Pieces may be cut anywhere, even inside a float; each
 * byte is written once; pieces of an NT_PANELS matrix come in order (a panel
 * cut between pieces is finished by the piece holding its last byte).
 * Written in full, dst equals the stored matrix packed by gb_pack_inplace
 * (KN) or gb_pack_nt_inplace (NT). */
void gb_layout_write(const gb_layout *l, float *dst, size_t off, const uint8_t *src, size_t n,
                     float *scratch);

/* "wasm-simd128", "sse2", "avx2" or "scalar": the path gb_* dispatch to. */
const char *gb_kernels_isa(void);

#endif
