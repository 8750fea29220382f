/* native_bench.c — job 1 of bench/run.js (a 64-token prompt, full forward,
 * every activation kept) and the model load, natively, through the public API
 * (build/rel/libglassbox.a), for the WASM-vs-native comparison.
 *
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Icore bench/native_bench.c \
 *      build/rel/libglassbox.a -lm -o build/bench_native
 *   build/bench_native MODEL_DIR IDS(comma-separated) [REPS] [WARMUP] [--stages] [--threads N]
 *
 * Prints one JSON line; writes every position's logits of the prompt to
 * MODEL_DIR/../logits_native_64.f32 (bench/run.js compares them with WASM's).
 * --stages also prints the median time of each stage to stderr; --threads N
 * runs the model on cli/pool.c's pthread pool of N workers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "glassbox.h"
#include "kernels/kernels.h"
#include "../cli/pool.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_native: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench_native: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void check(gb_ctx *ctx, gb_status s, const char *what) {
    if (s) {
        fprintf(stderr, "bench_native: %s: %s\n", what, gb_error_message(ctx));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_native MODEL_DIR IDS [REPS] [WARMUP] [--stages]\n");
        return 2;
    }
    const char *dir = argv[1];
    int reps = argc > 3 ? atoi(argv[3]) : 9, warm = argc > 4 ? atoi(argv[4]) : 3;
    int stages = 0, threads = 1;
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--stages")) stages = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    }
    int32_t ids[1024];
    int n = 0;
    for (char *p = argv[2]; *p && n < 1024;) {
        ids[n++] = (int32_t)strtol(p, &p, 10);
        if (*p == ',') p++;
    }
    size_t lc, ls, lv, lm;
    uint8_t *cfg = slurp(dir, "config.json", &lc), *st = slurp(dir, "model.safetensors", &ls);
    uint8_t *voc = slurp(dir, "vocab.json", &lv), *mer = slurp(dir, "merges.txt", &lm);
    gb_ctx *ctx = gb_create();
    if (!ctx) return 1;
    gb_pool *pool = threads > 1 ? gb_pool_create(threads) : NULL;
    if (threads > 1 && !pool) return 1;
    double loads[8];
    int nl = 3;
    /* From bytes in memory, as WASM's loadModel: one streamed piece. */
    for (int i = 0; i < nl; i++) {
        double t0 = now_ms();
        check(ctx, gb_load_model(ctx, cfg, lc, st, ls, voc, lv, mer, lm, NULL, 0), "load");
        loads[i] = now_ms() - t0;
    }
    if (pool) check(ctx, gb_set_parallel(ctx, gb_pool_run, pool, threads), "set_parallel");
    double *ts = malloc(sizeof *ts * (size_t)(reps > 0 ? reps : 1));
    int ns = gb_num_stages(ctx);
    double *per = calloc((size_t)ns * (size_t)(reps > 0 ? reps : 1), sizeof *per);
    for (int i = 0; i < warm + reps; i++) {
        double t0 = now_ms();
        check(ctx, gb_set_tokens(ctx, ids, n), "set_tokens");
        if (stages && i >= warm) {
            for (int s = 0; s < ns; s++) {
                double a = now_ms();
                check(ctx, gb_run_stage(ctx, s), "run_stage");
                per[(size_t)s * reps + (i - warm)] = now_ms() - a;
            }
        } else {
            check(ctx, gb_run_all(ctx), "run_all");
        }
        if (i >= warm) ts[i - warm] = now_ms() - t0;
    }
    int hook, layer;
    const float *logits;
    gb_shape shape;
    hook = gb_hook_find("logits", &layer);
    check(ctx, gb_activation_data(ctx, hook, layer, &logits, &shape), "logits");
    char out[4096];
    snprintf(out, sizeof out, "%s/../logits_native_64.f32", dir);
    FILE *f = fopen(out, "wb");
    if (f) {
        fwrite(logits, sizeof(float), shape.numel, f);
        fclose(f);
    }
    if (stages)
        for (int s = 0; s < ns; s++) fprintf(stderr, "stage %2d: %7.2f ms\n", s, median(per + (size_t)s * reps, reps));
    double med = median(ts, reps), fastest = ts[0]; /* median() sorts ts */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"isa\":\"%s\",\"threads\":%d,\"tokens\":%d,\"reps\":%d,\"job1_ms\":%.3f,\"job1_min_ms\":%.3f,\"load_ms\":%.3f,"
           "\"max_rss_bytes\":%ld}\n",
           gb_kernels_isa(), threads, n, reps, med, fastest, median(loads + 1, nl - 1),
           (long)ru.ru_maxrss * 1024);
    gb_destroy(ctx);
    gb_pool_destroy(pool);
    free(ts), free(per), free(cfg), free(st), free(voc), free(mer);
    return 0;
}
