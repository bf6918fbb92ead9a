// index.mjs: the public JS API: pipeline(task, source, options), tokenizer(source), getBuildInfo(),
// createRuntime(). The engine runs in a worker (browsers, Node worker_threads) or in-process
// ('inline', and wherever there is no Worker); the API is the same either way.

import { Client, createInlinePorts, serve } from './protocol.mjs';
import { createService } from './service.mjs';
import { EdgebertError } from './errors.mjs';
import { sourceLabel } from './sources.mjs';
import { adaptCallOptions, adaptLoadOptions, defaultModelSource, env, progressAdapter, resolveSource } from './compat.mjs';
import { defaultCacheDir } from './cache.mjs';
import { buildRequests, resolveTask } from './tasks.mjs';

export { EdgebertError, ERROR_CODES } from './errors.mjs';
export { Tensor } from './tensor.mjs';
export { DEFAULT_MODELS, env } from './compat.mjs';

// Where the wasm build is, relative to this file: the same in this repository and in the npm
// package (build/wasm/wasm/ next to worker/). Written as new URL('literal', import.meta.url), the
// form bundlers (Vite, webpack, esbuild with a plugin) recognise and copy. import.meta.url is
// undefined in workerd before compatibility date 2026-11-17: then nothing is located here (no
// throw at import), and the wasm comes from the 'workerd' entry (workerd.mjs) or the options.
const HERE = typeof import.meta.url === 'string' && import.meta.url !== '' ? import.meta.url : undefined;
const DEFAULT_GLUE_URL = HERE && new URL('../build/wasm/wasm/edgebert.mjs', import.meta.url).href;
const DEFAULT_WASM_URL = HERE && new URL('../build/wasm/wasm/edgebert.wasm', import.meta.url).href;
const DEFAULT_THREADS_GLUE_URL = HERE && new URL('../build/wasm/wasm/edgebert-threads.mjs', import.meta.url).href;
const DEFAULT_THREADS_WASM_URL = HERE && new URL('../build/wasm/wasm/edgebert-threads.wasm', import.meta.url).href;

const isNode = () => typeof process === 'object' && !!process.versions && !!process.versions.node;
const hasBrowserWorker = () => !isNode() && typeof globalThis.Worker === 'function';
// Current workerd (nodejs_compat) defines process.versions.node but has no worker_threads Worker.
const isWorkerd = () => !!globalThis.navigator && globalThis.navigator.userAgent === 'Cloudflare-Workers';

const RUNTIME_OPTIONS = ['device', 'wasmModule', 'wasmUrl', 'glueUrl', 'moduleFactory', 'threads', 'threadsGlueUrl', 'threadsWasmUrl',
  'relaxedSimd', 'relaxedKernelModule'];
const LOAD_OPTIONS = ['onProgress', 'signal', 'cache', 'cacheDir', 'runtime', 'quantization', 'maxFileSize', 'downloadTimeoutMs'];

/**
 * One engine (wasm instance) in a worker or in-process. Pipelines share the default runtime so
 * memory freed by one model's dispose() is reused by the next.
 */
export class Runtime {
  constructor(client, device, info, terminate) {
    this.client = client;
    this.device = device;
    /** Which build runs: { version, build, threads, threadsRequested, threadsReason, simd, relaxed_simd, abi, ... } */
    this.info = info;
    this._terminate = terminate;
    this._closed = false;
  }

  /** True after close() or when the worker died. */
  get closed() {
    return this._closed || !!this.client.closedError;
  }

  /** Stops the worker (or drops the inline engine); pending requests fail with Disposed. */
  async close() {
    if (this._closed) return;
    this._closed = true;
    this.client.close(new EdgebertError('Disposed', 'the runtime was closed'));
    await this._terminate();
  }
}

/**
 * @param {object} [options]
 * @param {'worker'|'inline'} [options.device] default: 'worker' where a Worker exists, else 'inline'
 * @param {WebAssembly.Module} [options.wasmModule] precompiled edgebert.wasm (edge runtimes)
 * @param {boolean} [options.relaxedSimd] false: keep the SIMD128 GEMM kernel even where the
 *   relaxed-SIMD one runs (results are the same bits; only speed differs)
 * @param {WebAssembly.Module} [options.relaxedKernelModule] precompiled worker/relaxed_kernel.wasm (edge runtimes)
 * @param {string|URL} [options.wasmUrl] where edgebert.wasm is
 * @param {string|URL} [options.glueUrl] where edgebert.mjs is
 * @param {Function} [options.moduleFactory] edgebert.mjs's default export, when bundled (inline only)
 * @param {'auto'|number} [options.threads] 'auto': the pthreads build where it can run (cross-origin
 *   isolated pages), else single-thread; a number > 1 that cannot be met is an Unsupported error
 * @param {string|URL} [options.threadsGlueUrl] where edgebert-threads.mjs is (with threadsWasmUrl)
 * @param {string|URL} [options.threadsWasmUrl] where edgebert-threads.wasm is
 * @returns {Promise<Runtime>}
 */
