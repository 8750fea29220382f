/* test_threads.c — the forward pass split over a thread pool gives the same
 * bits as one thread: every activation (logits included) of a prompt that
 * spans two matmul row blocks, then of KV-cache steps of 1 and 5 tokens, and
 * of keep_all off (blocks recomputed on demand), for N = 1, 2, 3, 4.
 *
 * Two pools: cli/pool.c's pthreads (real concurrency), and a serial pool that
 * runs the tasks in reverse order, handing out worker ids round-robin, so a
 * task that depended on another's output or order would show even if the
 * threads happened to run in order. Two models: one whose matrices are packed
 * (the column splits), one whose widths leave them in Conv1D layout (and a
 * vocabulary that ends in a partial panel). */
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"
#include "pool.h"
#include "snapshot.h"
#include "synth.h"

typedef struct { int n_workers, calls, max_worker; } reverse_pool;

static void reverse_run(void *pool, gb_task_fn task, void *arg, int n) {
    reverse_pool *p = pool;
    p->calls++;
    for (int i = n - 1; i >= 0; i--) {
        int w = (n - 1 - i) % p->n_workers;
        if (w > p->max_worker) p->max_worker = w;
        task(arg, i, w);
    }
}

#define N_SNAPS 4

/* Runs the scripted session; snaps[i] get the activations after each step. */
static void session(gb_ctx *ctx, float **snaps, size_t *lens) {
    int32_t ids[80];
    for (int i = 0; i < 80; i++) ids[i] = (i * 37 + 11) % 256;
    CHECK(gb_set_tokens(ctx, ids, 70) == GB_OK, "set 70 tokens: %s", gb_error_message(ctx));
    CHECK(gb_run_all(ctx) == GB_OK, "run: %s", gb_error_message(ctx));
    snaps[0] = snapshot(ctx, &lens[0]);
    CHECK(gb_append_tokens(ctx, ids + 70, 1) == GB_OK && gb_run_all(ctx) == GB_OK, "decode 1");
    snaps[1] = snapshot(ctx, &lens[1]);
    CHECK(gb_append_tokens(ctx, ids + 71, 5) == GB_OK && gb_run_all(ctx) == GB_OK, "decode 5");
    snaps[2] = snapshot(ctx, &lens[2]);
    CHECK(gb_set_keep_all(ctx, 0) == GB_OK && gb_run_all(ctx) == GB_OK, "keep_all off");
    snaps[3] = snapshot(ctx, &lens[3]);
    CHECK(gb_set_keep_all(ctx, 1) == GB_OK, "keep_all on");
}

static void free_snaps(float **s) {
    for (int i = 0; i < N_SNAPS; i++) free(s[i]);
}

static void compare(float **ref, size_t *rl, float **got, size_t *gl, const char *what, int n) {
    for (int i = 0; i < N_SNAPS; i++) {
        int same = rl[i] == gl[i] && memcmp(ref[i], got[i], rl[i] * sizeof(float)) == 0;
        size_t first = 0;
        if (!same && rl[i] == gl[i])
            while (first < rl[i] && memcmp(ref[i] + first, got[i] + first, sizeof(float)) == 0) first++;
        CHECK(same, "%s, %d workers, step %d: activations differ from 1 thread (first at float %zu of %zu)",
              what, n, i, first, rl[i]);
    }
}

static void test_model(int L, int H, int C, int V, const char *what) {
    synth_model m;
    synth_make(&m, L, H, C, 128);
    if (V != 256) { /* a vocabulary wider than the tokenizer's, ending in a partial panel */
        synth_model w;
        synth_make_weights(&w, L, H, C, 128, V);
        free(m.config); free(m.st);
        m.config = w.config; m.config_len = w.config_len; m.st = w.st; m.st_len = w.st_len;
    }
    synth_pad_header(&m);
    float *ref[N_SNAPS], *got[N_SNAPS];
    size_t rl[N_SNAPS], gl[N_SNAPS];
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "%s: load: %s", what, gb_error_message(ctx));
    CHECK(gb_num_workers(ctx) == 1, "no pool: 1 worker");
    session(ctx, ref, rl);

    for (int n = 2; n <= 4; n++) {
        reverse_pool rp = {n, 0, 0};
        CHECK(gb_set_parallel(ctx, reverse_run, &rp, n) == GB_OK, "set reverse pool");
        CHECK(gb_num_workers(ctx) == n, "%d workers", n);
        session(ctx, got, gl);
        CHECK(rp.calls > 0 && rp.max_worker == n - 1, "%s: the reverse pool ran %d jobs on workers up to %d",
              what, rp.calls, rp.max_worker);
        compare(ref, rl, got, gl, what, n);
        free_snaps(got);

        gb_pool *pool = gb_pool_create(n);
        CHECK(pool && gb_pool_workers(pool) == n, "pthread pool of %d", n);
        CHECK(gb_set_parallel(ctx, gb_pool_run, pool, n) == GB_OK, "set pthread pool");
        session(ctx, got, gl);
        compare(ref, rl, got, gl, what, n);
        free_snaps(got);
        CHECK(gb_set_parallel(ctx, NULL, NULL, 1) == GB_OK && gb_num_workers(ctx) == 1, "pool removed");
        gb_pool_destroy(pool);
    }
    free_snaps(ref);
    gb_destroy(ctx);
    synth_free(&m);
}

