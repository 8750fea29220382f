/* par.c — splitting matmuls, the LM head and GELU into tasks (see par.h). */
#include "run/par.h"

#include <stdlib.h>

#include "kernels/kernels.h"

void gb_par_for(const gb_par *p, gb_task_fn fn, void *arg, int n) {
    if (n <= 0) return;
    if (p->run && p->n_workers > 1 && n > 1) {
        p->run(p->pool, fn, arg, n);
        return;
    }
    for (int i = 0; i < n; i++) fn(arg, i, 0);
}

gb_status gb_par_set(gb_par *p, gb_parallel_fn run, void *pool, int n_workers, int max_k, gb_err *e) {
    if (!run || n_workers <= 1) {
        gb_par_free(p);
        return GB_OK;
    }
    size_t need = gb_pack_rows_floats(GB_PAR_ROWS, max_k);
    if (need > p->xp_cap) {
        float *xp = malloc(need * sizeof *xp);
        if (!xp) return GB_FAIL(e, GB_E_OOM, "out of memory for the thread pool's scratch (%zu floats)", need);
        free(p->xp);
        p->xp = xp;
        p->xp_cap = need;
    }
    p->run = run;
    p->pool = pool;
    p->n_workers = n_workers;
    return GB_OK;
}

void gb_par_free(gb_par *p) {
    free(p->xp);
    p->xp = NULL;
    p->xp_cap = 0;
    p->run = NULL;
    p->pool = NULL;
    p->n_workers = 1;
}

/* Tasks per split: two per worker, so a worker that a busy core slows down
 * leaves its second share to the others. */
static int n_tasks(const gb_par *p, int units) {
    int n = 2 * p->n_workers;
    return n < units ? n : units;
}

/* ------------------------------------------------------------------ block matmuls */
typedef struct {
    float *out;
    const float *x, *xp, *w, *b;
    int T, K, N, panels, tasks;
} cols_job;

/* Output columns of panels [lo, hi) for every row. */
static void cols_task(void *arg, int i, int worker) {
    (void)worker;
    const cols_job *j = arg;
    int lo, hi;
    gb_par_split(j->panels, j->tasks, i, &lo, &hi);
    int n0 = lo * GB_PACK_NR, n1 = hi * GB_PACK_NR;
    if (n1 > j->N) n1 = j->N;
    if (n0 < n1) gb_matmul_packed_cols(j->out, j->N, j->xp, j->x, j->w, j->b, j->T, j->K, n0, n1);
}

void gb_par_linear(gb_par *p, const gb_model *m, float *out, const float *x, const float *w,
                   const float *b, int n, int K, int N) {
    if (!m->packed) { /* Conv1D layout: gb_matmul packs panels per call (and allocates) */
        gb_matmul(out, x, w, b, n, K, N);
        return;
    }
    int panels = (N + GB_PACK_NR - 1) / GB_PACK_NR;
    if (p->n_workers <= 1 || panels < 2 || gb_pack_rows_floats(n < GB_PAR_ROWS ? n : GB_PAR_ROWS, K) > p->xp_cap) {
        gb_matmul_packed(out, x, w, b, n, K, N);
        return;
    }
    /* Row blocks of GB_PAR_ROWS packed once here, then the columns in parallel. */
    for (int t0 = 0; t0 < n; t0 += GB_PAR_ROWS) {
        int T = n - t0 < GB_PAR_ROWS ? n - t0 : GB_PAR_ROWS;
        const float *xb = x + (size_t)t0 * K;
        const float *xp = NULL;
        if (gb_pack_rows_floats(T, K) > 0) {
            gb_pack_rows(p->xp, xb, T, K);
            xp = p->xp;
        }
        cols_job j = {out + (size_t)t0 * N, xb, xp, w, b, T, K, N, panels, n_tasks(p, panels)};
        gb_par_for(p, cols_task, &j, j.tasks);
    }
}

/* ------------------------------------------------------------------ LM head */
typedef struct {
    float *logits;
    const float *x, *w;
    int T, C, V, panels, tasks;
} vocab_job;

/* Vocabulary entries of panels [lo, hi) for every row: the packed LM head's
 * rows from a panel boundary on are themselves a packed [nv, C] matrix. */
static void vocab_task(void *arg, int i, int worker) {
    (void)worker;
    const vocab_job *j = arg;
    int lo, hi;
    gb_par_split(j->panels, j->tasks, i, &lo, &hi);
    int v0 = lo * GB_PACK_NR, v1 = hi * GB_PACK_NR;
    if (v1 > j->V) v1 = j->V;
    for (int t = 0; t < j->T && v0 < v1; t++)
        gb_matmul_nt_packed(j->logits + (size_t)t * j->V + v0, j->x + (size_t)t * j->C,
                            j->w + (size_t)v0 * j->C, 1, j->C, v1 - v0);
}

void gb_par_lm_head(gb_par *p, const gb_model *m, float *logits, const float *x, int n) {
    int C = m->mc.c.n_embd, V = m->mc.c.vocab_size;
    int panels = (V + GB_PACK_NR - 1) / GB_PACK_NR;
    /* One row at a time is the decode kernel (the tile's order per output is
     * the same, so rows match gb_model_lm_head's bit for bit); an unpacked
     * head's dot-product kernel sums in another order per T, so it stays whole. */
    if (p->n_workers <= 1 || !m->lm_head_packed || panels < 2) {
        gb_model_lm_head(m, logits, x, n);
        return;
    }
    vocab_job j = {logits, x, m->lm_head, n, C, V, panels, n_tasks(p, panels)};
    gb_par_for(p, vocab_task, &j, j.tasks);
}

/* ------------------------------------------------------------------ GELU */
typedef struct {
    float *out;
    const float *x;
    size_t n;
    int chunks, tasks, erf;
} gelu_job;

#define GELU_CHUNK 64

/* Element ranges in whole chunks of 64 floats, so every boundary falls where
 * the vector loop would pass anyway and no element moves to the scalar tail. */
static void gelu_task(void *arg, int i, int worker) {
    (void)worker;
    const gelu_job *j = arg;
    int lo, hi;
    gb_par_split(j->chunks, j->tasks, i, &lo, &hi);
    size_t a = (size_t)lo * GELU_CHUNK, b = (size_t)hi * GELU_CHUNK;
    if (b > j->n) b = j->n;
    if (a < b && j->erf) gb_gelu_erf(j->out + a, j->x + a, b - a);
    else if (a < b) gb_gelu(j->out + a, j->x + a, b - a);
}

void gb_par_gelu(const gb_par *p, float *out, const float *x, size_t n, int erf) {
    size_t chunks = (n + GELU_CHUNK - 1) / GELU_CHUNK;
    if (p->n_workers <= 1 || chunks < 2 || chunks > (size_t)1 << 30) {
        if (erf) gb_gelu_erf(out, x, n);
        else gb_gelu(out, x, n);
        return;
    }
    gelu_job j = {out, x, n, (int)chunks, n_tasks(p, (int)chunks), erf};
    gb_par_for(p, gelu_task, &j, j.tasks);
}
