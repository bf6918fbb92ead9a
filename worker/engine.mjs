// engine.mjs: the JS adapter over the engine's C ABI (wasm/bindings.cc): heap strings and
// out-pointers, status codes to EdgebertError, traps caught and reported (WasmTrap, or OutOfMemory
// when the heap could not grow); after one the service replaces the whole instance (service.mjs).
//
// ABI (all exports are `_name` on the Emscripten module; every int return is a StatusCode):
//   eb_malloc, eb_free, eb_version, eb_last_error,
//   eb_model_load(bytes, len, int* out_handle)      engine keeps using `bytes` in place and owns them
//                                                   on success (freed by eb_model_free); on failure
//                                                   the caller still owns them
//   eb_convert_hf(files_json, u8** out, size_t* out_len)
//   eb_model_info(handle, char** out_json), eb_run(handle, task, request_json, char** out_json)
//   eb_run_batch(handle, task, requests_json, batch_size, first_index, char** out_json,
//                float** out_data, size_t* out_floats)   feature-extraction values as float32
//   eb_run_classify(handle, requests_json, batch_size, first_index, int32** out, size_t* out_words)
//                                                   text-classification as numbers: per request its
//                                                   label count n, then n x (int32 id, float32 score)
//   eb_model_free(handle), eb_build_info(char** out_json)

import { instantiateEdgebert } from './wasm_loader.mjs';
import { EdgebertError, errorFromStatus, isWasmTrap } from './errors.mjs';

// The most a wasm32 heap can hold; a larger request would wrap modulo 2^32 on its way in.
const MAX_ALLOCATION = 2 ** 32 - 2 ** 16;

/** The exports a model needs. Until the lead's ABI lands, only the first four exist. */
export const MODEL_ABI = Object.freeze(['eb_model_load', 'eb_model_info', 'eb_run', 'eb_model_free']);

// (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where SIMD128 exists.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

export function hasWasmSimd() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

const isNode = () => typeof process === 'object' && !!process.versions && !!process.versions.node;

/**
 * Whether this context can run the pthreads build, and if not, why (in words a person can act on).
 * Checked where the engine runs (inside the worker: a dedicated worker inherits the page's
 * cross-origin isolation).
 */
export function threadSupport(env = globalThis) {
  if (isNode() && env === globalThis) {
    return { ok: false, reason: 'Node runs the single-thread build (the pthreads glue is built for browsers: ENVIRONMENT=web,worker)' };
  }
  if (typeof env.SharedArrayBuffer !== 'function') return { ok: false, reason: 'SharedArrayBuffer is not available here' };
  if (env.crossOriginIsolated !== true) {
    return {
      ok: false,
      reason: 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and ' +
        'Cross-Origin-Embedder-Policy: require-corp)',
    };
  }
  if (typeof env.Worker !== 'function') return { ok: false, reason: 'this context cannot start Web Workers' };
  return { ok: true, reason: '' };
}

