/* kernels_bench.c — GFLOP/s of gb_matmul against gb_matmul_ref (and of the
 * decode-time GEMVs) on GPT-2 small's shapes. One thread.
 *
 * Native:  cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Icore bench/kernels_bench.c \
 *            core/kernels_simd.c core/kernels_ref.c -lm -o build/kernels_bench
 * WASM:    emcc -O3 -msimd128 -std=c11 -D_POSIX_C_SOURCE=200809L -Icore -s STANDALONE_WASM=1 \
 *            -s INITIAL_MEMORY=64MB -s ALLOW_MEMORY_GROWTH=1 bench/kernels_bench.c \
 *            core/kernels_simd.c core/kernels_ref.c -o build/kernels_bench.wasm
 *          node bench/kernels_bench.mjs build/kernels_bench.wasm
 * Arguments: [seconds per measurement (default 0.4)] [any: stop after the T=64 table].
 *
 * Each measurement warms up (V8 optimises a function only after a few runs),
 * then repeats the call until the time is spent and reports the best run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *buf(size_t n) {
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "kernels_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    return p;
}

typedef void (*mm_fn)(float *, const float *, const float *, const float *, int, int, int);
typedef void (*nt_fn)(float *, const float *, const float *, int, int, int);

/* best seconds per call */
static double time_mm(mm_fn f, nt_fn g, int T, int K, int N, double budget) {
    float *x = buf((size_t)T * K), *w = buf((size_t)K * N), *b = buf((size_t)N), *o = buf((size_t)T * N);
    double best = 1e30, start = now();
    for (int i = 0; i < 3; i++) f ? f(o, x, w, b, T, K, N) : g(o, x, w, T, K, N); /* warm up */
    int reps = 0;
    while (reps < 3 || now() - start < budget) {
        double t0 = now();
        f ? f(o, x, w, b, T, K, N) : g(o, x, w, T, K, N);
        double dt = now() - t0;
        if (dt < best) best = dt;
        reps++;
    }
    free(x), free(w), free(b), free(o);
    return best;
}

int main(int argc, char **argv) {
    double budget = argc > 1 ? atof(argv[1]) : 0.4;
    static const int shapes[][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}};
    printf("kernels isa: %s\n", gb_kernels_isa());
    printf("%-28s %10s %10s %10s %8s\n", "gb_matmul T=64", "ms", "GFLOP/s", "ref GF/s", "speedup");
    double total = 0;
    for (int s = 0; s < 4; s++) {
        int T = 64, K = shapes[s][0], N = shapes[s][1];
        double flop = 2.0 * T * K * N;
        double t = time_mm(gb_matmul, NULL, T, K, N, budget);
        double tr = time_mm(gb_matmul_ref, NULL, T, K, N, budget);
        char name[64];
        snprintf(name, sizeof name, "K=%d N=%d", K, N);
        printf("%-28s %10.3f %10.1f %10.2f %7.1fx\n", name, t * 1e3, flop / t * 1e-9, flop / tr * 1e-9, tr / t);
        total += t;
    }
    printf("12 layers x these 4 (64-token forward's matmuls): %.1f ms\n\n", 12 * total * 1e3);

    if (argc > 2) return 0; /* second argument: T = 64 matmuls only */
    printf("%-28s %10s %10s %10s %8s\n", "decode T=1", "ms", "GB/s(w)", "ref GB/s", "speedup");
    for (int s = 0; s < 5; s++) {
        int K = s < 4 ? shapes[s][0] : 768, N = s < 4 ? shapes[s][1] : 50257;
        double bytes = 4.0 * K * N, t, tr;
        char name[64];
        if (s < 4) {
            t = time_mm(gb_matmul, NULL, 1, K, N, budget);
            tr = time_mm(gb_matmul_ref, NULL, 1, K, N, budget);
            snprintf(name, sizeof name, "matmul K=%d N=%d", K, N);
        } else {
            t = time_mm(NULL, gb_matmul_nt, 1, K, N, budget);
            tr = time_mm(NULL, gb_matmul_nt_ref, 1, K, N, budget);
            snprintf(name, sizeof name, "matmul_nt K=%d N=%d", K, N);
        }
        printf("%-28s %10.3f %10.1f %10.2f %7.1fx\n", name, t * 1e3, bytes / t * 1e-9, bytes / tr * 1e-9, tr / t);
    }
    double t = time_mm(NULL, gb_matmul_nt, 64, 768, 50257, budget);
    printf("%-28s %10.3f %10.1f GFLOP/s\n", "matmul_nt T=64 (all logits)", t * 1e3, 2.0 * 64 * 768 * 50257 / t * 1e-9);
    return 0;
}