export async function createRuntime(options = {}) {
  checkOptionNames('createRuntime', options, RUNTIME_OPTIONS);
  options = withPlatformDefaults(withEnvLocations(options));
  const device = options.device || (!isWorkerd() && (isNode() || hasBrowserWorker()) ? 'worker' : 'inline');
  if (device !== 'worker' && device !== 'inline') {
    throw new EdgebertError('InvalidArgument', `device must be 'worker' or 'inline', got ${JSON.stringify(device)}`);
  }
  if (!options.moduleFactory && !options.glueUrl && !DEFAULT_GLUE_URL) throw noLocationError('edgebert.mjs (glueUrl or moduleFactory)');
  if (!options.wasmModule && !options.wasmUrl && !DEFAULT_WASM_URL) throw noLocationError('edgebert.wasm (wasmUrl or wasmModule)');
  const init = {
    glueUrl: options.moduleFactory ? undefined : await absoluteLocation(options.glueUrl || DEFAULT_GLUE_URL),
    wasmUrl: options.wasmModule ? undefined : await absoluteLocation(options.wasmUrl || DEFAULT_WASM_URL),
    wasmModule: options.wasmModule,
    threads: options.threads === undefined ? 'auto' : options.threads,
  };
  if (options.relaxedSimd !== undefined) {
    if (typeof options.relaxedSimd !== 'boolean') {
      throw new EdgebertError('InvalidArgument', `relaxedSimd must be true or false, got ${JSON.stringify(options.relaxedSimd)}`);
    }
    init.relaxedSimd = options.relaxedSimd;
  }
  if (options.relaxedKernelModule !== undefined) {
    if (Object.prototype.toString.call(options.relaxedKernelModule) !== '[object WebAssembly.Module]') {
      throw new EdgebertError('InvalidArgument', 'relaxedKernelModule must be a compiled WebAssembly.Module (worker/relaxed_kernel.wasm)');
    }
    init.relaxedKernelModule = options.relaxedKernelModule;
  }
  // The pthreads build (edgebert-threads.mjs/.wasm + .worker.js): by default the one next to the
  // default single-thread build, and only when the single-thread build is the default one too
  // (never mix files of two builds).
  const customSingle = options.glueUrl || options.wasmUrl || options.wasmModule || options.moduleFactory;
  if (options.threadsGlueUrl || options.threadsWasmUrl) {
    if (!options.threadsGlueUrl || !options.threadsWasmUrl) {
      throw new EdgebertError('InvalidArgument', 'threadsGlueUrl and threadsWasmUrl go together (the pthreads glue and its wasm)');
    }
    init.threadsGlueUrl = await absoluteLocation(options.threadsGlueUrl);
    init.threadsWasmUrl = await absoluteLocation(options.threadsWasmUrl);
  } else if (!customSingle && DEFAULT_THREADS_GLUE_URL) {
    init.threadsGlueUrl = DEFAULT_THREADS_GLUE_URL;
    init.threadsWasmUrl = DEFAULT_THREADS_WASM_URL;
  }
  let client;
  let terminate;
  if (device === 'inline') {
    const [mine, theirs] = createInlinePorts();
    serve(theirs, createService({ factory: options.moduleFactory }));
    client = new Client(mine);
    terminate = async () => {};
  } else {
    if (!isNode() && !hasBrowserWorker()) {
      throw new EdgebertError('Unsupported', "device 'worker' needs Worker, which this environment does not have; use device: 'inline'");
    }
    if (options.moduleFactory) {
      throw new EdgebertError('InvalidArgument', "moduleFactory cannot be sent to a worker (functions do not cross postMessage); give glueUrl, or use device: 'inline'");
    }
    ({ client, terminate } = await startWorker());
  }
  const runtime = new Runtime(client, device, null, terminate);
  try {
    runtime.info = await client.request('init', { options: init });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  return runtime;
}

// Set by an entry that brings the engine itself (workerd.mjs: the wasm and glue as module imports);
// used when the caller names no engine location of their own.
let platformDefaults = null;

/** @internal for workerd.mjs: { moduleFactory, wasmModule, relaxedKernelModule?, device? }. */
export function setPlatformDefaults(defaults) {
  platformDefaults = defaults;
}

// env.wasmPaths (transformers.js): a folder URL holding edgebert.mjs/.wasm (and the pthreads files),
// or an object from those file names to URLs.
function withEnvLocations(options) {
  const where = env.wasmPaths;
  if (!where || options.glueUrl || options.wasmUrl || options.wasmModule || options.moduleFactory) return options;
  const at = (file) => (typeof where === 'object' ? where[file] : `${String(where).replace(/\/?$/, '/')}${file}`);
  const out = { ...options, glueUrl: at('edgebert.mjs'), wasmUrl: at('edgebert.wasm') };
  if (!out.glueUrl || !out.wasmUrl) throw new EdgebertError('InvalidArgument', "env.wasmPaths as an object needs 'edgebert.mjs' and 'edgebert.wasm'");
  if (!options.threadsGlueUrl && at('edgebert-threads.mjs') && at('edgebert-threads.wasm')) {
    out.threadsGlueUrl = at('edgebert-threads.mjs');
    out.threadsWasmUrl = at('edgebert-threads.wasm');
  }
  return out;
}

function withPlatformDefaults(options) {
  if (!platformDefaults || options.glueUrl || options.wasmUrl || options.wasmModule || options.moduleFactory) return options;
  const out = { ...options };
  for (const [k, v] of Object.entries(platformDefaults)) if (out[k] === undefined) out[k] = v;
  return out;
}

function noLocationError(what) {
  return new EdgebertError('InvalidArgument',
    `cannot locate ${what}: import.meta.url is undefined in this runtime (workerd before compatibility date ` +
    "2026-11-17, some bundlers), so the files next to this module cannot be found; import 'edgebert/workerd' " +
    "(bundlers that know the 'workerd' condition, such as wrangler, pick it for 'edgebert'), or pass wasmModule and moduleFactory");
}

async function startWorker() {
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(new URL('./worker.mjs', import.meta.url));
    // An idle worker must not keep Node alive; a busy one must.
    const client = new Client(portOf(worker, (cb) => worker.on('message', cb)), { onIdle: () => worker.unref() });
    const request = client.request.bind(client);
    client.request = (...args) => { worker.ref(); return request(...args); };
    worker.on('error', (err) => client.close(new EdgebertError('WorkerError', `the edgebert worker failed: ${err && err.message}`)));
    worker.on('exit', (code) => client.close(new EdgebertError('WorkerError', `the edgebert worker exited (code ${code})`)));
    return { client, terminate: () => worker.terminate().then(() => {}) };
  }
  // Written in the literal form bundlers (Vite, webpack, esbuild) recognise and rewrite.
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  const client = new Client(portOf(worker, (cb) => worker.addEventListener('message', (e) => cb(e.data))));
  worker.addEventListener('error', (e) => client.close(new EdgebertError('WorkerError',
    `the edgebert worker failed: ${e && e.message ? e.message : 'it could not start (check that worker.mjs is served with a JavaScript MIME type)'}`)));
  worker.addEventListener('messageerror', () => client.close(new EdgebertError('WorkerError', 'a message from the edgebert worker could not be read')));
  return { client, terminate: async () => worker.terminate() };
}

