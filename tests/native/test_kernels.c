/* test_kernels.c — every SIMD kernel against its _ref twin, and every _ref
 * kernel against a double-precision computation, so neither can be wrong
 * silently.
 *
 * Inputs come from a fixed-seed xorshift RNG; buffers are malloc'd at their
 * exact size so ASan catches any read or write past the end (the SIMD tails).
 * Error metric (check.h's max_rel_err): |got - want| / max(|want|, floor),
 * where the floor is the output's natural scale, so near-zero outputs are
 * judged by absolute error. The worst error of each family is printed.
 *
 * Also runs as WASM in Node (checks the wasm-simd128 path):
 *   emcc -O3 -msimd128 -std=c11 -D_POSIX_C_SOURCE=200809L -Icore -Itests/native \
 *     -s STANDALONE_WASM=1 -s INITIAL_MEMORY=64MB -s ALLOW_MEMORY_GROWTH=1 \
 *     tests/native/test_kernels.c core/kernels/kernels_*.c -o build/test_kernels.wasm
 *   node bench/kernels_bench.mjs build/test_kernels.wasm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"

// ----------------------------------------------------------------------------
// tolerances (relative error, and the floor under |want|)

#define TOL_MATMUL_REL    1e-5 /* sums of K products of values in [-1, 1) */
#define MATMUL_FLOOR      (1.0 / 3) /* times sqrt(K): the outputs' standard deviation */
#define TOL_NORM_REL      1e-5 /* layernorm out and scale */
#define NORM_FLOOR        1.0  /* the outputs' standard deviation */
#define TOL_SOFTMAX_REL   1e-5 /* every probability, however small */
#define SOFTMAX_FLOOR     1e-30
#define TOL_GELU_REL      1e-5
#define GELU_FLOOR        0.02 /* the reference's literal 1 + tanhf(u) cancels
                                  for x < -3 (and 1 + erff in the erf form):
                                  absolute error up to ~1e-7 there */
#define GELU_SIMD_FLOOR   1e-3 /* the SIMD forms (logistic; erfc of |x|) do not cancel */
#define TOL_VEC_REL       1e-5 /* dot, axpy */
#define VEC_FLOOR         1.0

static const int SIZES[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 37, 64, 769};
#define NSIZES ((int)(sizeof SIZES / sizeof SIZES[0]))

// ----------------------------------------------------------------------------
// helpers

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* uniform in [lo, hi), xorshift64* */
static float frand(float lo, float hi) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545F4914F6CDD1Dull;
    return lo + (hi - lo) * (float)((r >> 40) * (1.0 / 16777216.0));
}

static float *rand_buf(size_t n, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "test_kernels: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) p[i] = frand(lo, hi);
    return p;
}

/* like max_rel_err, against a double-precision answer */
static double max_rel_err_d(const float *a, const double *b, size_t n, double floor_) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double m = fabs(b[i]);
        double r = fabs((double)a[i] - b[i]) / (m > floor_ ? m : floor_);
        if (r > worst || r != r) worst = r;
    }
    return worst;
}

static double *dbuf(size_t n) {
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) exit(2);
    return p;
}

/* worst error seen per family, printed at the end */
enum { W_MM, W_MM_REF, W_NT, W_NT_REF, W_LN, W_LN_REF, W_SM, W_SM_REF,
       W_GELU, W_GELU_REF, W_GELU_SIMD_D, W_GELU_ERF, W_GELU_ERF_REF, W_GELU_ERF_SIMD_D,
       W_VEC, W_VEC_REF, W_COUNT };
static const char *WORST_NAME[W_COUNT] = {
    "matmul simd/ref", "matmul ref/double", "matmul_nt simd/ref", "matmul_nt ref/double",
    "layernorm simd/ref", "layernorm ref/double", "softmax simd/ref", "softmax ref/double",
    "gelu simd/ref", "gelu ref/double", "gelu simd/double", "gelu_erf simd/ref",
    "gelu_erf ref/double", "gelu_erf simd/double", "dot+axpy simd/ref",
    "dot+axpy ref/double"};
static double worst[W_COUNT];
static void note(int which, double e) {
    if (e > worst[which] || e != e) worst[which] = e;
}

// ----------------------------------------------------------------------------
// matmuls

