/* pool.c — the native thread pool behind gb_set_parallel (see pool.h).
 *
 * One job at a time, published by a generation counter. Workers (and the
 * caller) claim task indices from an atomic counter, so a worker that starts
 * late or runs slow leaves its share to the others, and the caller alone
 * finishes a job if no worker ever wakes. A worker spins briefly on the
 * generation before sleeping on a condition variable: the forward pass
 * publishes ~75 jobs per token, and a sleep/wake per job would cost more
 * than a decode step's matmuls.
 *
 * The protocol (wasm/pool.c runs the same one with wasm atomics):
 *   caller:  wait until no worker is inside the last job (active == 0);
 *            write the job; next = done = 0; gen++ (seq_cst); wake sleepers;
 *            claim tasks; wait until done == n.
 *   worker:  wait for gen != seen; active++; read gen again (a job published
 *            after the check above is complete by then); claim tasks; active--.
 */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN_BEFORE_SLEEP 20000

struct gb_pool {
    int n_workers;
    pthread_t *threads;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* the job, written only while no worker is inside one */
    gb_task_fn task;
    void *arg;
    int n;
    atomic_int gen, next, done, active, quit;
};

typedef struct { gb_pool *pool; int id; } worker_arg;

/* Claims and runs tasks of the current job until none is left. */
static void claim(gb_pool *p, int worker) {
    for (;;) {
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) return;
        p->task(p->arg, i, worker);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

static void *worker_main(void *a) {
    worker_arg wa = *(worker_arg *)a;
    free(a);
    gb_pool *p = wa.pool;
    int seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit) && spins < SPIN_BEFORE_SLEEP) spins++;
        if (atomic_load(&p->gen) == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        atomic_fetch_add(&p->active, 1);
        int g = atomic_load(&p->gen);
        if (g != seen) {
            seen = g;
            claim(p, wa.id);
        }
        atomic_fetch_sub(&p->active, 1);
    }
}

gb_pool *gb_pool_create(int n_workers) {
    if (n_workers < 1 || n_workers > 256) return NULL;
    gb_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_workers = n_workers;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc((size_t)n_workers, sizeof *p->threads);
    if (!p->threads) { gb_pool_destroy(p); return NULL; }
    for (int i = 1; i < n_workers; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) { gb_pool_destroy(p); return NULL; }
        wa->pool = p;
        wa->id = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            gb_pool_destroy(p);
            return NULL;
        }
        p->started = i;
    }
    return p;
}

int gb_pool_workers(const gb_pool *pool) { return pool ? pool->n_workers : 1; }

void gb_pool_run(void *pool, gb_task_fn task, void *arg, int n) {
    gb_pool *p = pool;
    while (atomic_load(&p->active) != 0) sched_yield();
    p->task = task;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->done, 0);
    atomic_fetch_add(&p->gen, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    claim(p, 0);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n) sched_yield();
}

void gb_pool_destroy(gb_pool *p) {
    if (!p) return;
    atomic_store(&p->quit, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