function portOf(worker, onMessage) {
  return { postMessage: (msg, transfer) => worker.postMessage(msg, transfer), onMessage };
}

// The shared runtime per device and engine location (not for wasmModule/moduleFactory: those
// get a runtime of their own, closed with their pipeline).
const sharedRuntimes = new Map();

async function runtimeFor(options) {
  if (options.runtime) {
    if (!(options.runtime instanceof Runtime)) throw new EdgebertError('InvalidArgument', 'runtime must come from createRuntime()');
    if (options.runtime.closed) throw new EdgebertError('Disposed', 'the runtime was closed');
    return { runtime: options.runtime, owned: false };
  }
  const ro = withEnvLocations(pick(options, RUNTIME_OPTIONS));
  // A caller's own module gets a runtime of its own. Platform defaults (workerd.mjs) are filled in by
  // createRuntime, so that runtime is shared like the one at the default locations.
  if (ro.wasmModule || ro.moduleFactory) return { runtime: await createRuntime(ro), owned: true };
  const key = JSON.stringify([ro.device || '', String(ro.glueUrl || ''), String(ro.wasmUrl || ''), ro.threads === undefined ? 'auto' : ro.threads,
    String(ro.threadsGlueUrl || ''), String(ro.threadsWasmUrl || '')]);
  let entry = sharedRuntimes.get(key);
  if (!entry) {
    entry = createRuntime(ro);
    sharedRuntimes.set(key, entry);
    entry.catch(() => sharedRuntimes.delete(key));
  }
  const runtime = await entry;
  if (runtime.closed) {
    sharedRuntimes.delete(key);
    return runtimeFor(options);
  }
  return { runtime, owned: false };
}

