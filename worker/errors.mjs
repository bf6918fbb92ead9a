// errors.mjs: the one error type of the JS API, its codes, and how errors cross postMessage.
//
// Codes 1..7 mirror the engine's StatusCode (src/util/status.h) by name; the others are raised on
// the JS side. Every error carries a message a person can act on (what, which file/URL/value, why).

/** Engine StatusCode values, by number, as returned by every int function of the C ABI. */
export const STATUS_NAMES = Object.freeze([
  'Ok', 'InvalidArgument', 'NotFound', 'CorruptData', 'Unsupported', 'OutOfRange', 'IoError', 'Internal',
]);

/** Every code an EdgebertError can have. */
export const ERROR_CODES = Object.freeze([
  ...STATUS_NAMES.slice(1),
  'NetworkError',    // fetch() failed: DNS, refused connection, CORS, offline
  'HttpError',       // the server answered with a non-2xx status (404 names the file and URL)
  'IntegrityError',  // truncated download (fewer bytes than Content-Length) or sha256 mismatch
  'Cancelled',       // the caller's AbortSignal fired before the work started (or during a download)
  'Disposed',        // the pipeline/model/runtime was disposed
  'WasmTrap',        // the wasm code trapped (a bug in edgebert); the engine was restarted
  'ModelPoisoned',   // a model that could not be reloaded after the engine restarted
  'WorkerError',     // the worker could not start or died
  'Timeout',         // a download made no progress for downloadTimeoutMs
  'OutOfMemory',     // the wasm heap cannot grow any more (4 GiB address space, or the browser's limit)
]);

export class EdgebertError extends Error {
  /**
   * @param {string} code one of ERROR_CODES
   * @param {string} message what went wrong, naming the file/URL/value and the rule
   * @param {object} [details] machine-readable extras (status, url, file, httpStatus, ...)
   */
  constructor(code, message, details) {
    super(message);
    this.name = 'EdgebertError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** An error from an engine status code and eb_last_error()'s message. */
export function errorFromStatus(status, lastError, context) {
  const code = STATUS_NAMES[status] || 'Internal';
  const what = lastError || `status ${status} without a message`;
  const message = context ? `${context}: ${what}` : what;
  return new EdgebertError(code === 'Ok' ? 'Internal' : code, message, { status });
}

/** A plain object that survives structured cloning. Unknown exceptions become code Internal. */
export function serializeError(err) {
  if (err instanceof EdgebertError || (err && typeof err.code === 'string' && ERROR_CODES.includes(err.code))) {
    const out = { code: err.code, message: String(err.message) };
    if (err.details !== undefined) out.details = err.details;
    return out;
  }
  // An exception we did not anticipate (a bug on our side): keep its name and message.
  const name = err && err.name ? err.name : 'Error';
  const message = err && err.message !== undefined ? err.message : String(err);
  return { code: 'Internal', message: `unexpected ${name}: ${message}` };
}

export function deserializeError(obj) {
  const code = obj && ERROR_CODES.includes(obj.code) ? obj.code : 'Internal';
  return new EdgebertError(code, obj && obj.message ? obj.message : 'unknown error', obj && obj.details);
}

export function cancelledError(what) {
  return new EdgebertError('Cancelled', `${what} was cancelled before it started (AbortSignal fired)`);
}

/** A trap from wasm (RuntimeError, also across realms) or an Emscripten abort(). */
export function isWasmTrap(err) {
  if (!err || typeof err !== 'object') return false;
  return err.name === 'RuntimeError' || /^Aborted\(/.test(String(err.message));
}
