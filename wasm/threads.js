/* threads.js — starts and stops glassbox-mt.wasm's worker threads.
 *
 * The engine thread (the one that owns the Glassbox) allocates the pool and
 * one stack per worker in wasm memory, then starts N - 1 workers running
 * wasm/thread-worker.js over the same shared WebAssembly.Memory. Threads need
 * SharedArrayBuffer, which browsers give only to cross-origin-isolated pages
 * (served with COOP: same-origin and COEP: require-corp, as tools/serve.js
 * does); threadSupport() says whether this context has it, and why not.
 */

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node) &&
  typeof self === 'undefined';

/* Each worker's stack (the engine's kernels keep small tiles on it). */
const STACK_BYTES = 256 * 1024;

/** The memory limits glassbox-mt.wasm declares (build.sh: INITIAL_MEMORY=16MB,
 *  MAXIMUM_MEMORY=4GB), in 64 KiB pages. */
export const MT_MEMORY = Object.freeze({ initial: 256, maximum: 65536 });

/** Threads the machine offers, capped at 8 (the engine's splits are sized for that). */
export async function defaultThreadCount() {
  let n = 1;
  if (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) n = navigator.hardwareConcurrency;
  else if (isNode) {
    const os = await import('node:os');
    n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return Math.max(1, Math.min(8, n | 0));
}

/** { ok, why }: whether shared wasm memory (and so threads) is available here. */
export function threadSupport() {
  if (typeof SharedArrayBuffer === 'undefined')
    return { ok: false, why: 'one thread: SharedArrayBuffer is unavailable (the page is not cross-origin isolated: it needs COOP/COEP headers)' };
  if (typeof crossOriginIsolated !== 'undefined' && !crossOriginIsolated && !isNode)
    return { ok: false, why: 'one thread: the page is not cross-origin isolated (it needs COOP/COEP headers)' };
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return { ok: false, why: `one thread: shared WebAssembly memory is unavailable (${e.message})` };
  }
  return { ok: true, why: null };
}

export function sharedMemory() {
  return new WebAssembly.Memory({ ...MT_MEMORY, shared: true });
}

async function spawn(data) {
  const url = new URL('./thread-worker.js', import.meta.url);
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url, { workerData: data });
    w.unref(); // a forgotten Glassbox does not keep Node alive
    return { worker: w, on: (f) => w.on('message', f), onError: (f) => w.on('error', f), stop: () => w.terminate() };
  }
  const w = new Worker(url, { type: 'module', name: `glassbox-thread-${data.id}` });
  w.postMessage(data);
  return {
    worker: w,
    on: (f) => w.addEventListener('message', (e) => f(e.data)),
    onError: (f) => w.addEventListener('error', (e) => f(new Error(e.message || 'worker failed to start'))),
    stop: () => w.terminate(),
  };
}

/**
 * Starts n - 1 workers for the instance x (exports of glassbox-mt.wasm) over
 * memory, and returns { pool, n, stop() }: pool is the gbw_pool pointer to
 * pass to gbw_set_threads. Resolves once every worker is running.
 */
export async function startThreads(module, memory, x, n) {
  // The engine thread may block (sleep while the last tasks finish) unless it
  // is a page's main thread, where memory.atomic.wait traps.
  const canWait = isNode || typeof WorkerGlobalScope !== 'undefined';
  const pool = x.gbw_pool_create(n, canWait ? 1 : 0) >>> 0;
  if (!pool) throw new Error(`cannot create a pool of ${n} threads (out of wasm memory)`);
  const stacks = [], threads = [];
  const stopAll = () => {
    for (const t of threads) t.stop();
  };
  try {
    const ready = [];
    for (let id = 1; id < n; id++) {
      const base = x.malloc(STACK_BYTES) >>> 0;
      if (!base) throw new Error('out of wasm memory for a thread stack');
      stacks.push(base);
      const stackTop = (base + STACK_BYTES) & ~15;
      const t = await spawn({ module, memory, pool, id, stackTop });
      threads.push(t);
      ready.push(new Promise((resolve, reject) => {
        t.on((m) => { if (m.ready) resolve(); else if (m.error) reject(new Error(m.error)); });
        t.onError(reject);
      }));
    }
    await Promise.all(ready);
  } catch (e) {
    stopAll();
    throw e;
  }
  return {
    pool, n,
    /* Ends the workers (between engine calls, so none is inside a task). The
     * pool and the stacks stay in wasm memory, which goes with the instance. */
    stop() {
      x.gbw_pool_quit(pool);
      stopAll();
    },
  };
}
