/* client.js — the page's side of worker.js's protocol: call(verb, args) -> Promise.
 * Errors come back as WorkerError with the engine's code and C's message. */

export class WorkerError extends Error {
  constructor({ name, code, message }) {
    super(message);
    this.name = name === 'GlassboxError' || name === 'GlassboxRuntimeError' ? name : 'WorkerError';
    this.code = code;
  }
}

/** @param {string|URL} url  worker module URL */
export function createClient(url) {
  const worker = new Worker(url, { type: 'module' });
  const pending = new Map();
  let next = 1;
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    if ('progress' in data) { p.onProgress?.(data.progress); return; }
    pending.delete(data.id);
    if (data.error) p.reject(new WorkerError(data.error)); else p.resolve(data.result);
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    const err = new WorkerError({ name: 'Error', code: 'worker', message: `the engine worker failed: ${ev.message || 'could not start'}` });
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  return {
    /** @returns {Promise<any>} */
    call(verb, args = {}, { transfer = [], onProgress } = {}) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, onProgress });
        worker.postMessage({ verb, args, id }, transfer);
      });
    },
    terminate() { worker.terminate(); },
  };
}