/* A pool set before the model loads is used once it has. */
static void test_pool_before_load(void) {
    synth_model m;
    synth_make(&m, 1, 4, 32, 64);
    synth_pad_header(&m);
    gb_ctx *ctx = gb_create();
    reverse_pool rp = {3, 0, 0};
    CHECK(gb_set_parallel(ctx, reverse_run, &rp, 3) == GB_OK, "pool before load");
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    int32_t ids[20];
    for (int i = 0; i < 20; i++) ids[i] = i * 7;
    CHECK(gb_set_tokens(ctx, ids, 20) == GB_OK && gb_run_all(ctx) == GB_OK, "run");
    CHECK(rp.calls > 0, "the pool set before loading ran tasks (%d jobs)", rp.calls);
    CHECK(gb_set_parallel(ctx, NULL, NULL, 2) == GB_E_ARG, "2 workers without a run function: refused");
    CHECK(gb_set_parallel(ctx, reverse_run, &rp, 0) == GB_E_ARG, "0 workers: refused");
    gb_destroy(ctx);
    synth_free(&m);
}

/* gb_matmul_packed_cols: every column range of every row count gives
 * gb_matmul_packed's bits for those columns (the splits rely on it), the
 * other columns untouched, and agrees with a plain double-precision loop
 * over the unpacked weights within float rounding. */
static void test_matmul_cols(void) {
    const int K = 37, N = 48, ldo = N + 5;
    float *w = malloc(sizeof(float) * K * N), *wp = malloc(sizeof(float) * K * N), *scratch = malloc(sizeof(float) * K * N);
    float *x = malloc(sizeof(float) * 70 * K), *b = malloc(sizeof(float) * N);
    float *whole = malloc(sizeof(float) * 70 * N), *cols = malloc(sizeof(float) * 70 * ldo);
    float *xp = malloc(sizeof(float) * (gb_pack_rows_floats(70, K) + 1));
    synth_rng = 99;
    for (int i = 0; i < K * N; i++) w[i] = wp[i] = synth_randn();
    for (int i = 0; i < 70 * K; i++) x[i] = synth_randn();
    for (int i = 0; i < N; i++) b[i] = synth_randn();
    gb_pack_inplace(wp, K, N, scratch);
    const int Ts[] = {1, 2, 3, 4, 5, 7, 64, 70};
    for (size_t ti = 0; ti < sizeof Ts / sizeof *Ts; ti++) {
        int T = Ts[ti];
        gb_matmul_packed(whole, x, wp, b, T, K, N);
        const float *pk = NULL;
        if (gb_pack_rows_floats(T, K) > 0) { gb_pack_rows(xp, x, T, K); pk = xp; }
        for (int n0 = 0; n0 < N; n0 += GB_PACK_NR)
            for (int n1 = n0 + GB_PACK_NR; n1 <= N; n1 += GB_PACK_NR) {
                for (int i = 0; i < T * ldo; i++) cols[i] = -7.0f;
                gb_matmul_packed_cols(cols, ldo, pk, x, wp, n0 ? b : NULL, T, K, n0, n1);
                int same = 1, untouched = 1;
                double worst = 0;
                for (int t = 0; t < T; t++)
                    for (int n = 0; n < ldo; n++) {
                        float got = cols[t * ldo + n];
                        if (n < n0 || n >= n1) { untouched &= got == -7.0f; continue; }
                        double ref = n0 ? b[n] : 0.0;
                        for (int k = 0; k < K; k++) ref += (double)x[t * K + k] * w[k * N + n];
                        double e = fabs(got - ref) / (fabs(ref) > 1 ? fabs(ref) : 1);
                        if (e > worst) worst = e;
                        if (n0) same &= memcmp(&got, &whole[t * N + n], sizeof got) == 0;
                    }
                CHECK(same && untouched && worst < 1e-5, "matmul_packed_cols T %d cols [%d, %d): same bits %d, others untouched %d, err %g",
                      T, n0, n1, same, untouched, worst);
            }
    }
    free(w); free(wp); free(scratch); free(x); free(b); free(whole); free(cols); free(xp);
}

int main(void) {
    test_matmul_cols();
    test_model(2, 4, 32, 256, "packed model (C 32)");
    test_model(2, 4, 20, 259, "Conv1D-layout model (C 20, vocab 259)");
    test_pool_before_load();
    return CHECK_DONE("test_threads");
}
