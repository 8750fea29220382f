/* kernels_ref.c — scalar reference kernels (the `_ref` twins of kernels.h).
 *
 * Plain C in llm.c's style: no intrinsics, one loop nest per kernel, float
 * accumulation. These define what every kernel computes; the SIMD versions in
 * kernels_*.c are tested against them (tests/native/test_kernels.c), and
 * they are the fallback where no SIMD path exists.
 *
 * Accumulation order is part of the contract and is stated on each kernel.
 * Sums are kept in float on purpose: the SIMD paths sum in float too, so the
 * reference shows the error a float engine really has (the tests also check
 * these against double-precision sums). The file is compiled under ISO C
 * (-std=c11), where gcc does not contract a*b+c into an FMA, so the scalar
 * rounding is the textbook one.
 */
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

// ----------------------------------------------------------------------------
// matmuls

/* out[T,N] = x[T,K] @ w[K,N] + b[N]   (w in Conv1D layout: row k = input k)
 * Order: acc = b[n] (or 0), then acc += x[t,k] * w[k,n] for k = 0, 1, ..., K-1
 * (one multiply, one add, each rounded). */
void gb_matmul_ref(float *out, const float *x, const float *w, const float *b,
                   int T, int K, int N) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * K;
        float *ot = out + (size_t)t * N;
        for (int n = 0; n < N; n++) {
            float acc = b ? b[n] : 0.0f;
            for (int k = 0; k < K; k++) acc += xt[k] * w[(size_t)k * N + n];
            ot[n] = acc;
        }
    }
}

/* out[T,N] = x[T,K] @ w[N,K]^T   (w row n is output n's weights, e.g. wte)
 * Order: acc = 0, then acc += x[t,k] * w[n,k] for k = 0, 1, ..., K-1. */
void gb_matmul_nt_ref(float *out, const float *x, const float *w, int T, int K, int N) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * K;
        for (int n = 0; n < N; n++) {
            const float *wn = w + (size_t)n * K;
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc += xt[k] * wn[k];
            out[(size_t)t * N + n] = acc;
        }
    }
}

// ----------------------------------------------------------------------------
// block weights packed in place (layout in kernels.h)

int gb_packable(int K, int N) { return K > 0 && N > 0 && N % GB_PACK_NR == 0; }

/* Eight rows of w at a time: eight sequential source streams, and each
 * panel's eight rows are 256 contiguous bytes of the destination. */
void gb_pack_inplace_ref(float *w, int K, int N, float *scratch) {
    const int NR = GB_PACK_NR;
    memcpy(scratch, w, sizeof(float) * (size_t)K * N);
    for (int k0 = 0; k0 < K; k0 += 8) {
        int kn = K - k0 < 8 ? K - k0 : 8;
        for (int n0 = 0; n0 < N; n0 += NR)
            for (int k = k0; k < k0 + kn; k++)
                memcpy(w + (size_t)n0 * K + (size_t)k * NR, scratch + (size_t)k * N + n0, sizeof(float) * NR);
    }
}

/* gb_matmul_ref over the packed layout: same order (bias, then k ascending). */
void gb_matmul_packed_ref(float *out, const float *x, const float *w, const float *b, int T, int K,
                          int N) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * K;
        for (int n = 0; n < N; n++) {
            const float *col = w + (size_t)(n - n % GB_PACK_NR) * K + n % GB_PACK_NR;
            float acc = b ? b[n] : 0.0f;
            for (int k = 0; k < K; k++) acc += xt[k] * col[(size_t)k * GB_PACK_NR];
            out[(size_t)t * N + n] = acc;
        }
    }
}

/* One panel of rows at a time: copy it out, write it back transposed. */
void gb_pack_nt_inplace_ref(float *w, int N, int K, float *scratch) {
    for (int n0 = 0; n0 < N; n0 += GB_PACK_NR) {
        int nn = N - n0 < GB_PACK_NR ? N - n0 : GB_PACK_NR;
        float *p = w + (size_t)n0 * K;
        memcpy(scratch, p, sizeof(float) * (size_t)nn * K);
        for (int k = 0; k < K; k++)
            for (int j = 0; j < nn; j++) p[(size_t)k * nn + j] = scratch[(size_t)j * K + k];
    }
}

