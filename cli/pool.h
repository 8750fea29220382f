/* pool.h — a pthread pool that runs the engine's tasks (gb_set_parallel).
 *
 *   gb_pool *pool = gb_pool_create(4);       // the caller + 3 threads
 *   gb_set_parallel(ctx, gb_pool_run, pool, gb_pool_workers(pool));
 *   ...
 *   gb_set_parallel(ctx, NULL, NULL, 1); gb_pool_destroy(pool);
 *
 * Linked by the CLI and the native tests; core/ itself never starts a thread.
 */
#ifndef GB_POOL_H
#define GB_POOL_H

#include "glassbox.h"

typedef struct gb_pool gb_pool;

/* n_workers counts the calling thread: n_workers - 1 threads are started.
 * NULL when a thread or memory cannot be had. */
gb_pool *gb_pool_create(int n_workers);
int gb_pool_workers(const gb_pool *pool);
/* gb_parallel_fn: runs task(arg, i, worker) for every i in [0, n), the caller
 * taking tasks too (worker 0), and returns when all have finished. */
void gb_pool_run(void *pool, gb_task_fn task, void *arg, int n);
void gb_pool_destroy(gb_pool *pool);

#endif