/** Closes the shared runtimes (their workers stop; their models are gone). Pipelines using them fail with Disposed. */
export async function closeSharedRuntimes() {
  const entries = [...sharedRuntimes.values()];
  sharedRuntimes.clear();
  await Promise.all(entries.map((p) => p.then((r) => r.close(), () => {})));
}

/** Which build runs and what it supports (the shared runtime, started if needed). */
export async function getBuildInfo(options = {}) {
  checkOptionNames('getBuildInfo', options, [...RUNTIME_OPTIONS, 'runtime']);
  const { runtime, owned } = await runtimeFor(options);
  const info = runtime.info;
  if (owned) await runtime.close();
  return info;
}

async function loadModel(what, source, rawOptions) {
  // transformers.js's spellings (progress_callback, dtype, revision, ...) first, then our checks.
  const adapted = adaptLoadOptions(what, rawOptions);
  checkOptionNames(what, adapted.options, [...RUNTIME_OPTIONS, ...LOAD_OPTIONS]);
  const options = { ...adapted.options };
  if (options.cacheDir === undefined && env.cacheDir) options.cacheDir = env.cacheDir;
  if (options.cache === undefined && (isNode() ? env.useFSCache === false : env.useBrowserCache === false)) options.cache = false;
  const { description, tried } = await resolveSource(source, { revision: adapted.revision, localFilesOnly: adapted.localFilesOnly, what });
  const progress = progressAdapter(options.onProgress, typeof source === 'string' ? source : sourceLabel(description));
  const { runtime, owned } = await runtimeFor(options);
  const client = runtime.client;
  // A load cancelled here that the worker ran anyway is disposed as soon as its result arrives.
  client.hooks.onLateResult = client.hooks.onLateResult || ((type, result) => {
    if (type === 'load' && result && result.model !== undefined) client.request('dispose', { model: result.model }).catch(() => {});
  });
  // A worker_threads Worker got a copy of process.env when it started: resolve the default cache
  // folder here, so EDGEBERT_CACHE_DIR set later still applies.
  // Downloads and converted checkpoints are cached; a runtime that denies reading the environment
  // or the home folder (Deno without --allow-env / --allow-sys) loads without the cache rather
  // than failing.
  let cacheDir = options.cacheDir;
  let cache = options.cache;
  if (cacheDir === undefined && cache !== false && isNode() && ['url', 'hf', 'hf-files'].includes(description.kind)) {
    try {
      cacheDir = await defaultCacheDir();
    } catch (err) {
      if (!isPermissionError(err)) throw err;
      cache = false;
      // A local checkpoint just loads without its conversion cached: no note for what was not asked.
      if (description.kind !== 'hf-files') cacheNote(`edgebert: no model cache (the runtime denies what finding the cache folder needs: ${err.message}); ` +
        'give cacheDir, or allow environment access (deno --allow-env --allow-sys)');
    }
  }
  let loaded;
  try {
    if (options.quantization !== undefined && !['int8', 'fp32'].includes(options.quantization)) {
      throw new EdgebertError('InvalidArgument', `${what}: quantization must be 'int8' or 'fp32', got ${JSON.stringify(options.quantization)}`);
    }
    loaded = await client.request('load', { source: description, options: { cache, cacheDir, quantization: options.quantization,
      maxFileSize: options.maxFileSize, downloadTimeoutMs: options.downloadTimeoutMs } },
      { signal: options.signal, onProgress: progress.onProgress });
  } catch (err) {
    if (owned) await runtime.close();
    // A bare name taken for a Hub id after no local file or folder had it: say both.
    if (tried.length && err instanceof EdgebertError && ['HttpError', 'NetworkError'].includes(err.code)) {
      err.message = `${JSON.stringify(source)} is not a local file or folder (tried ${tried.join(', ')}), and as a Hub id: ${err.message}`;
    }
    throw err;
  }
  return { runtime, owned, loaded, ready: progress.ready };
}

