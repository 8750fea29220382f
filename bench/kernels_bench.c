/* kernels_bench.c — GFLOP/s of the matmul kernels on GPT-2 small's shapes
 * (gb_matmul_packed on weights packed in place, as the engine loads them; gb_matmul_ref),
 * the decode-time GEMVs, the LM head, and this core's peak for 128-bit
 * multiply + add (the ceiling the kernels are measured against). One thread.
 *
 * Native:  cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Icore bench/kernels_bench.c \
 *            core/kernels/kernels_*.c -lm -o build/kernels_bench
 * WASM:    emcc -O3 -msimd128 -std=c11 -D_POSIX_C_SOURCE=200809L -Icore -s STANDALONE_WASM=1 \
 *            -s INITIAL_MEMORY=64MB -s ALLOW_MEMORY_GROWTH=1 bench/kernels_bench.c \
 *            core/kernels/kernels_*.c -o build/kernels_bench.wasm
 *          node bench/kernels_bench.mjs build/kernels_bench.wasm
 * Arguments: [seconds per measurement (default 0.4)] [any: stop after the T=64 table].
 * The last line is one JSON object with the headline numbers (bench/run.js reads it).
 *
 * Each measurement warms up (V8 optimises a function only after a few runs),
 * then repeats the call until the time is spent and reports the median run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
typedef v128_t pv;
#define P_SPLAT(a) wasm_f32x4_splat(a)
#define P_MUL(a, b) wasm_f32x4_mul(a, b)
#define P_ADD(a, b) wasm_f32x4_add(a, b)
#define P_LANE0(a) wasm_f32x4_extract_lane(a, 0)
#elif defined(__SSE2__)
#include <emmintrin.h>
typedef __m128 pv;
#define P_SPLAT(a) _mm_set1_ps(a)
#define P_MUL(a, b) _mm_mul_ps(a, b)
#define P_ADD(a, b) _mm_add_ps(a, b)
#define P_LANE0(a) _mm_cvtss_f32(a)
#endif

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

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { MM, MM_REF, NT, NT_REF };

/* median seconds per call */
static double time_mm(int kind, int T, int K, int N, double budget) {
    float *x = buf((size_t)T * K), *w = buf((size_t)K * N), *b = buf((size_t)N), *o = buf((size_t)T * N);
    if (kind == MM) { /* the engine's path: block matrices packed in place at load */
        float *scratch = buf((size_t)K * N);
        gb_pack_inplace(w, K, N, scratch);
        free(scratch);
    }
    double times[4096];
    int reps = 0;
    for (int i = 0; i < 3 + 2 * 4096; i++) {
        double t0 = now();
        switch (kind) {
        case MM: gb_matmul_packed(o, x, w, b, T, K, N); break;
        case MM_REF: gb_matmul_ref(o, x, w, b, T, K, N); break;
        case NT: gb_matmul_nt(o, x, w, T, K, N); break;
        default: gb_matmul_nt_ref(o, x, w, T, K, N); break;
        }
        double t1 = now();
        if (i < 3) continue; /* warm-up */
        times[reps++] = t1 - t0;
        if (reps == 4096 || (reps >= 3 && (reps * (t1 - t0) > budget))) break;
    }
    qsort(times, (size_t)reps, sizeof *times, cmp_d);
    free(x), free(w), free(b), free(o);
    return times[reps / 2];
}

/* Peak GFLOP/s of 128-bit multiply + add: 12 independent chains c = c * a + b
 * (a multiply and a dependent add per step: 12 chains cover both latencies on
 * 2 mul + 2 add pipes). One call of peak_run is a measurement; the best of
 * several calls is kept (V8 optimises peak_run only after its first calls). */
