/* glassbox.js — in the source tree, forwards to the engine's module
 * (wasm/glassbox.js), so the page's './glassbox.js' imports work when web/ is
 * served as it is; build.sh replaces this file in dist/ with the module
 * itself (and its glassbox/ folder), next to glassbox.wasm. */
export { Glassbox, GlassboxError, GlassboxRuntimeError } from '../wasm/glassbox.js';
