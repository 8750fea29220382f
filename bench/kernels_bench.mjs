// kernels_bench.mjs — runs a STANDALONE_WASM build of a C program (here
// bench/kernels_bench.c, or tests/native/test_kernels.c) in Node with just
// enough WASI for printf, clock_gettime, argv and exit; exits with its status.
//   node bench/kernels_bench.mjs build/kernels_bench.wasm [seconds]
import { readFileSync } from 'node:fs';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/kernels_bench.mjs FILE.wasm [seconds]');
  process.exit(2);
}
const argv = ['kernels_bench', ...args];
let memory;
const view = () => new DataView(memory.buffer);
const bytes = () => new Uint8Array(memory.buffer);
class Exit { constructor(code) { this.code = code; } }

const wasi = {
  fd_write(fd, iovs, iovcnt, nwritten) {
    let n = 0;
    const dv = view();
    for (let i = 0; i < iovcnt; i++) {
      const ptr = dv.getUint32(iovs + 8 * i, true), len = dv.getUint32(iovs + 8 * i + 4, true);
      (fd === 2 ? process.stderr : process.stdout).write(bytes().slice(ptr, ptr + len));
      n += len;
    }
    view().setUint32(nwritten, n, true);
    return 0;
  },
  clock_time_get(id, precision, out) {
    view().setBigUint64(out, process.hrtime.bigint(), true);
    return 0;
  },
  args_sizes_get(argcPtr, sizePtr) {
    const size = argv.reduce((s, a) => s + Buffer.byteLength(a) + 1, 0);
    view().setUint32(argcPtr, argv.length, true);
    view().setUint32(sizePtr, size, true);
    return 0;
  },
  args_get(argvPtr, bufPtr) {
    argv.forEach((a, i) => {
      view().setUint32(argvPtr + 4 * i, bufPtr, true);
      const b = Buffer.from(a + '\0');
      bytes().set(b, bufPtr);
      bufPtr += b.length;
    });
    return 0;
  },
  proc_exit(code) { throw new Exit(code); },
};
// Anything else the libc asks for (fd_close, fd_seek, ...) is a stub returning 0.
const stub = (ns) => new Proxy(ns, { get: (t, k) => t[k] ?? (() => 0) });

const { instance } = await WebAssembly.instantiate(readFileSync(file), {
  wasi_snapshot_preview1: stub(wasi),
  env: stub({}),
});
memory = instance.exports.memory;
try {
  instance.exports._start();
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  process.exitCode = e.code;
}
