/* interp.js — in the source tree, forwards to the engine's interpretability
 * module (wasm/interp.js), as web/glassbox.js does for the engine, so the
 * worker's './interp.js' import works when web/ is served as it is; build.sh
 * replaces this file in dist/ with the module itself. */
export * from '../wasm/interp.js';