function makeCallable(taskName, runtime, owned, loaded, buildInfo) {
  const { model, info } = loaded;
  let disposed = false;
  const call = async (...args) => {
    if (disposed) throw new EdgebertError('Disposed', `this ${taskName} pipeline was disposed`);
    // A trailing { signal } is ours, not the task's: pull it out of the options object.
    let signal;
    let last = args[args.length - 1];
    if (args.length > 1 && last && typeof last === 'object' && !Array.isArray(last) && !('question' in last)) {
      last = args[args.length - 1] = adaptCallOptions(last);  // top_k -> topK, ...
    }
    if (last && typeof last === 'object' && !Array.isArray(last) && 'signal' in last && !('question' in last)) {
      const { signal: s, ...rest } = last;
      signal = s;
      args[args.length - 1] = rest;
    }
    const { engineTask, requests, batchSize, shape } = buildRequests(taskName, args);
    const outs = await runtime.client.request('run', { model, task: engineTask, requests, batchSize }, { signal });
    return shape(outs);
  };
  call.task = taskName;
  call.info = { model: info, build: buildInfo, files: loaded.files, conversion: loaded.conversion || 'none' };
  if (loaded.conversionMs !== undefined) call.info.conversionMs = loaded.conversionMs;
  call.dispose = async () => {
    if (disposed) return;
    disposed = true;
    try {
      if (!runtime.closed) await runtime.client.request('dispose', { model });
    } finally {
      if (owned) await runtime.close();
    }
  };
  return call;
}

/**
 * @param {string} task 'text-classification' ('sentiment-analysis'), 'token-classification' ('ner'),
 *   'question-answering', 'feature-extraction', 'sentence-embeddings', 'fill-mask'
 * @param {*} source see describeSource in sources.mjs and docs/API.md
 * @param {object} [options] onProgress, signal, cache, cacheDir, runtime, and the createRuntime options
 */
export async function pipeline(task, source, options = {}) {
  const spec = resolveTask(task);
  // No model: edgebert's own model for the task (compat.mjs DEFAULT_MODELS), as transformers.js
  // picks a default per task.
  if (source === undefined || source === null) source = await defaultModelSource(spec.name, `pipeline(${JSON.stringify(task)})`);
  const { runtime, owned, loaded, ready } = await loadModel(`pipeline(${JSON.stringify(task)})`, source, options);
  const tasks = loaded.info && Array.isArray(loaded.info.tasks) ? loaded.info.tasks : null;
  if (tasks && !tasks.includes(spec.engine)) {
    await runtime.client.request('dispose', { model: loaded.model }).catch(() => {});
    if (owned) await runtime.close();
    throw new EdgebertError('Unsupported',
      `this model (${loaded.info.architecture || loaded.info.model_type || 'unknown architecture'}) cannot do ${spec.name}; ` +
      `it supports ${tasks.join(', ')}`);
  }
  ready(spec.name);
  return makeCallable(spec.name, runtime, owned, loaded, runtime.info);
}

/**
 * tokenizer(source) -> tok(text, { textPair, addSpecialTokens, truncation, maxLength }) resolving
 * to { input_ids, token_type_ids, attention_mask, tokens, offset_mapping, word_ids, special_tokens_mask }.
 */
export async function tokenizer(source, options = {}) {
  const { runtime, owned, loaded } = await loadModel('tokenizer', source, options);
  return makeCallable('tokenize', runtime, owned, loaded, runtime.info);
}

/**
 * Relative locations are the caller's: a path against the working directory in Node, a URL
 * against the page elsewhere. Resolved here, before a worker (with its own base URL) sees them.
 */
async function absoluteLocation(where) {
  if (where instanceof URL) return where.href;
  const s = String(where);
  if (/^[a-z][a-z0-9+.-]*:/i.test(s)) return s;
  if (isNode()) {
    const { resolve } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    return pathToFileURL(resolve(s)).href;
  }
  const base = globalThis.location && globalThis.location.href;
  if (!base) throw new EdgebertError('InvalidArgument', `${JSON.stringify(s)} is relative and there is no page URL to resolve it against; give an absolute URL`);
  return new URL(s, base).href;
}

// Deno's PermissionDenied / NotCapable: a missing --allow-* flag.
function isPermissionError(err) {
  return !!err && (err.name === 'NotCapable' || err.name === 'PermissionDenied' || err.code === 'ERR_ACCESS_DENIED');
}

let cacheNoted = false;
function cacheNote(message) {
  if (cacheNoted) return;
  cacheNoted = true;
  console.warn(message);
}

function checkOptionNames(what, options, allowed) {
  if (options === null || typeof options !== 'object') {
    throw new EdgebertError('InvalidArgument', `${what}: options must be an object`);
  }
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name)) {
      throw new EdgebertError('InvalidArgument', `${what}: unknown option ${JSON.stringify(name)}; expected one of ${allowed.join(', ')}`);
    }
  }
}

function pick(obj, names) {
  const out = {};
  for (const n of names) if (obj[n] !== undefined) out[n] = obj[n];
  return out;
}
