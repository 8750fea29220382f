/* pool.c — the WebAssembly thread pool behind gb_set_parallel.
 *
 * Built into glassbox-mt.wasm (-matomics, one shared, imported memory): the
 * page's engine thread and N - 1 Web Workers (or Node worker_threads, see
 * wasm/threads.js) each instantiate the same module over that memory. Each
 * worker sets its own stack pointer (stackRestore, to a stack the engine
 * thread malloc'ed for it) and calls gbw_pool_worker, which does not return
 * until gbw_pool_quit. Workers never allocate: malloc is the single-threaded
 * one, used by the engine thread only, and every task writes into memory the
 * engine allocated before publishing the job.
 *
 * The job protocol is cli/pool.c's (see there): a generation counter
 * publishes a job, tasks are claimed from an atomic counter (the engine
 * thread claims too, so a job finishes even if no worker ever wakes), and a
 * new job waits until no worker is inside the last one. The engine thread
 * spins briefly for the last tasks, then sleeps in memory.atomic.wait32 on
 * the done count if it may block (a Worker or Node: can_wait); a page's main
 * thread may not (memory.atomic.wait traps there) and only spins. Sleeping
 * matters when the machine has fewer free cores than threads: a spinning
 * engine thread takes the core the last worker needs. Workers spin briefly,
 * then sleep in memory.atomic.wait32 on the generation.
 *
 * Built without atomics (glassbox.wasm), the same exports are stubs:
 * gbw_pool_create returns 0.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "glassbox.h"

typedef struct gbw_pool gbw_pool;

#ifdef __wasm_atomics__

#define SPIN_BEFORE_SLEEP 20000

struct gbw_pool {
    int n_workers;
    int can_wait;    /* the engine thread may block in memory.atomic.wait32 */
    gb_task_fn task; /* the job, written only while no worker is inside one */
    void *arg;
    int n;
    atomic_int gen, next, done, active, quit;
};

/* n_workers counts the engine thread; can_wait: it may block (it is a
 * Worker or Node's main thread, not a page's). 0 when out of memory. */
gbw_pool *gbw_pool_create(int n_workers, int can_wait) {
    if (n_workers < 1 || n_workers > 256) return NULL;
    gbw_pool *p = calloc(1, sizeof *p);
    if (p) {
        p->n_workers = n_workers;
        p->can_wait = can_wait != 0;
    }
    return p;
}

static void claim(gbw_pool *p, int worker) {
    for (;;) {
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) return;
        p->task(p->arg, i, worker);
        if (atomic_fetch_add_explicit(&p->done, 1, memory_order_release) + 1 == p->n && worker != 0)
            __builtin_wasm_memory_atomic_notify((int *)&p->done, 1); /* the engine thread may sleep on it */
    }
}

static void pool_run(void *pool, gb_task_fn task, void *arg, int n) {
    gbw_pool *p = pool;
    while (atomic_load(&p->active) != 0) {}
    p->task = task;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->done, 0);
    atomic_fetch_add(&p->gen, 1);
    __builtin_wasm_memory_atomic_notify((int *)&p->gen, (unsigned)(p->n_workers - 1));
    claim(p, 0);
    for (int spins = 0;; spins++) {
        int d = atomic_load_explicit(&p->done, memory_order_acquire);
        if (d >= n) return;
        if (spins >= SPIN_BEFORE_SLEEP && p->can_wait)
            __builtin_wasm_memory_atomic_wait32((int *)&p->done, d, 1000000); /* 1 ms: never stuck on a lost wake */
    }
}

/* A worker's life: called once per worker thread with its id in [1, n_workers). */
void gbw_pool_worker(gbw_pool *p, int id) {
    int seen = atomic_load(&p->gen);
    for (;;) {
        for (int spins = 0; atomic_load(&p->gen) == seen && !atomic_load(&p->quit); spins++)
            if (spins >= SPIN_BEFORE_SLEEP) __builtin_wasm_memory_atomic_wait32((int *)&p->gen, seen, -1);
        if (atomic_load(&p->quit)) return;
        atomic_fetch_add(&p->active, 1);
        int g = atomic_load(&p->gen);
        if (g != seen) {
            seen = g;
            claim(p, id);
        }
        atomic_fetch_sub(&p->active, 1);
    }
}

/* Ends every worker's gbw_pool_worker; the pool may be freed once they have
 * returned (wasm/threads.js waits for them). */
void gbw_pool_quit(gbw_pool *p) {
    atomic_store(&p->quit, 1);
    atomic_fetch_add(&p->gen, 1);
    __builtin_wasm_memory_atomic_notify((int *)&p->gen, (unsigned)-1);
}

gb_status gbw_set_threads(gb_ctx *ctx, gbw_pool *p) {
    return p ? gb_set_parallel(ctx, pool_run, p, p->n_workers) : gb_set_parallel(ctx, NULL, NULL, 1);
}

#else

gbw_pool *gbw_pool_create(int n_workers, int can_wait) { (void)n_workers; (void)can_wait; return NULL; }
void gbw_pool_worker(gbw_pool *p, int id) { (void)p; (void)id; }
void gbw_pool_quit(gbw_pool *p) { (void)p; }
gb_status gbw_set_threads(gb_ctx *ctx, gbw_pool *p) {
    return p ? gb_report_error(ctx, GB_E_STATE, "this glassbox.wasm is built without threads")
             : gb_set_parallel(ctx, NULL, NULL, 1);
}

#endif
