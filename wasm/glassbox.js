/* glassbox.js — the JavaScript face of the Glassbox engine (glassbox.wasm).
 *
 * Plain ES modules that run unchanged in a page, a Web Worker and Node 20.
 * They instantiate the standalone .wasm themselves (no Emscripten JS glue:
 * 3.1.6's glue is broken on Node >= 18) and wrap the C API of
 * core/glassbox.h, via the flat ABI of wasm/exports.c, in one class. This
 * file is the entry; the parts live next to it in glassbox/:
 *   engine.js   the public class, Glassbox
 *   load.js     loading a model: bytes, a File/Blob or a URL, as one stream
 *   bytes.js    byte sources: JS values, file: URLs, fetch, stream pumping
 *   runtime.js  compiling and instantiating the wasm, its imports, memory
 *               views, and every call into it
 *   abi.js      the ABI's numbers (checked against exports.c and glassbox.h
 *               by tests/node/wasm_abi.test.js)
 *   errors.js   GlassboxError, GlassboxRuntimeError
 * build.sh copies this file and glassbox/ next to glassbox.wasm in dist/;
 * the page imports './glassbox.js' (in the source tree web/glassbox.js
 * forwards here).
 *
 *   import { Glassbox, GlassboxError } from './glassbox.js';
 *   const gb = await Glassbox.create();              // fetches glassbox.wasm next to this file
 *   await gb.loadModelFromUrl('models/default/', {
 *     onProgress: ({ phase, fraction }) => console.log(phase, fraction) });
 *   const { ids, pieces } = gb.tokenize('Hello world');
 *   gb.setTokens(ids);
 *   gb.runUntil(2);                                   // embed + blocks.0.attn
 *   const { data, shape } = gb.activation('blocks.0.attn.hook_pattern');
 *   gb.runAll();
 *   const step = gb.sample({ temperature: 0.8, topK: 40, topP: 0.9 });
 *   try { gb.runStage(999); } catch (e) { if (e instanceof GlassboxError) console.log(e.code, e.message); }
 *
 * Errors. Every non-zero gb_status becomes `GlassboxError` with `.code` one of
 * 'io' | 'format' | 'shape' | 'range' | 'oom' | 'arg' | 'state', and `.message`
 * the C text of gb_error_message (nothing is lost on the way). Bad arguments
 * caught in JS use the same class with code 'arg'. A wasm trap (unreachable,
 * out-of-bounds, stack overflow, a call into an unsupported import) becomes
 * `GlassboxRuntimeError`, keeps the wasm stack as `.cause`, and marks the
 * instance dead: every later call throws, except loadModel/loadModelFromUrl,
 * which start over on a fresh instance of the already compiled module.
 *
 * Zero-copy views. `activation(name)` returns a Float32Array that looks
 * straight into wasm memory for dense activations (attention scores and
 * patterns are stored packed and come back as copies; `.view` says which).
 * A view is valid only until the next call that changes the run (setTokens,
 * appendTokens, setAblation, clearAblations, add/remove/clearIntervention(s),
 * setKeepAll, loadModel, destroy)
 * or that may grow memory (any run*, activation, sample, tokenize, load...).
 * When memory grows its old ArrayBuffer is detached and old views read as
 * length 0; use the data at once or `.slice()` it to keep it. Internally the
 * wrapper re-reads `memory.buffer` after every call that may allocate.
 *
 * Pointers. wasm32 addresses are unsigned but wasm returns i32, so above 2 GB
 * they arrive negative; every pointer is normalised with `>>> 0`. Memory grows
 * on demand up to the module's 4 GB maximum.
 *
 * Loading streams. model.safetensors goes into the engine in pieces
 * (gb_load_begin/write/finish), from the download, a File/Blob, or bytes, and
 * the engine writes each weight once, straight into the layout its kernel
 * reads: a model is held once, in wasm memory, and a failed or cut-off load
 * leaves the previous model loaded. Without tokenizer files the model runs
 * on token ids (hasTokenizer false).
 *
 * Progress. loadModel* report `{phase, fraction, loaded, total}` where phase is
 * 'download' (loadModelFromUrl: the streamed download), 'copy' (loadModel: the
 * streamed bytes or file) or 'parse' (gb_load_finish: tokenizer and checks,
 * 0 before, 1 after; it is one synchronous call).
 */

export { Glassbox } from './glassbox/engine.js';
export { GlassboxError, GlassboxRuntimeError } from './glassbox/errors.js';
