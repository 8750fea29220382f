/* thread-worker.js — one thread of glassbox-mt.wasm's pool (see wasm/pool.c).
 *
 * Started by wasm/threads.js as a module Web Worker (browser) or a
 * worker_threads Worker (Node), with { module, memory, pool, id, stackTop }:
 * it instantiates the compiled module over the engine's shared memory (the
 * data segments are already in place: wasm-ld's start function initialises
 * them once, in the first instance), moves its stack pointer to the stack
 * the engine allocated for it, says 'ready', and runs tasks in
 * gbw_pool_worker until the pool quits. It calls no other export, so it
 * never allocates. Any import call is a bug here and throws.
 */
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node) &&
  typeof self === 'undefined';

async function run({ module, memory, pool, id, stackTop }, post) {
  try {
    const imports = { env: { memory } };
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      imports[imp.module] ??= {};
      imports[imp.module][imp.name] = () => {
        throw new Error(`glassbox thread ${id}: the engine called ${imp.module}.${imp.name} on a worker thread`);
      };
    }
    const { exports: x } = await WebAssembly.instantiate(module, imports);
    x.stackRestore(stackTop);
    post({ ready: id });
    x.gbw_pool_worker(pool, id);
    post({ exited: id });
  } catch (e) {
    post({ error: `glassbox thread ${id}: ${e && e.message ? e.message : e}` });
  }
}

if (isNode) {
  const { parentPort, workerData } = await import('node:worker_threads');
  run(workerData, (m) => parentPort.postMessage(m));
} else {
  self.onmessage = (e) => run(e.data, (m) => self.postMessage(m));
}
