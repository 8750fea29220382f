/* errors.js — the two error classes glassbox.js throws (see glassbox.js's
 * header: GlassboxError for every reported failure, GlassboxRuntimeError for
 * a trap that kills the instance). */

/** A failure the engine reported (a non-zero gb_status) or a bad argument. */
export class GlassboxError extends Error {
  /** @param {string} code  'io'|'format'|'shape'|'range'|'oom'|'arg'|'state'
   *  @param {string} message  C's gb_error_message text */
  constructor(code, message) {
    super(message);
    this.name = 'GlassboxError';
    this.code = code;
  }
}

/** The wasm instance trapped (or called an import it must not); it is dead. */
export class GlassboxRuntimeError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'GlassboxRuntimeError';
  }
}