/** Logical cores here: navigator.hardwareConcurrency, else os.availableParallelism (Node), else 1. */
export async function coreCount(env = globalThis) {
  const n = env.navigator && env.navigator.hardwareConcurrency;
  if (Number.isInteger(n) && n > 0) return n;
  if (isNode() && env === globalThis) {
    const os = await import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return 1;
}

/** The pthreads build's pool (wasm/CMakeLists.txt PTHREAD_POOL_SIZE; eb_set_threads refuses more). */
export const THREAD_POOL = 4;

/**
 * Chooses the build for a `threads` option: the single-thread SIMD128 build, or the pthreads
 * build when it is given (threadsGlue) and this context can run it. An explicit request for more
 * than one thread that cannot be met is an error, never a silent fallback. Never more threads than
 * cores: on one core 'auto' runs single-thread, and a request above the core count runs one thread
 * per core (oversubscribed GEMM threads are several times slower than one thread).
 * @param {'auto'|number} threads
 * @param {{available: boolean, why?: string}} pthreads whether a pthreads build was given
 * @param {{ok: boolean, reason: string}} support from threadSupport()
 * @param {number} [cores] logical cores (coreCount())
 * @returns {{pthreads: boolean, build: string, requested: 'auto'|number, count: number, reason: string}}
 */
export function chooseBuild(threads = 'auto', pthreads = { available: false, why: 'no pthreads build was given' }, support = threadSupport(), cores = Infinity) {
  if (threads !== 'auto' && (!Number.isInteger(threads) || threads < 1)) {
    throw new EdgebertError('InvalidArgument', `threads must be 'auto' or a positive integer, got ${JSON.stringify(threads)}`);
  }
  const known = Number.isFinite(cores) ? cores : null;
  const single = (reason) => ({ pthreads: false, build: 'simd128-single-thread', requested: threads, count: 1, cores: known, reason });
  const multi = (count, reason) => ({ pthreads: true, build: 'simd128-pthreads', requested: threads, count, cores: known, reason });
  const coreNote = Number.isFinite(cores) ? `${cores} core${cores === 1 ? '' : 's'}` : '';
  if (threads === 1) return single('threads: 1 requested');
  const blocker = !pthreads.available ? pthreads.why : (!support.ok ? support.reason : '');
  if (threads === 'auto') {
    if (blocker) return single(`threads: 'auto' chose the single-thread build: ${blocker}`);
    if (cores < 2) return single(`threads: 'auto' chose the single-thread build: this machine has ${coreNote} (never more threads than cores)`);
    const count = Math.min(cores, THREAD_POOL);
    return multi(count, "threads: 'auto' chose the pthreads build (cross-origin isolated, SharedArrayBuffer and Workers available)" +
      (coreNote ? ` with ${count} threads (${coreNote}, pool of ${THREAD_POOL})` : ''));
  }
  if (blocker) {
    throw new EdgebertError('Unsupported', `threads: ${threads} requested, but the pthreads build cannot run: ${blocker}; ` +
      "pass threads: 1 or 'auto'");
  }
  if (threads > cores) {
    if (cores < 2) return single(`threads: ${threads} requested, but this machine has ${coreNote}: one thread (never more threads than cores)`);
    return multi(cores, `threads: ${threads} requested, but this machine has ${coreNote}: ${cores} threads (never more threads than cores)`);
  }
  return multi(threads, `threads: ${threads} requested`);
}

/** A failure to get edgebert.wasm running, as an EdgebertError that says what to do. */
function wasmLoadError(err, wasm) {
  if (err instanceof EdgebertError) return err;
  const msg = String(err && err.message);
  let where = typeof wasm === 'string' || wasm instanceof URL ? String(wasm) : 'the given bytes/module';
  if (where.startsWith('file:')) where = decodeURIComponent(new URL(where).pathname);  // a path reads better
  if (/code generation disallowed|disallowed by embedder/i.test(msg)) {
    return new EdgebertError('Unsupported',
      `this runtime forbids compiling wasm from bytes (${msg}); pass the precompiled module as wasmModule ` +
      '(e.g. `import wasmModule from "./edgebert.wasm"` in Cloudflare Workers)');
  }
  if (/ENOENT/.test(msg)) return new EdgebertError('NotFound', `edgebert.wasm not found at ${where}: ${msg}`);
  const http = /HTTP (\d{3})/.exec(msg);
  if (http) return new EdgebertError('HttpError', `cannot download edgebert.wasm from ${where}: HTTP ${http[1]}`, { httpStatus: Number(http[1]) });
  if (err && err.name === 'CompileError') return new EdgebertError('CorruptData', `edgebert.wasm from ${where} is not valid WebAssembly: ${msg}`);
  if (err && err.name === 'LinkError') {
    return new EdgebertError('Unsupported', `edgebert.wasm from ${where} does not match its glue edgebert.mjs (${msg}); serve the two files of one build together`);
  }
  return new EdgebertError('Internal', `cannot start edgebert.wasm from ${where}: ${msg}`);
}

// eb_run_batch calls: at most this many requests and (unless one request is larger) this much JSON
// each, well inside the engine's request limits (64 MiB and 2^21 values of JSON, docs/LIMITS.md).
const BATCH_CALL_REQUESTS = 1024;
const BATCH_CALL_BYTES = 16 << 20;

// Engine strings up to this many ASCII bytes are decoded in JS (Engine._text).
const SHORT_TEXT = 1024;

/** A {dims, data_offset} result of eb_run_batch -> {dims, data: Float32Array} (its own copy). */
function tensorFrom(r, all, what) {
  const dims = r.dims;
  const count = Array.isArray(dims) && dims.every((d) => Number.isSafeInteger(d) && d >= 0) ? dims.reduce((a, b) => a * b, 1) : -1;
  const offset = r.data_offset;
  if (count < 0 || !Number.isSafeInteger(offset) || offset < 0 || offset + count > all.length) {
    throw new EdgebertError('Internal', `${what}: a result's dims ${JSON.stringify(dims)} at float ${offset} lie outside the ${all.length} floats returned`);
  }
  return { dims, data: all.slice(offset, offset + count) };
}

export class Engine {
  /**
   * @param {object} opts
   * @param {Function} [opts.factory] the default export of edgebert.mjs (when bundled)
   * @param {string|URL} [opts.glueUrl] where to import edgebert.mjs from (when no factory)
   * @param {WebAssembly.Module|ArrayBuffer|Uint8Array|string|URL} opts.wasm  compiled module or location
   * @param {'auto'|number} [opts.threads]
   * @param {boolean} [opts.relaxedSimd] false: keep the SIMD128 GEMM kernel (wasm_loader.mjs)
   * @param {WebAssembly.Module} [opts.relaxedKernel] worker/relaxed_kernel.wasm precompiled
   */
  static async create({ factory, glueUrl, wasm, threads = 'auto', threadsGlueUrl, threadsWasm, relaxedSimd = true, relaxedKernel }) {
    const pthreadsGiven = !!threadsGlueUrl && threadsWasm !== undefined && threadsWasm !== null;
    const build = chooseBuild(threads, {
      available: pthreadsGiven,
      why: 'no pthreads build was given (threadsGlueUrl/threadsWasmUrl)',
    }, threadSupport(), await coreCount());
    if (!hasWasmSimd()) {
      throw new EdgebertError('Unsupported',
        'this JavaScript runtime has no WebAssembly SIMD128 (needed by edgebert.wasm); use a current browser or Node 16.4+');
    }
    if (build.pthreads) {
      factory = undefined;
      glueUrl = threadsGlueUrl;
      wasm = threadsWasm;
    }
    if (!factory) {
      if (!glueUrl) throw new EdgebertError('InvalidArgument', 'no engine: give moduleFactory or glueUrl');
      try {
        factory = (await import(String(glueUrl))).default;
      } catch (err) {
        throw new EdgebertError('NotFound', `cannot import the engine glue from ${glueUrl}: ${err && err.message}`);
      }
    }
    if (typeof factory !== 'function') {
      throw new EdgebertError('InvalidArgument', 'moduleFactory must be the default export of edgebert.mjs (a function)');
    }
    let mod;
    try {
      mod = await instantiateEdgebert({ factory, wasm, relaxedSimd, relaxedKernel });
    } catch (err) {
      throw wasmLoadError(err, wasm);
    }
    const engine = new Engine(mod, build);
    if (build.pthreads) {
      // Always set: the engine's own default counts the pool, not the cores we may use.
      // 'auto': each encoder pass runs 1 thread or build.count, whichever this engine measured
      // faster for passes of its size (src/pipeline/thread_choice.h): never the slower of the two
      // for long, even when the machine is busy.
      const measured = build.requested === 'auto' && build.count > 1 && engine.has('eb_set_threads_measured');
      if (engine.has('eb_set_threads')) {
        const fn = measured ? 'eb_set_threads_measured' : 'eb_set_threads';
        const rc = engine._call(fn, null, 'set the thread count', build.count);
        if (rc !== 0) throw errorFromStatus(rc, engine.lastError(), `cannot use ${build.count} threads`);
        if (measured) {
          build.measured = true;
          build.reason += `; each encoder pass runs 1 or ${build.count} threads, whichever measured faster for passes of its size`;
        }
      } else {
        build.reason += '; edgebert-threads.wasm has no eb_set_threads yet, so the engine chooses the count itself';
      }
    }
    return engine;
  }

  constructor(mod, build = chooseBuild(1)) {
    this.mod = mod;
    this.build = build;
    this.trapped = false;       // a trap happened: this instance must be replaced (service.mjs)
    this.restarts = 0;          // set by the service on a replacement instance
    this.lastRestart = null;
  }

  /** Drops this instance for good: the pthreads build's workers are stopped (the memory goes with the last reference). */
  discard() {
    this.trapped = true;
    try {
      if (this.mod.PThread && typeof this.mod.PThread.terminateAllThreads === 'function') this.mod.PThread.terminateAllThreads();
    } catch { /* best effort: the instance is unusable anyway */ }
  }

  has(name) {
    return typeof this.mod[`_${name}`] === 'function';
  }

  /** Throws Unsupported naming the missing exports (the engine ABI is not in this build). */
  require(names, what) {
    const missing = names.filter((n) => !this.has(n));
    if (missing.length > 0) {
      throw new EdgebertError('Unsupported',
        `engine ABI not built yet: edgebert.wasm (version ${this.version()}) does not export ${missing.join(', ')}, ` +
        `needed to ${what}`);
    }
  }

  version() {
    return this.mod.UTF8ToString(this.mod._eb_version());
  }

  /** The current heap view (it is replaced when memory grows: never keep it across engine calls). */
  heap() {
    return this.mod.HEAPU8;
  }

  malloc(n) {
    // Checked here: the size crosses as a 32-bit size_t, where 4294967396 would arrive as 100.
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ALLOCATION) {
      throw new EdgebertError('OutOfRange', `cannot allocate ${n} bytes: more than a 32-bit wasm heap can hold (${MAX_ALLOCATION} bytes)`);
    }
    const ptr = this._call('eb_malloc', null, 'allocate memory', n);
    if (!ptr && n > 0) {
      throw new EdgebertError('OutOfMemory',
        `cannot allocate ${n} bytes in the wasm heap: out of memory (heap now ${this.heap().length} bytes)`, { size: n });
    }
    return ptr;
  }

  free(ptr) {
    // After a trap the instance is thrown away whole; cleanup paths must not mask the trap's error.
    if (ptr && !this.trapped) this._call('eb_free', null, 'free memory', ptr);
  }

  lastError() {
    return this.mod.UTF8ToString(this.mod._eb_last_error());
  }

  /** { version, build, threads, threadsRequested, threadsReason, cores, simd, relaxed_simd, gemm_kernel, gemmReason, abi, ... }: which build runs, never guessed. */
  buildInfo() {
    const info = {
      version: this.version(),
      build: this.build.build,
      // The single-thread build runs one thread; the pthreads build says how many through
      // eb_build_info (null until that export exists).
      threads: this.build.pthreads ? null : 1,
      threadsRequested: this.build.requested,
      threadsReason: this.build.reason,
      cores: this.build.cores === undefined ? null : this.build.cores,  // what the thread count was capped by
      simd: true,  // both builds are compiled with -msimd128 and it instantiated, so SIMD128 runs
      abi: MODEL_ABI.every((n) => this.has(n)),
      // Why the int8 GEMMs run the relaxed-SIMD kernel or not (wasm_loader.mjs); eb_build_info adds
      // relaxed_simd and gemm_kernel.
      gemmReason: (this.mod.edgebertGemm && this.mod.edgebertGemm.reason) || null,
    };
    if (this.has('eb_build_info')) {
      Object.assign(info, this._outJson('eb_build_info', null, 'read the build info'));
    } else {
      info.relaxed_simd = false;
      info.note = 'edgebert.wasm has no eb_build_info yet; fields come from the loader';
    }
    if (this.restarts) {
      info.restarts = this.restarts;
      info.lastRestart = this.lastRestart;
    }
    return info;
  }

  /**
   * Hands a heap buffer with a packed model to the engine. On success the engine owns `ptr`.
   * @returns {number} the model handle
   */
  loadModel(ptr, len, what = 'the model') {
    this.require(['eb_model_load'], 'load a model');
    const out = this.malloc(4);
    try {
      const rc = this._call('eb_model_load', null, `load ${what}`, ptr, len, out);
      if (rc !== 0) throw errorFromStatus(rc, this.lastError(), `cannot load ${what}`);
      return this.mod.HEAP32[out >> 2];
    } finally {
      this.free(out);
    }
  }

  /**
   * Converts Hugging Face files already in the heap into packed model bytes.
   * @param {Record<string, {ptr: number, len: number}>} files
   * @returns {{ptr: number, len: number}} owned by the caller (pass to loadModel or free)
   */
  convertHf(files, what) {
    this.require(['eb_convert_hf'], 'convert a Hugging Face checkpoint');
    const json = this._string(JSON.stringify(files));
    const out = this.malloc(8);
    try {
      const rc = this._call('eb_convert_hf', null, `convert ${what}`, json, out, out + 4);
      if (rc !== 0) throw errorFromStatus(rc, this.lastError(), `cannot convert ${what}`);
      return { ptr: this.mod.HEAPU32[out >> 2], len: this.mod.HEAPU32[(out >> 2) + 1] };
    } finally {
      this.free(out);
      this.free(json);
    }
  }

  /**
   * Loads a checkpoint's files directly (no packed file): 'fp32' keeps the exact fp32 weights.
   * The file buffers stay ours (free them afterwards).
   */
  loadHf(files, quantization, what) {
    this.require(['eb_model_load_hf'], `load ${what} with quantization ${quantization}`);
    const json = this._string(JSON.stringify(files));
    const q = this._string(quantization);
    const out = this.malloc(4);
    try {
      const rc = this._call('eb_model_load_hf', null, `load ${what}`, json, q, out);
      if (rc !== 0) throw errorFromStatus(rc, this.lastError(), `cannot load ${what}`);
      return this.mod.HEAP32[out >> 2];
    } finally {
      this.free(out);
      this.free(q);
      this.free(json);
    }
  }

  /**
   * config.json alone through the engine's own parse and limits (eb_config_check), before the
   * weights are fetched. Returns its summary JSON, or null when this build has no eb_config_check.
   */
  checkConfig(bytes) {
    if (!this.has('eb_config_check')) return null;
    const ptr = this.malloc(Math.max(bytes.byteLength, 1));
    try {
      this.heap().set(bytes, ptr);
      return this._outJson('eb_config_check', null, 'check config.json', ptr, bytes.byteLength);
    } finally {
      this.free(ptr);
    }
  }

  modelInfo(handle) {
    this.require(['eb_model_info'], 'describe a model');
    return this._outJson('eb_model_info', handle, `describe model ${handle}`, handle);
  }

  /** Runs one task request (an object, sent as JSON) and returns the parsed response JSON. */
  run(handle, task, request) {
    this.require(['eb_run'], `run ${task}`);
    const taskPtr = this._string(task);
    const reqPtr = this._string(JSON.stringify(request));
    try {
      return this._outJson('eb_run', handle, `${task} on model ${handle}`, handle, taskPtr, reqPtr);
    } finally {
      this.free(reqPtr);
      this.free(taskPtr);
    }
  }

  /**
   * Runs many requests of one task in batches (eb_run_batch): one engine call per chunk of
   * requests (at most BATCH_CALL_REQUESTS of them, and BATCH_CALL_BYTES of JSON unless a single
   * request is larger, so no call passes the engine's JSON limits). Feature-extraction results come
   * back as {dims, data: Float32Array}, each copied out of the heap once into its own buffer (ready
   * to transfer); everything else is the parsed JSON. Errors name the input ("input 7: ...").
   * @returns {object[]} one result per request, in order
   */
  runBatch(handle, task, requests, batchSize) {
    this.require(['eb_run_batch'], `run ${task} in batches`);
    return this._chunked(requests, (json, first, count) => this._runBatchCall(handle, task, json, batchSize, first, count));
  }

  /**
   * text-classification through eb_run_classify: the same requests, checks, errors and batches as
   * runBatch, but the labels and scores come back as numbers (no JSON to write and parse).
   * @param {string[]} labels the model's label names by id (eb_model_info's "labels")
   * @returns {{label: string, score: number}[][]} one list per request, best first, as runBatch's
   */
  classify(handle, requests, batchSize, labels) {
    this.require(['eb_run_classify'], 'run text-classification');
    return this._chunked(requests, (json, first, count) => this._classifyCall(handle, json, batchSize, first, count, labels));
  }

  /** Runs call(json, first, count) on chunks of the requests that stay inside the engine's JSON limits. */
  _chunked(requests, call) {
    const results = [];
    let start = 0;
    while (start < requests.length) {
      const parts = [];
      let bytes = 2;
      let end = start;
      while (end < requests.length && end - start < BATCH_CALL_REQUESTS) {
        const part = JSON.stringify(requests[end]);
        if (end > start && bytes + part.length + 1 > BATCH_CALL_BYTES) break;
        parts.push(part);
        bytes += part.length + 1;
        end += 1;
      }
      for (const r of call(`[${parts.join(',')}]`, start, end - start)) results.push(r);
      start = end;
    }
    return results;
  }

  _runBatchCall(handle, task, json, batchSize, first, count) {
    const what = `${task} on model ${handle}`;
    const taskPtr = this._string(task);
    const reqPtr = this._string(json);
    const out = this.malloc(12);  // char* json, float* data, size_t floats
    let jsonPtr = 0;
    let dataPtr = 0;
    try {
      this.mod.HEAPU32.fill(0, out >> 2, (out >> 2) + 3);
      const rc = this._call('eb_run_batch', handle, what, handle, taskPtr, reqPtr, batchSize, first, out, out + 4, out + 8);
      jsonPtr = this.mod.HEAPU32[out >> 2];
      dataPtr = this.mod.HEAPU32[(out >> 2) + 1];
      const floats = this.mod.HEAPU32[(out >> 2) + 2];
      if (rc !== 0) throw errorFromStatus(rc, this.lastError(), `${what} failed`);
      if (!jsonPtr) throw new EdgebertError('Internal', `${what}: eb_run_batch returned Ok without a result`);
      const text = this._text(jsonPtr);
      let results;
      try {
        results = JSON.parse(text);
      } catch (err) {
        throw new EdgebertError('Internal', `${what}: eb_run_batch returned invalid JSON (${err.message}): ${text.slice(0, 200)}`);
      }
      if (!Array.isArray(results) || results.length !== count) {
        throw new EdgebertError('Internal', `${what}: eb_run_batch answered ${Array.isArray(results) ? results.length : 'no array of'} results for ${count} requests`);
      }
      // The heap's floats, viewed (not copied) until each result takes its own slice.
      const all = dataPtr ? new Float32Array(this.heap().buffer, dataPtr, floats) : new Float32Array(0);
      return results.map((r) => (r && typeof r === 'object' && 'data_offset' in r ? tensorFrom(r, all, what) : r));
    } finally {
      if (jsonPtr) this.free(jsonPtr);
      if (dataPtr) this.free(dataPtr);
      this.free(out);
      this.free(reqPtr);
      this.free(taskPtr);
    }
  }

  _classifyCall(handle, json, batchSize, first, count, labels) {
    const what = `text-classification on model ${handle}`;
    const reqPtr = this._string(json);
    const out = this.malloc(8);  // int32* words, size_t count
    let wordsPtr = 0;
    try {
      this.mod.HEAPU32.fill(0, out >> 2, (out >> 2) + 2);
      const rc = this._call('eb_run_classify', handle, what, handle, reqPtr, batchSize, first, out, out + 4);
      wordsPtr = this.mod.HEAPU32[out >> 2];
      const words = this.mod.HEAPU32[(out >> 2) + 1];
      if (rc !== 0) throw errorFromStatus(rc, this.lastError(), `${what} failed`);
      if (!wordsPtr) throw new EdgebertError('Internal', `${what}: eb_run_classify returned Ok without a result`);
      const i32 = this.mod.HEAP32;
      const f32 = this.mod.HEAPF32;
      const base = wordsPtr >> 2;
      const results = [];
      let at = 0;
      for (let r = 0; r < count; r++) {
        const n = at < words ? i32[base + at] : -1;
        if (n < 0 || at + 1 + 2 * n > words) {
          throw new EdgebertError('Internal', `${what}: eb_run_classify's ${words} words end inside request ${first + r}'s labels`);
        }
        at += 1;
        const list = new Array(n);
        for (let k = 0; k < n; k++, at += 2) {
          const id = i32[base + at];
          if (!(id >= 0 && id < labels.length)) {
            throw new EdgebertError('Internal', `${what}: eb_run_classify returned label id ${id}; the model has ${labels.length} labels`);
          }
          list[k] = { label: labels[id], score: f32[base + at + 1] };
        }
        results.push(list);
      }
      if (at !== words) throw new EdgebertError('Internal', `${what}: eb_run_classify returned ${words} words for ${count} requests, ${at} read`);
      return results;
    } finally {
      if (wordsPtr) this.free(wordsPtr);
      this.free(out);
      this.free(reqPtr);
    }
  }

  freeModel(handle) {
    if (!this.has('eb_model_free') || this.trapped) return;
    this._call('eb_model_free', handle, `free model ${handle}`, handle);
  }

  /**
   * The NUL-terminated UTF-8 string at ptr. A short ASCII one (most responses of a short call) is
   * read here: the glue's TextDecoder call costs more than the decoding (0.015 -> 0.005 ms in the
   * stage timing of a 16-token call in Chromium's worker, cold after the encoder ran); anything
   * else goes through the glue.
   */
  _text(ptr) {
    const heap = this.mod.HEAPU8;
    let end = ptr;
    for (; heap[end] !== 0; end++) {
      if (heap[end] > 127 || end - ptr >= SHORT_TEXT) return this.mod.UTF8ToString(ptr);
    }
    return String.fromCharCode.apply(null, heap.subarray(ptr, end));
  }

  _string(s) {
    const n = this.mod.lengthBytesUTF8(s) + 1;
    const ptr = this.malloc(n);
    this.mod.stringToUTF8(s, ptr, n);
    return ptr;
  }

  /** Calls fn(...args, char** out) and parses the eb_malloc'd JSON it returns, then frees it. */
  _outJson(name, handle, what, ...args) {
    const out = this.malloc(4);
    try {
      this.mod.HEAPU32[out >> 2] = 0;
      const rc = this._call(name, handle, what, ...args, out);
      if (rc !== 0) throw errorFromStatus(rc, this.lastError(), `${what} failed`);
      const strPtr = this.mod.HEAPU32[out >> 2];
      if (!strPtr) throw new EdgebertError('Internal', `${what}: ${name} returned Ok without a result`);
      const text = this._text(strPtr);
      this.free(strPtr);
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new EdgebertError('Internal', `${what}: ${name} returned invalid JSON (${err.message}): ${text.slice(0, 200)}`);
      }
    } finally {
      this.free(out);
    }
  }

  /**
   * Every engine call goes through here: traps become WasmTrap, or OutOfMemory when the heap failed
   * to grow during the call (C++ aborts when new cannot allocate); details.trap marks both, and the
   * service replaces this instance.
   */
  _call(name, handle, what, ...args) {
    if (this.trapped) {
      throw new EdgebertError('WasmTrap', `the engine trapped earlier and is being replaced; ${what} was not run`, { trap: 'earlier', handle });
    }
    const fn = this.mod[`_${name}`];
    if (typeof fn !== 'function') this.require([name], what);
    const memory = this.mod.edgebertMemory;
    const failuresBefore = memory ? memory.growFailures : 0;
    try {
      return fn(...args);
    } catch (err) {
      if (!isWasmTrap(err)) throw err;
      this.trapped = true;
      const trap = `${err.name}: ${err.message}`;
      if (memory && memory.growFailures > failuresBefore) {
        throw new EdgebertError('OutOfMemory',
          `out of memory during ${what}: the wasm heap could not grow from ${memory.heapBytes()} to ${memory.lastFailedBytes} bytes ` +
          '(the 4 GiB wasm32 limit, or the browser\'s); use a smaller model or shorter inputs.',
          { trap, handle, requested: memory.lastFailedBytes });
      }
      throw new EdgebertError('WasmTrap',
        `the engine trapped during ${what} (${trap}); this is a bug in edgebert, please report it with the input.`,
        { trap, handle });
    }
  }
}