static void check_matmul(int T, int K, int N, int with_bias) {
    float *x = rand_buf((size_t)T * K, -1, 1), *w = rand_buf((size_t)K * N, -1, 1);
    float *b = with_bias ? rand_buf((size_t)N, -1, 1) : NULL;
    float *got = rand_buf((size_t)T * N, 0, 1), *ref = rand_buf((size_t)T * N, 0, 1);
    double *exact = dbuf((size_t)T * N);
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            double acc = b ? b[n] : 0.0;
            for (int k = 0; k < K; k++) acc += (double)x[t * K + k] * w[(size_t)k * N + n];
            exact[(size_t)t * N + n] = acc;
        }
    gb_matmul(got, x, w, b, T, K, N);
    gb_matmul_ref(ref, x, w, b, T, K, N);
    double e = max_rel_err(got, ref, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    double er = max_rel_err_d(ref, exact, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    note(W_MM, e), note(W_MM_REF, er);
    CHECK(e <= TOL_MATMUL_REL, "gb_matmul T=%d K=%d N=%d bias=%d: rel err %.3g", T, K, N, with_bias, e);
    CHECK(er <= TOL_MATMUL_REL, "gb_matmul_ref T=%d K=%d N=%d: rel err vs double %.3g", T, K, N, er);
    free(x), free(w), free(b), free(got), free(ref), free(exact);
}

/* gb_matmul against gb_matmul_ref, both paths (panels at T >= 4, streamed
 * rows below), ragged edges included. Without FMA the order per output is
 * the same, so the results must be bit-identical; with FMA (avx2) within
 * tolerance. The output buffer starts as garbage, so a skipped element shows. */
static void check_matmul_exact(int T, int K, int N, int with_bias) {
    float *x = rand_buf((size_t)T * K, -1, 1), *w = rand_buf((size_t)K * N, -1, 1);
    float *b = with_bias ? rand_buf((size_t)N, -1, 1) : NULL;
    float *got = rand_buf((size_t)T * N, 0, 1), *ref = rand_buf((size_t)T * N, 0, 1);
    gb_matmul(got, x, w, b, T, K, N);
    gb_matmul_ref(ref, x, w, b, T, K, N);
    double e = max_rel_err(got, ref, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    note(W_MM, e);
    CHECK(e <= TOL_MATMUL_REL, "gb_matmul T=%d K=%d N=%d bias=%d: rel err %.3g", T, K, N, with_bias, e);
    if (strcmp(gb_kernels_isa(), "avx2") != 0)
        CHECK(memcmp(got, ref, sizeof(float) * (size_t)T * N) == 0,
              "gb_matmul T=%d K=%d N=%d: not bit-identical to gb_matmul_ref without FMA", T, K, N);
    free(x), free(w), free(b), free(got), free(ref);
}

static void check_matmul_nt(int T, int K, int N) {
    float *x = rand_buf((size_t)T * K, -1, 1), *w = rand_buf((size_t)N * K, -1, 1);
    float *got = rand_buf((size_t)T * N, 0, 1), *ref = rand_buf((size_t)T * N, 0, 1);
    double *exact = dbuf((size_t)T * N);
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            double acc = 0;
            for (int k = 0; k < K; k++) acc += (double)x[t * K + k] * w[(size_t)n * K + k];
            exact[(size_t)t * N + n] = acc;
        }
    gb_matmul_nt(got, x, w, T, K, N);
    gb_matmul_nt_ref(ref, x, w, T, K, N);
    double e = max_rel_err(got, ref, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    double er = max_rel_err_d(ref, exact, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    note(W_NT, e), note(W_NT_REF, er);
    CHECK(e <= TOL_MATMUL_REL, "gb_matmul_nt T=%d K=%d N=%d: rel err %.3g", T, K, N, e);
    CHECK(er <= TOL_MATMUL_REL, "gb_matmul_nt_ref T=%d K=%d N=%d: rel err vs double %.3g", T, K, N, er);
    free(x), free(w), free(got), free(ref), free(exact);
}

/* gb_matmul_packed on w packed in place (gb_pack_inplace, SIMD and _ref must
 * pack identically) against gb_matmul_ref on the Conv1D w: bit-identical
 * without FMA (the order per output is the same), within tolerance with it;
 * gb_matmul_packed_ref always bit-identical. Both paths: register tiles at
 * T >= 4 (ragged last row block included), streamed panels below. */
static void check_matmul_packed(int T, int K, int N, int with_bias) {
    float *x = rand_buf((size_t)T * K, -1, 1), *w = rand_buf((size_t)K * N, -1, 1);
    float *b = with_bias ? rand_buf((size_t)N, -1, 1) : NULL;
    float *wp = malloc(sizeof(float) * (size_t)K * N), *wq = malloc(sizeof(float) * (size_t)K * N);
    float *scratch = malloc(sizeof(float) * (size_t)K * N);
    float *got = rand_buf((size_t)T * N, 0, 1), *ref = rand_buf((size_t)T * N, 0, 1);
    float *gref = rand_buf((size_t)T * N, 0, 1);
    memcpy(wp, w, sizeof(float) * (size_t)K * N);
    memcpy(wq, w, sizeof(float) * (size_t)K * N);
    CHECK(gb_packable(K, N), "gb_packable(%d, %d)", K, N);
    gb_pack_inplace(wp, K, N, scratch);
    gb_pack_inplace_ref(wq, K, N, scratch);
    CHECK(memcmp(wp, wq, sizeof(float) * (size_t)K * N) == 0, "gb_pack_inplace K=%d N=%d differs from _ref", K, N);
    CHECK(wp[(size_t)(N - 1) / GB_PACK_NR * GB_PACK_NR * K + (size_t)(K - 1) * GB_PACK_NR + (N - 1) % GB_PACK_NR] ==
              w[(size_t)(K - 1) * N + N - 1],
          "gb_pack_inplace K=%d N=%d: last element misplaced", K, N);
    gb_matmul_packed(got, x, wp, b, T, K, N);
    gb_matmul_packed_ref(gref, x, wp, b, T, K, N);
    gb_matmul_ref(ref, x, w, b, T, K, N);
    double e = max_rel_err(got, ref, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    note(W_MM, e);
    CHECK(e <= TOL_MATMUL_REL, "gb_matmul_packed T=%d K=%d N=%d bias=%d: rel err %.3g", T, K, N, with_bias, e);
    CHECK(memcmp(gref, ref, sizeof(float) * (size_t)T * N) == 0,
          "gb_matmul_packed_ref T=%d K=%d N=%d: not bit-identical to gb_matmul_ref", T, K, N);
    if (strcmp(gb_kernels_isa(), "avx2") != 0)
        CHECK(memcmp(got, ref, sizeof(float) * (size_t)T * N) == 0,
              "gb_matmul_packed T=%d K=%d N=%d: not bit-identical to gb_matmul_ref without FMA", T, K, N);
    free(x), free(w), free(b), free(wp), free(wq), free(scratch), free(got), free(ref), free(gref);
}

/* gb_matmul_nt_packed on w packed by gb_pack_nt_inplace against
 * gb_matmul_nt_ref on the row-major w: the order per output is the same, so
 * bit-identical without FMA (both paths: tiles at T >= 4, rows below; the
 * last, narrower panel included); every row read back by gb_packed_nt_row. */
static void check_matmul_nt_packed(int T, int K, int N) {
    float *x = rand_buf((size_t)T * K, -1, 1), *w = rand_buf((size_t)N * K, -1, 1);
    float *wp = malloc(sizeof(float) * (size_t)N * K), *scratch = malloc(sizeof(float) * GB_PACK_NR * (size_t)K);
    float *row = malloc(sizeof(float) * (size_t)K);
    float *got = rand_buf((size_t)T * N, 0, 1), *ref = rand_buf((size_t)T * N, 0, 1);
    float *gref = rand_buf((size_t)T * N, 0, 1);
    float *wq = malloc(sizeof(float) * (size_t)N * K);
    memcpy(wp, w, sizeof(float) * (size_t)N * K);
    memcpy(wq, w, sizeof(float) * (size_t)N * K);
    gb_pack_nt_inplace(wp, N, K, scratch);
    gb_pack_nt_inplace_ref(wq, N, K, scratch);
    CHECK(memcmp(wp, wq, sizeof(float) * (size_t)N * K) == 0, "gb_pack_nt_inplace N=%d K=%d differs from _ref", N, K);
    free(wq);
    int rows_ok = 1;
    for (int n = 0; n < N; n++) {
        gb_packed_nt_row(row, wp, N, K, n);
        rows_ok &= memcmp(row, w + (size_t)n * K, sizeof(float) * (size_t)K) == 0;
    }
    CHECK(rows_ok, "gb_packed_nt_row N=%d K=%d: rows differ from the unpacked matrix", N, K);
    gb_matmul_nt_packed(got, x, wp, T, K, N);
    gb_matmul_nt_packed_ref(gref, x, wp, T, K, N);
    gb_matmul_nt_ref(ref, x, w, T, K, N);
    double e = max_rel_err(got, ref, (size_t)T * N, MATMUL_FLOOR * sqrt(K));
    note(W_NT, e);
    CHECK(e <= TOL_MATMUL_REL, "gb_matmul_nt_packed T=%d K=%d N=%d: rel err %.3g", T, K, N, e);
    CHECK(memcmp(gref, ref, sizeof(float) * (size_t)T * N) == 0,
          "gb_matmul_nt_packed_ref T=%d K=%d N=%d: not bit-identical to gb_matmul_nt_ref", T, K, N);
    if (strcmp(gb_kernels_isa(), "avx2") != 0)
        CHECK(memcmp(got, ref, sizeof(float) * (size_t)T * N) == 0,
              "gb_matmul_nt_packed T=%d K=%d N=%d: not bit-identical to gb_matmul_nt_ref without FMA", T, K, N);
    free(x), free(w), free(wp), free(scratch), free(row), free(got), free(ref), free(gref);
}

static void test_matmuls(void) {
    static const int Ts[] = {1, 3, 4, 7, 8, 64};
    static const int Ks[] = {1, 5, 36, 64, 300, 768};
    static const int Ns[] = {1, 3, 4, 8, 9, 16, 36, 108, 769};
    int i = 0;
    for (size_t a = 0; a < sizeof Ts / sizeof *Ts; a++)
        for (size_t c = 0; c < sizeof Ks / sizeof *Ks; c++)
            for (size_t d = 0; d < sizeof Ns / sizeof *Ns; d++) check_matmul(Ts[a], Ks[c], Ns[d], i++ % 3 != 0);
    check_matmul(5, 3072, 20, 1); /* many K blocks */

    /* These draw from their own RNG stream, so the inputs of every
     * other test stay what they were before these were added. */
    uint64_t saved = rng_state;
    rng_state = 0xD1B54A32D192ED03ull;
    static const int Tp[] = {1, 2, 4, 5, 6, 11, 64};
    static const int Kp[] = {1, 3, 8, 37, 768};
    static const int Np[] = {1, 5, 8, 9, 16, 17, 23, 36, 770};
    for (size_t a = 0; a < sizeof Tp / sizeof *Tp; a++)
        for (size_t c = 0; c < sizeof Kp / sizeof *Kp; c++)
            for (size_t d = 0; d < sizeof Np / sizeof *Np; d++) check_matmul_exact(Tp[a], Kp[c], Np[d], i++ % 3 != 0);
    check_matmul_exact(3, 3072, 21, 1);
    check_matmul_exact(7, 3072, 21, 0);
    static const int Tk[] = {1, 2, 3, 4, 5, 6, 11, 64};
    static const int Kk[] = {1, 3, 8, 9, 37, 768};
    static const int Nk[] = {8, 16, 24, 72};
    for (size_t a = 0; a < sizeof Tk / sizeof *Tk; a++)
        for (size_t c = 0; c < sizeof Kk / sizeof *Kk; c++)
            for (size_t d = 0; d < sizeof Nk / sizeof *Nk; d++) check_matmul_packed(Tk[a], Kk[c], Nk[d], i++ % 3 != 0);
    check_matmul_packed(64, 768, 2304, 1); /* GPT-2's c_attn */
    check_matmul_packed(7, 3072, 24, 0);
    CHECK(!gb_packable(8, 12) && !gb_packable(0, 8) && gb_packable(1, 8), "gb_packable");
    static const int Tn2[] = {1, 2, 3, 4, 5, 11, 64};
    static const int Kn2[] = {1, 3, 8, 37, 768};
    static const int Nn2[] = {1, 5, 8, 9, 16, 23, 77};
    for (size_t a = 0; a < sizeof Tn2 / sizeof *Tn2; a++)
        for (size_t c = 0; c < sizeof Kn2 / sizeof *Kn2; c++)
            for (size_t d = 0; d < sizeof Nn2 / sizeof *Nn2; d++) check_matmul_nt_packed(Tn2[a], Kn2[c], Nn2[d]);
    check_matmul_nt_packed(64, 768, 50257 / 8 + 1); /* a GPT-2-like ragged last panel */
    static const int Tq[] = {4, 5, 9, 17}; /* gb_matmul_nt at T >= 4: packed x^T, wte rows broadcast */
    static const int Kq[] = {1, 3, 36, 769};
    static const int Nq[] = {1, 4, 5, 6, 11, 108};
    for (size_t a = 0; a < sizeof Tq / sizeof *Tq; a++)
        for (size_t c = 0; c < sizeof Kq / sizeof *Kq; c++)
            for (size_t d = 0; d < sizeof Nq / sizeof *Nq; d++) check_matmul_nt(Tq[a], Kq[c], Nq[d]);
    rng_state = saved;

    static const int Tn[] = {1, 2, 3, 64};
    static const int Kn[] = {1, 3, 4, 5, 36, 64, 769};
    static const int Nn[] = {1, 3, 4, 5, 36, 108, 769};
    for (size_t a = 0; a < sizeof Tn / sizeof *Tn; a++)
        for (size_t c = 0; c < sizeof Kn / sizeof *Kn; c++)
            for (size_t d = 0; d < sizeof Nn / sizeof *Nn; d++) check_matmul_nt(Tn[a], Kn[c], Nn[d]);
    check_matmul_nt(1, 768, 50257); /* the tied LM head at decode */
}

// ----------------------------------------------------------------------------
// layernorm

static void check_layernorm(int T, int C) {
    const float eps = 1e-5f;
    float *x = rand_buf((size_t)T * C, -2, 4); /* mean near 1: the mean matters */
    float *w = rand_buf((size_t)C, 0.5f, 1.5f), *b = rand_buf((size_t)C, -0.5f, 0.5f);
    float *got = rand_buf((size_t)T * C, 0, 1), *ref = rand_buf((size_t)T * C, 0, 1);
    float *sg = rand_buf((size_t)T, 0, 1), *sr = rand_buf((size_t)T, 0, 1);
    double *exact = dbuf((size_t)T * C), *sexact = dbuf((size_t)T);
    for (int t = 0; t < T; t++) {
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += x[t * C + c];
        m /= C;
        for (int c = 0; c < C; c++) v += (x[t * C + c] - m) * (x[t * C + c] - m);
        sexact[t] = sqrt(v / C + eps);
        for (int c = 0; c < C; c++) exact[t * C + c] = (x[t * C + c] - m) / sexact[t] * w[c] + b[c];
    }
    gb_layernorm(got, sg, x, w, b, T, C, eps);
    gb_layernorm_ref(ref, sr, x, w, b, T, C, eps);
    double e = max_rel_err(got, ref, (size_t)T * C, NORM_FLOOR);
    double es = max_rel_err(sg, sr, (size_t)T, NORM_FLOOR);
    double er = max_rel_err_d(ref, exact, (size_t)T * C, NORM_FLOOR);
    double esr = max_rel_err_d(sr, sexact, (size_t)T, NORM_FLOOR);
    note(W_LN, e), note(W_LN, es), note(W_LN_REF, er), note(W_LN_REF, esr);
    CHECK(e <= TOL_NORM_REL, "gb_layernorm T=%d C=%d: out rel err %.3g", T, C, e);
    CHECK(es <= TOL_NORM_REL, "gb_layernorm T=%d C=%d: scale rel err %.3g", T, C, es);
    CHECK(er <= TOL_NORM_REL, "gb_layernorm_ref T=%d C=%d: out rel err vs double %.3g", T, C, er);
    CHECK(esr <= TOL_NORM_REL, "gb_layernorm_ref T=%d C=%d: scale rel err vs double %.3g", T, C, esr);
    /* scale may be NULL; out must not change */
    gb_layernorm(ref, NULL, x, w, b, T, C, eps);
    CHECK(memcmp(got, ref, (size_t)T * C * sizeof *got) == 0, "gb_layernorm C=%d: scale=NULL changed out", C);
    free(x), free(w), free(b), free(got), free(ref), free(sg), free(sr), free(exact), free(sexact);
}

// ----------------------------------------------------------------------------
// softmax

static void softmax_double(double *out, const float *x, int n) {
    double max = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    for (int i = 0; i < n; i++) sum += out[i] = exp((double)x[i] - max);
    for (int i = 0; i < n; i++) out[i] /= sum;
}

/* mask: 0 none, 1 every third entry -inf (never all), 2 all but one -inf */
static void check_softmax(int n, float spread, int mask) {
    float *x = rand_buf((size_t)n, -spread, spread);
    if (mask == 1)
        for (int i = 1; i < n; i += 3) x[i] = -INFINITY;
    int keep = n / 2;
    if (mask == 2)
        for (int i = 0; i < n; i++)
            if (i != keep) x[i] = -INFINITY;
    float *got = rand_buf((size_t)n, 0, 1), *ref = rand_buf((size_t)n, 0, 1);
    double *exact = dbuf((size_t)n);
    softmax_double(exact, x, n);
    gb_softmax(got, x, n);
    gb_softmax_ref(ref, x, n);
    double e = max_rel_err(got, ref, (size_t)n, SOFTMAX_FLOOR);
    double er = max_rel_err_d(ref, exact, (size_t)n, SOFTMAX_FLOOR);
    note(W_SM, e), note(W_SM_REF, er);
    CHECK(e <= TOL_SOFTMAX_REL, "gb_softmax n=%d spread=%g mask=%d: rel err %.3g", n, spread, mask, e);
    CHECK(er <= TOL_SOFTMAX_REL, "gb_softmax_ref n=%d spread=%g mask=%d: rel err vs double %.3g", n, spread, mask, er);
    int masked_ok = 1;
    for (int i = 0; i < n; i++)
        if (x[i] == -INFINITY && (got[i] != 0.0f || ref[i] != 0.0f)) masked_ok = 0;
    CHECK(masked_ok, "softmax n=%d: a -INFINITY entry did not give exactly 0", n);
    if (mask == 2) CHECK(got[keep] == 1.0f && ref[keep] == 1.0f, "softmax n=%d: lone entry gave %g / %g", n, got[keep], ref[keep]);
    /* in place: out == x */
    memcpy(ref, x, (size_t)n * sizeof *x);
    gb_softmax(ref, ref, n);
    CHECK(memcmp(got, ref, (size_t)n * sizeof *got) == 0, "gb_softmax n=%d: in-place result differs", n);
    free(x), free(got), free(ref), free(exact);
}

static void check_softmax_all_masked(int n) {
    float *x = rand_buf((size_t)n, 0, 1), *got = rand_buf((size_t)n, 0, 1), *ref = rand_buf((size_t)n, 0, 1);
    for (int i = 0; i < n; i++) x[i] = -INFINITY;
    gb_softmax(got, x, n);
    gb_softmax_ref(ref, x, n);
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= got[i] == 0.0f && ref[i] == 0.0f;
    CHECK(ok, "softmax n=%d all -INFINITY: expected all zeros", n);
    free(x), free(got), free(ref);
}

// ----------------------------------------------------------------------------
// the layout writer: a stored matrix streamed in pieces lands where the
// packers (their _ref twins) put it

/* Element (r, c) of a stored [rows, cols] matrix, where layout l puts it:
 * the formulas of kernels.h, written out independently of the packers. */
static size_t layout_index(const gb_layout *l, size_t r, size_t c) {
    size_t R = (size_t)l->rows, C = (size_t)l->cols, NR = GB_PACK_NR;
    if (l->kind == GB_LAYOUT_KN_PANELS) return (c / NR) * R * NR + r * NR + c % NR;
    if (l->kind == GB_LAYOUT_NT_PANELS) {
        size_t r0 = r - r % NR, nn = R - r0 < NR ? R - r0 : NR;
        return r0 * C + c * nn + (r - r0);
    }
    return r * C + c;
}

/* Writes the matrix from a source at byte offset `mis` (so floats may be
 * unaligned) in pieces of random length (1 byte up to `max_piece`), in
 * order, or (KN and ROWS only) last piece first; compares with the packer. */
static void check_layout(gb_layout l, size_t max_piece, int mis, int reverse) {
    size_t R = (size_t)l.rows, C = (size_t)l.cols, bytes = R * C * sizeof(float);
    float *w = rand_buf(R * C, -1, 1), *want = malloc(bytes ? bytes : 1), *got = malloc(bytes ? bytes : 1);
    float *scratch = malloc((gb_layout_scratch_floats(&l) + 1) * sizeof(float));
    uint8_t *src = malloc(bytes + 4);
    memcpy(src + mis, w, bytes);
    memcpy(want, w, bytes);
    float *pack_scratch = malloc(bytes ? bytes : 1);
    if (l.kind == GB_LAYOUT_KN_PANELS) gb_pack_inplace_ref(want, l.rows, l.cols, pack_scratch);
    if (l.kind == GB_LAYOUT_NT_PANELS) gb_pack_nt_inplace_ref(want, l.rows, l.cols, pack_scratch);
    /* the cut points, then the pieces between them */
    size_t cuts[64], nc = 0, at = 0;
    while (at < bytes && nc < 63) {
        size_t step = 1 + (size_t)(frand(0, 1) * (float)max_piece);
        at = at + step < bytes ? at + step : bytes;
        cuts[nc++] = at;
    }
    if (at < bytes) cuts[nc++] = bytes;
    for (size_t i = 0; i < nc; i++) {
        size_t j = reverse ? nc - 1 - i : i, b = j ? cuts[j - 1] : 0;
        gb_layout_write(&l, got, b, src + mis + b, cuts[j] - b, scratch);
    }
    CHECK(memcmp(got, want, bytes) == 0, "gb_layout_write kind %d [%zu,%zu] pieces<=%zu mis %d rev %d: differs from the packer",
          (int)l.kind, R, C, max_piece, mis, reverse);
    int placed = 1;
    for (size_t r = 0; r < R && placed; r++)
        for (size_t c = 0; c < C; c++) placed &= got[layout_index(&l, r, c)] == w[r * C + c];
    CHECK(placed, "gb_layout_write kind %d [%zu,%zu]: an element is not where kernels.h says", (int)l.kind, R, C);
    free(w), free(want), free(got), free(scratch), free(src), free(pack_scratch);
}

static void test_layout(void) {
    CHECK(gb_layout_conv1d(16, 24).kind == GB_LAYOUT_KN_PANELS && gb_layout_conv1d(16, 12).kind == GB_LAYOUT_ROWS &&
          gb_layout_nt(13, 5).kind == GB_LAYOUT_NT_PANELS && gb_layout_rows(3, 4).kind == GB_LAYOUT_ROWS,
          "layout kinds");
    static const int KN[][2] = {{1, 8}, {3, 16}, {16, 24}, {37, 64}, {64, 96}};
    static const int NTs[][2] = {{1, 1}, {7, 3}, {8, 5}, {9, 16}, {33, 31}, {64, 64}, {103, 24}};
    static const size_t pieces[] = {1, 5, 33, 257, 4096, 1 << 20};
    for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++)
        for (int mis = 0; mis < 4; mis += 1 + (p % 2)) {
            for (size_t i = 0; i < sizeof KN / sizeof *KN; i++) {
                check_layout(gb_layout_conv1d(KN[i][0], KN[i][1]), pieces[p], mis, 0);
                check_layout(gb_layout_conv1d(KN[i][0], KN[i][1]), pieces[p], mis, 1);
            }
            for (size_t i = 0; i < sizeof NTs / sizeof *NTs; i++)
                check_layout(gb_layout_nt(NTs[i][0], NTs[i][1]), pieces[p], mis, 0);
            check_layout(gb_layout_rows(5, 7), pieces[p], mis, 1);
        }
    check_layout(gb_layout_nt(50257 / 8 * 3 + 5, 768), 256 << 10, 0, 0); /* LM-head-like, ragged panel */
    check_layout(gb_layout_conv1d(768, 2304), 256 << 10, 0, 0);           /* c_attn-like */
}

// ----------------------------------------------------------------------------
// gelu

static double gelu_double(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}

/* 0.5 x erfc(-x / sqrt 2) in double: no cancellation for negative x. */
static double gelu_erf_double(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }

/* The two GELU forms, each a SIMD kernel, its _ref twin and a double oracle. */
typedef struct {
    const char *name;
    void (*simd)(float *, const float *, size_t);
    void (*ref)(float *, const float *, size_t);
    double (*exact)(double);
    int w_simd, w_ref, w_simd_d;
} gelu_form;
static const gelu_form GELU_TANH = {"gb_gelu", gb_gelu, gb_gelu_ref, gelu_double, W_GELU, W_GELU_REF, W_GELU_SIMD_D};
static const gelu_form GELU_ERF = {"gb_gelu_erf", gb_gelu_erf, gb_gelu_erf_ref, gelu_erf_double,
                                   W_GELU_ERF, W_GELU_ERF_REF, W_GELU_ERF_SIMD_D};

static void check_gelu_buf(const gelu_form *f, const float *x, size_t n, const char *what) {
    float *got = rand_buf(n, 0, 1), *ref = rand_buf(n, 0, 1);
    double *exact = dbuf(n);
    for (size_t i = 0; i < n; i++) exact[i] = f->exact(x[i]);
    f->simd(got, x, n);
    f->ref(ref, x, n);
    double e = max_rel_err(got, ref, n, GELU_FLOOR);
    double er = max_rel_err_d(ref, exact, n, GELU_FLOOR);
    /* the scalar build's kernel is the reference, with its cancellation */
    int simd = strcmp(gb_kernels_isa(), "scalar") != 0;
    double es = max_rel_err_d(got, exact, n, simd ? GELU_SIMD_FLOOR : GELU_FLOOR);
    note(f->w_simd, e), note(f->w_ref, er), note(f->w_simd_d, es);
    CHECK(e <= TOL_GELU_REL, "%s %s n=%zu: rel err %.3g", f->name, what, n, e);
    CHECK(er <= TOL_GELU_REL, "%s_ref %s n=%zu: rel err vs double %.3g", f->name, what, n, er);
    CHECK(es <= TOL_GELU_REL, "%s %s n=%zu: rel err vs double %.3g", f->name, what, n, es);
    /* NaN in, NaN out; +inf stays +inf */
    float sp[5] = {NAN, INFINITY, 1.0f, 2.0f, 3.0f}, so[5];
    f->simd(so, sp, 5);
    CHECK(so[0] != so[0] && so[1] == INFINITY, "%s: NaN -> %g, +inf -> %g", f->name, so[0], so[1]);
    free(got), free(ref), free(exact);
}

static void test_gelu(const gelu_form *f) {
    for (int s = 0; s < NSIZES; s++) {
        float *x = rand_buf((size_t)SIZES[s], -6, 6);
        check_gelu_buf(f, x, (size_t)SIZES[s], "random");
        free(x);
    }
    /* a dense sweep of [-12, 12] plus special points */
    static const float special[] = {0.0f, -0.0f, 1e-20f, -1e-20f, 1e-5f, -1e-5f, 20.0f, -20.0f,
                                    50.0f, -50.0f, 1e4f, -1e4f, 3.0e38f, 1.0f, -1.0f, 0.5f, -0.5f};
    size_t ns = sizeof special / sizeof *special, n = 24001 + ns;
    float *x = rand_buf(n, 0, 1);
    for (size_t i = 0; i < 24001; i++) x[i] = -12.0f + (float)i * 0.001f;
    memcpy(x + 24001, special, sizeof special);
    check_gelu_buf(f, x, n, "sweep");
    free(x);
}

// ----------------------------------------------------------------------------
// dot, axpy

static void check_vec(int n) {
    float *a = rand_buf((size_t)n, -1, 1), *b = rand_buf((size_t)n, -1, 1);
    float *y1 = rand_buf((size_t)n, -1, 1), *y2 = malloc((size_t)n * sizeof *y2);
    double *exact = dbuf((size_t)n), dexact = 0;
    memcpy(y2, y1, (size_t)n * sizeof *y1);
    for (int i = 0; i < n; i++) dexact += (double)a[i] * b[i];
    float d = gb_dot(a, b, n), dr = gb_dot_ref(a, b, n);
    double e = max_rel_err(&d, &dr, 1, VEC_FLOOR), er = max_rel_err_d(&dr, &dexact, 1, VEC_FLOOR);
    note(W_VEC, e), note(W_VEC_REF, er);
    CHECK(e <= TOL_VEC_REL, "gb_dot n=%d: rel err %.3g", n, e);
    CHECK(er <= TOL_VEC_REL, "gb_dot_ref n=%d: rel err vs double %.3g", n, er);
    for (int i = 0; i < n; i++) exact[i] = y1[i] + 0.37 * a[i];
    gb_axpy(y1, 0.37f, a, n);
    gb_axpy_ref(y2, 0.37f, a, n);
    e = max_rel_err(y1, y2, (size_t)n, VEC_FLOOR), er = max_rel_err_d(y2, exact, (size_t)n, VEC_FLOOR);
    note(W_VEC, e), note(W_VEC_REF, er);
    CHECK(e <= TOL_VEC_REL, "gb_axpy n=%d: rel err %.3g", n, e);
    CHECK(er <= TOL_VEC_REL, "gb_axpy_ref n=%d: rel err vs double %.3g", n, er);
    free(a), free(b), free(y1), free(y2), free(exact);
}

/* gb_matvec / gb_vecmat on n rows ldm apart (attention: keys or values of one
 * head): matvec within tolerance of its reference, vecmat bit-identical. */
static void check_matvec(int n, int D, int ldm) {
    float *m = rand_buf((size_t)n * ldm + D, -1, 1), *x = rand_buf((size_t)D, -1, 1);
    float *p = rand_buf((size_t)n, 0, 1);
    float *o1 = rand_buf((size_t)n + D, 0, 1), *o2 = rand_buf((size_t)n + D, 0, 1);
    gb_matvec(o1, m, (size_t)ldm, x, n, D);
    gb_matvec_ref(o2, m, (size_t)ldm, x, n, D);
    double e = max_rel_err(o1, o2, (size_t)n, VEC_FLOOR * sqrt(D));
    note(W_VEC, e);
    CHECK(e <= TOL_VEC_REL, "gb_matvec n=%d D=%d: rel err %.3g", n, D, e);
    gb_vecmat(o1, p, m, (size_t)ldm, n, D);
    gb_vecmat_ref(o2, p, m, (size_t)ldm, n, D);
    if (strcmp(gb_kernels_isa(), "avx2") != 0)
        CHECK(memcmp(o1, o2, sizeof(float) * (size_t)D) == 0, "gb_vecmat n=%d D=%d: not bit-identical", n, D);
    e = max_rel_err(o1, o2, (size_t)D, VEC_FLOOR * sqrt(n));
    CHECK(e <= TOL_VEC_REL, "gb_vecmat n=%d D=%d: rel err %.3g", n, D, e);
    free(m), free(x), free(p), free(o1), free(o2);
}

// ----------------------------------------------------------------------------

int main(void) {
    const char *isa = gb_kernels_isa();
    CHECK(isa && (!strcmp(isa, "wasm-simd128") || !strcmp(isa, "sse2") || !strcmp(isa, "avx2") ||
                  !strcmp(isa, "scalar")), "gb_kernels_isa() = %s", isa ? isa : "(null)");
    printf("kernels isa: %s\n", isa);

    test_matmuls();
    for (int s = 0; s < NSIZES; s++) {
        int n = SIZES[s];
        for (int T = 1; T <= 3; T += 2) check_layernorm(T, n);
        check_softmax(n, 1.0f, 0);
        check_softmax(n, 10.0f, 0);
        check_softmax(n, 1000.0f, 1); /* large logits: the max must be subtracted */
        check_softmax(n, 5.0f, 1);
        check_softmax(n, 5.0f, 2);
        check_softmax_all_masked(n);
        check_vec(n);
    }
    check_layernorm(2, 3072);
    check_softmax(4099, 30.0f, 1);
    check_vec(50257);
    {
        uint64_t saved = rng_state; /* own stream: the inputs of the tests above stay as they were */
        rng_state = 0x9E3779B97F4A7C15ull;
        static const int Nv[] = {1, 2, 3, 4, 5, 7, 8, 9, 64, 65};
        static const int Dv[] = {1, 3, 4, 5, 31, 32, 33, 64, 65};
        for (size_t a = 0; a < sizeof Nv / sizeof *Nv; a++)
            for (size_t c = 0; c < sizeof Dv / sizeof *Dv; c++) check_matvec(Nv[a], Dv[c], Dv[c] + 7 * (int)(a % 3));
        check_matvec(64, 64, 768); /* GPT-2 small: one head's keys/values */
        rng_state = saved;
    }
    test_layout();
    test_gelu(&GELU_TANH);
    test_gelu(&GELU_ERF);

    for (int i = 0; i < W_COUNT; i++) printf("  worst %-22s %.3g\n", WORST_NAME[i], worst[i]);
    return CHECK_DONE("test_kernels");
}