/* Element by element, each float read with memcpy (src may be unaligned). */
void gb_pack_nt_from_ref(float *panel, const uint8_t *src, int nn, int K) {
    for (int j = 0; j < nn; j++)
        for (int k = 0; k < K; k++)
            memcpy(panel + (size_t)k * nn + j, src + ((size_t)j * K + k) * sizeof(float), sizeof(float));
}

void gb_packed_nt_row(float *out, const float *w, int N, int K, int n) {
    int n0 = n - n % GB_PACK_NR, nn = N - n0 < GB_PACK_NR ? N - n0 : GB_PACK_NR;
    const float *p = w + (size_t)n0 * K + (n - n0);
    for (int k = 0; k < K; k++) out[k] = p[(size_t)k * nn];
}

/* gb_matmul_nt_ref over the packed layout: same order (k ascending from 0). */
void gb_matmul_nt_packed_ref(float *out, const float *x, const float *w, int T, int K, int N) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * K;
        for (int n = 0; n < N; n++) {
            int n0 = n - n % GB_PACK_NR, nn = N - n0 < GB_PACK_NR ? N - n0 : GB_PACK_NR;
            const float *col = w + (size_t)n0 * K + (n - n0);
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc += xt[k] * col[(size_t)k * nn];
            out[(size_t)t * N + n] = acc;
        }
    }
}

// ----------------------------------------------------------------------------
// normalisation and activations

/* Per row t of x[T,C]: mean, then population variance in a second pass over
 * (x - mean)^2 (two passes avoid the cancellation of E[x^2] - mean^2).
 * scale[t] = sqrt(var + eps); out = (x - mean) / scale * w + b.
 * Order: both sums run c = 0..C-1 from 0 in float, then divide by C. */
void gb_layernorm_ref(float *out, float *scale, const float *x, const float *w,
                      const float *b, int T, int C, float eps) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * C;
        float *ot = out + (size_t)t * C;
        float sum = 0.0f;
        for (int c = 0; c < C; c++) sum += xt[c];
        float mean = sum / C;
        float sq = 0.0f;
        for (int c = 0; c < C; c++) {
            float d = xt[c] - mean;
            sq += d * d;
        }
        float s = sqrtf(sq / C + eps);
        for (int c = 0; c < C; c++) ot[c] = (xt[c] - mean) / s * w[c] + b[c];
        if (scale) scale[t] = s;
    }
}

/* out[i] = exp(x[i] - max) / sum, computed as exp(...) * (1 / sum).
 * Order: sum of the exps for i = 0..n-1 from 0 in float. Entries equal to
 * -INFINITY give exp(-inf) = 0. A row that is entirely -INFINITY (nothing to
 * attend to) gives all zeros rather than NaN. */
void gb_softmax_ref(float *out, const float *x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > max) max = x[i];
    if (max == -INFINITY) {
        for (int i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        out[i] = expf(x[i] - max);
        sum += out[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) out[i] *= inv;
}

/* GPT-2's GELU (HF "gelu_new"), literally in its tanh form, in float:
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void gb_gelu_ref(float *out, const float *x, size_t n) {
    const float s = 0.7978845608028654f; /* sqrt(2/pi) */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float u = s * (v + 0.044715f * v * v * v);
        out[i] = 0.5f * v * (1.0f + tanhf(u));
    }
}

/* GELU in its exact erf form (HF "gelu"), literally, in float:
 * 0.5 x (1 + erf(x / sqrt 2)). */
void gb_gelu_erf_ref(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

// ----------------------------------------------------------------------------
// vector helpers

/* sum_i a[i] b[i]; order: i = 0..n-1 from 0 in float. */
float gb_dot_ref(const float *a, const float *b, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

/* y[i] += a * x[i]; each element is one multiply and one add. */
void gb_axpy_ref(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void gb_matvec_ref(float *out, const float *m, size_t ldm, const float *x, int n, int D) {
    for (int j = 0; j < n; j++) out[j] = gb_dot_ref(m + (size_t)j * ldm, x, D);
}

void gb_vecmat_ref(float *out, const float *p, const float *m, size_t ldm, int n, int D) {
    for (int d = 0; d < D; d++) out[d] = 0.0f;
    for (int j = 0; j < n; j++) gb_axpy_ref(out, p[j], m + (size_t)j * ldm, D);
}
