/* par.h — the forward pass's heavy steps cut into tasks for the host's thread
 * pool (gb_set_parallel, glassbox.h).
 *
 * Every split here partitions outputs and never a sum: a matmul by ranges of
 * output columns (whole GB_PACK_NR panels), the LM head by vocabulary ranges,
 * GELU by element ranges. Each output is then computed by the same kernel
 * code in the same order whatever the thread count, so results are
 * bit-identical for any N (tests/native/test_threads.c checks N = 1..4).
 * Attention is split by (head, query rows) in forward.c with gb_par_for.
 * Without a pool (n_workers 1) each step is the plain single call.
 */
#ifndef GB_PAR_H
#define GB_PAR_H

#include "glassbox.h"
#include "load/model.h"

/* Rows of a matmul's input packed at a time for the column tasks. */
#define GB_PAR_ROWS 64

typedef struct {
    gb_parallel_fn run;    /* NULL: no pool */
    void *pool;
    int n_workers;         /* 1 without a pool */
    float *xp;             /* [gb_pack_rows_floats(GB_PAR_ROWS, K)] packed input rows */
    size_t xp_cap;         /* floats in xp */
} gb_par;

/* Runs fn(arg, i, worker) for i in [0, n) on the pool, or here. */
void gb_par_for(const gb_par *p, gb_task_fn fn, void *arg, int n);

/* Sets (or clears, run NULL) the pool, allocating the packed-row scratch for
 * matrices of up to max_k inputs. */
gb_status gb_par_set(gb_par *p, gb_parallel_fn run, void *pool, int n_workers, int max_k, gb_err *e);
void gb_par_free(gb_par *p);

/* out[n,N] = x[n,K] @ w + b for a block matrix of m (packed or not). */
void gb_par_linear(gb_par *p, const gb_model *m, float *out, const float *x, const float *w,
                   const float *b, int n, int K, int N);
/* logits[n, vocab] = x[n, n_embd] @ lm_head^T. */
void gb_par_lm_head(gb_par *p, const gb_model *m, float *logits, const float *x, int n);
/* GELU over n floats: GPT-2's tanh form, or the erf form when erf is set. */
void gb_par_gelu(const gb_par *p, float *out, const float *x, size_t n, int erf);

/* [lo, hi) of part i of `parts` equal parts of [0, total). */
static inline void gb_par_split(int total, int parts, int i, int *lo, int *hi) {
    *lo = (int)((long long)total * i / parts);
    *hi = (int)((long long)total * (i + 1) / parts);
}

#endif