static volatile float sink;
#ifdef P_SPLAT
__attribute__((noinline)) static double peak_run(long it) {
    /* Twelve named accumulators, not an array: gcc -O2 keeps an array on the
     * stack, and the store-to-load round trip per step then measures memory
     * latency instead of the arithmetic pipes (it read 14.7 of ~47 GFLOP/s). */
    pv a = P_SPLAT(0.99999f), b = P_SPLAT(1e-5f);
    pv c0 = P_SPLAT(0.000f), c1 = P_SPLAT(0.001f), c2 = P_SPLAT(0.002f), c3 = P_SPLAT(0.003f);
    pv c4 = P_SPLAT(0.004f), c5 = P_SPLAT(0.005f), c6 = P_SPLAT(0.006f), c7 = P_SPLAT(0.007f);
    pv c8 = P_SPLAT(0.008f), c9 = P_SPLAT(0.009f), c10 = P_SPLAT(0.010f), c11 = P_SPLAT(0.011f);
    double t0 = now();
    for (long i = 0; i < it; i++) {
#define STEP(c) c = P_ADD(P_MUL(c, a), b)
        STEP(c0), STEP(c1), STEP(c2), STEP(c3), STEP(c4), STEP(c5);
        STEP(c6), STEP(c7), STEP(c8), STEP(c9), STEP(c10), STEP(c11);
#undef STEP
    }
    double dt = now() - t0;
    sink = P_LANE0(c0) + P_LANE0(c1) + P_LANE0(c2) + P_LANE0(c3) + P_LANE0(c4) + P_LANE0(c5) +
           P_LANE0(c6) + P_LANE0(c7) + P_LANE0(c8) + P_LANE0(c9) + P_LANE0(c10) + P_LANE0(c11);
    return it * 12.0 * 8 / dt * 1e-9;
}
#endif

static double peak_gflops(void) {
    double best = 0;
#ifdef P_SPLAT
    for (int rep = 0; rep < 9; rep++) {
        double g = peak_run(rep < 3 ? 1000 : 3000000);
        if (rep >= 3 && g > best) best = g;
    }
#endif
    return best;
}

int main(int argc, char **argv) {
    double budget = argc > 1 ? atof(argv[1]) : 0.4;
    static const int shapes[][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}};
    double peak = peak_gflops();
    printf("kernels isa: %s\n", gb_kernels_isa());
    printf("peak 128-bit mul+add (12 chains): %.1f GFLOP/s\n", peak);
    printf("%-22s %9s %9s %9s %9s\n", "T=64", "ms", "GFLOP/s", "ref", "%peak");
    double total = 0, flops = 0;
    for (int s = 0; s < 4; s++) {
        int T = 64, K = shapes[s][0], N = shapes[s][1];
        double flop = 2.0 * T * K * N;
        double tp = time_mm(MM, T, K, N, budget);
        double tr = time_mm(MM_REF, T, K, N, budget / 4);
        char name[64];
        snprintf(name, sizeof name, "K=%d N=%d", K, N);
        printf("%-22s %9.3f %9.1f %9.2f %8.0f%%\n", name, tp * 1e3, flop / tp * 1e-9,
               flop / tr * 1e-9, peak > 0 ? 100 * flop / tp * 1e-9 / peak : 0);
        total += tp, flops += flop;
    }
    printf("12 layers x these 4 (64-token forward's matmuls): %.1f ms\n", 12 * total * 1e3);
    double tl = time_mm(NT, 64, 768, 50257, budget);
    double lm_flop = 2.0 * 64 * 768 * 50257;
    printf("%-22s %9.3f %9.1f GFLOP/s\n\n", "LM head T=64 (nt)", tl * 1e3, lm_flop / tl * 1e-9);
    if (argc <= 2) {
        printf("%-28s %10s %10s %10s\n", "decode T=1", "ms", "GB/s(w)", "ref GB/s");
        for (int s = 0; s < 5; s++) {
            int K = s < 4 ? shapes[s][0] : 768, N = s < 4 ? shapes[s][1] : 50257;
            double bytes = 4.0 * K * N, t, tr;
            char name[64];
            if (s < 4) {
                t = time_mm(MM, 1, K, N, budget);
                tr = time_mm(MM_REF, 1, K, N, budget / 4);
                snprintf(name, sizeof name, "matmul K=%d N=%d", K, N);
            } else {
                t = time_mm(NT, 1, K, N, budget);
                tr = time_mm(NT_REF, 1, K, N, budget / 4);
                snprintf(name, sizeof name, "matmul_nt K=%d N=%d", K, N);
            }
            printf("%-28s %10.3f %10.1f %10.2f\n", name, t * 1e3, bytes / t * 1e-9, bytes / tr * 1e-9);
        }
    }
    /* Measured again at the end: on a shared machine one of the two can be
     * slowed by a neighbour, and a peak below what the kernels reach is wrong. */
    double again = peak_gflops();
    printf("peak again at the end: %.1f GFLOP/s\n", again);
    if (again > peak) peak = again;
    printf("{\"isa\":\"%s\",\"peak_gflops\":%.2f,\"block_matmul_gflops\":%.2f,"
           "\"block_matmuls_12_layers_ms\":%.2f,\"lm_head_gflops\":%.2f,\"lm_head_ms\":%.2f}\n",
           gb_kernels_isa(), peak, flops / total * 1e-9, 12 * total * 1e3,
           lm_flop / tl * 1e-9, tl * 1e3);
    return 0;
}
