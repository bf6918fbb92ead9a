// service.mjs: the request handlers behind the protocol (init, load, run, dispose, info). They run
// in the worker, or in-process for device 'inline'; they own the engine and the loaded models.
//
// Requests run in lanes (protocol.mjs): one per model for run/dispose, one per load, one for the
// engine itself; so a download never holds up requests to models already loaded. Engine calls are
// synchronous, so two lanes never interleave inside the engine.
//
// A trap (or an abort, or an out-of-memory failure inside the engine) leaves the wasm instance in an
// unknown state: the service throws it away, starts a fresh one and reloads every live model
// from what it kept (the source description: bytes, Blob, path, or the URL through the cache),
// under the same model ids. Only the request that trapped fails; requests that arrive meanwhile
// wait for the restart.

import { Engine, MODEL_ABI } from './engine.mjs';
import { EdgebertError } from './errors.mjs';
import { conversionKey, openCache, sha256Hex } from './cache.mjs';
import { WASM_MAX_FILE_BYTES, checkDownloadOptions, commitToCache, evictFromCache, fetchFiles } from './fetch.mjs';
import { LANE_OF } from './protocol.mjs';
import { fileSpecs, sourceLabel } from './sources.mjs';
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from './tasks.mjs';

export const ENGINE_TASKS = Object.freeze([
  'text-classification', 'token-classification', 'question-answering', 'feature-extraction', 'fill-mask', 'tokenize',
]);

// Engine failures that say the files are bad (as opposed to the machine: memory, traps).
const FILE_FAULTS = new Set(['InvalidArgument', 'NotFound', 'CorruptData', 'Unsupported', 'OutOfRange']);

/**
 * @param {{factory?: Function}} [inlineOptions] things that cannot cross postMessage (a bundled
 *   glue factory), available to 'init' only in inline mode
 */
export function createService(inlineOptions = {}) {
  let engine = null;
  let initializing = null;
  let createOptions = null;  // Engine.create's options, for restarts
  let restarting = null;     // Promise while a fresh instance starts and the models reload
  let restarts = 0;
  let lastRestart = null;    // why the last restart happened
  let nextModel = 1;
  // id -> { handle, info, label, source, options, error }: ids are ours and survive restarts;
  // handle is the current engine's (null when the model could not be reloaded: error says why).
  const models = new Map();
  const disposed = new Set(); // ids disposed, for a clear error on later use

  /** The engine, once any restart in progress has finished. */
  const ready = async () => {
    if (restarting) await restarting;
    if (!engine) throw new EdgebertError('InvalidArgument', 'the runtime is not initialized: send init first');
    return engine;
  };

  const modelFor = (id) => {
    if (models.has(id)) return models.get(id);
    if (disposed.has(id)) throw new EdgebertError('Disposed', `model ${id} was disposed; load it again`);
    throw new EdgebertError('NotFound', `no model with handle ${id} in this runtime`);
  };

  /**
   * After a trap: a fresh instance, and every live model loaded into it again. Runs once however
   * many requests saw the trap; returns at once (callers that need the engine await ready()).
   */
  const restart = (reason) => {
    if (restarting) return;
    if (engine) engine.discard();  // its workers stop; its memory goes with the last reference
    engine = null;
    restarts += 1;
    lastRestart = reason;
    restarting = (async () => {
      const skip = new Set();  // models whose reload trapped: not tried again in this restart
      for (;;) {
        let fresh;
        try {
          fresh = await Engine.create(createOptions);
        } catch (err) {
          // Nothing can run without an engine: every later request says why.
          for (const m of models.values()) { m.handle = null; m.error = `the engine could not be restarted: ${err.message}`; }
          return;
        }
        fresh.restarts = restarts;
        fresh.lastRestart = lastRestart;
        engine = fresh;
        let again = false;
        for (const [id, m] of models) {
          m.handle = null;
          if (skip.has(id)) continue;
          try {
            await loadInto(fresh, m.source, { ...m.options, cache: true }, { inRestart: true }, (handle) => {
              m.handle = handle;
              m.error = null;
            });
          } catch (err) {
            m.error = `it could not be reloaded after the engine restarted: ${err.message}`;
            if (err.details && err.details.trap) {
              // Its reload trapped: this instance is unusable too; start over without it.
              skip.add(id);
              again = true;
              break;
            }
          }
        }
        if (!again) return;
      }
    })().finally(() => { restarting = null; });
  };

  /** Runs fn(engine); a trap there restarts the engine before the error goes to the caller. */
  const withEngine = (eng, fn) => {
    try {
      return fn(eng);
    } catch (err) {
      if (err && err.details && err.details.trap) {
        // WasmTrap, or OutOfMemory seen as a trap: the instance's state is unknown after it.
        restart(err.message);
        err.message += ' The engine was restarted and the loaded models reloaded; only this request failed.';
      }
      throw err;
    }
  };

  /**
   * Fetches a source's files (JS memory) and loads them into `eng` (or the engine that replaced
   * it meanwhile). onLoaded(handle, info) runs right after the engine call, before anything else
   * can run, so a restart that happens later (while the cache is written) reloads this model too.
   * Cache entries are written only once the engine accepted the files; cached copies the engine
   * refuses are removed.
   *
   * A checkpoint converted to int8 goes through the conversion cache: its packed result is stored
   * under conversionKey (source, revision, engine version, every file's identity) and the next
   * load of the same files reads that instead of converting. The key is computed as soon as every
   * file is open when their identities are known then (ETags, cache entries, local files), so a hit
   * reads no checkpoint byte; otherwise (Blobs, bytes, servers without ETags) after reading them,
   * from their sha256, and a hit saves the conversion.
   * @returns {Promise<{files: Map, conversion: 'none'|'converted'|'cached', conversionMs?: number}>}
   */
  const loadInto = async (eng, source, o, ctx, onLoaded) => {
    const label = sourceLabel(source);
    const isRepo = source.kind === 'hf' || source.kind === 'hf-files';
    // Fail before downloading anything when this build cannot use the files.
    eng.require(isRepo ? ['eb_convert_hf', ...MODEL_ABI] : MODEL_ABI, `load ${label}`);
    const quantization = o.quantization || 'int8';
    if (quantization !== 'int8' && !isRepo) {
      throw new EdgebertError('InvalidArgument', `quantization 'fp32' needs a checkpoint (a repository or its files); ${label} is a packed int8 model`);
    }
    // The conversion cache hashes (sha256 needs crypto.subtle: absent on insecure http pages).
    const converts = isRepo && quantization === 'int8';
    const keyable = converts && !!(globalThis.crypto && globalThis.crypto.subtle);
    const cacheable = source.kind === 'url' || source.kind === 'hf' || keyable;
    // cache: false still writes: it refreshes the entry (downloads anew and replaces it), where a
    // cache can be opened at all (a runtime may deny what finding the folder needs).
    const cache = !cacheable ? null
      : o.cache === false ? await openCache({ cacheDir: o.cacheDir }).catch(() => null)
        : await openCache({ cacheDir: o.cacheDir });
    // Reading the conversion cache: not with cache: false, nor after its entry failed (ctx.noConverted).
    const readConverted = keyable && !!cache && o.cache !== false && !ctx.noConverted;
    const version = converts ? eng.version() : '';
    let key = null;
    let hit = null;  // the converted entry, open
    const lookUp = async (named) => {
      key = await conversionKey(source, version, named, quantization);
      if (readConverted) hit = await cache.get(key).catch(() => null);
      return !!hit;
    };
    const specs = fileSpecs(source);
    // config.json first, so its check runs before any weight byte is read.
    specs.sort((a, b) => (b.name === 'config.json') - (a.name === 'config.json'));
    const files = await fetchFiles(specs, {
      signal: ctx.signal,
      onProgress: ctx.progress,
      cache,
      readCache: o.cache !== false,
      maxFileSize: o.maxFileSize,
      downloadTimeoutMs: o.downloadTimeoutMs,
      // The JS look first (any build), then the engine's full check where the build has it.
      validate: isRepo ? { 'config.json': (bytes) => {
        checkConfigJson(bytes);
        const current = ctx.inRestart ? eng : engine;
        if (current) withEngine(current, (e) => e.checkConfig(bytes));
      } } : {},
      beforeRead: readConverted ? async (opened) => (opened.every((f) => f.identity)
        ? lookUp(opened.map((f) => [f.name, f.identity])) : false) : undefined,
    });
    if (keyable && cache && files) {
      // Identities still unknown (Blobs, bytes, no ETag): the sha256 of the bytes, stored with
      // the downloaded copies too so that their next load knows it without reading them.
      for (const f of files.values()) {
        if (!f.identity) f.identity = `sha256:${await sha256Hex(f.bytes())}`;
      }
      if (key === null && cache) await lookUp([...files].map(([name, f]) => [name, f.identity]));
    }
    if (hit) {
      try {
        return await loadConverted(eng, source, o, ctx, onLoaded, cache, key, hit, label, files);
      } catch (err) {
        if (!(err && err.converted)) throw err;
        // The entry failed a check and is gone: convert again, from the files.
        return loadInto(eng, source, o, { ...ctx, noConverted: true }, onLoaded);
      }
    }
    // The engine may have been restarted while we downloaded (a restart's own reloads go on
    // with the instance it started).
    eng = await currentEngine(eng, ctx, label);
    let loaded;
    try {
      loaded = withEngine(eng, (e) => engineLoad(e, files, isRepo, quantization, label, key !== null));
      onLoaded(loaded.handle, loaded.info);
    } catch (err) {
      if (FILE_FAULTS.has(err.code)) await evictFromCache(cache, files);
      throw err;
    }
    await commitToCache(cache, files);
    if (loaded.packed && key) {  // only now: nothing the engine refused is cached
      try {
        await cache.put(key, loaded.packed);
      } catch { /* best effort: the next load converts again */ }
    }
    return { files, conversion: converts ? 'converted' : 'none', conversionMs: loaded.conversionMs };
  };

  /** After a download, the engine to load into: the current one (it may have been restarted). */
  const currentEngine = async (eng, ctx, label) => {
    if (ctx.inRestart) return eng;
    if (restarting) await restarting;
    if (!engine) throw new EdgebertError('Internal', `cannot load ${label}: the engine could not be restarted after a trap`);
    return engine;
  };

  /**
   * Loads the packed model a previous load converted from the same files (its cache entry, open).
   * Anything wrong with the entry (short, unreadable, refused by the engine) removes it and
   * throws an error marked `converted`, for the caller to convert anew.
   */
  const loadConverted = async (eng, source, o, ctx, onLoaded, cache, key, hit, label) => {
    const spec = { name: 'model.ebm', url: key, cached: true, open: async () => hit };
    let files;
    try {
      files = await fetchFiles([spec], { signal: ctx.signal, onProgress: ctx.progress, cache,
        maxFileSize: o.maxFileSize, downloadTimeoutMs: o.downloadTimeoutMs });
    } catch (err) {
      if (err && err.code === 'Cancelled') throw err;
      await cache.remove(key).catch(() => {});
      err.converted = true;
      throw err;
    }
    eng = await currentEngine(eng, ctx, label);
    try {
      const { handle, info } = withEngine(eng, (e) => engineLoad(e, files, false, 'int8', `${label} (converted earlier, from the cache)`));
      onLoaded(handle, info);
    } catch (err) {
      if (FILE_FAULTS.has(err.code)) {
        await cache.remove(key).catch(() => {});
        err.converted = true;
      }
      throw err;
    }
    return { files, conversion: 'cached' };
  };

  const handlers = {
    async init(msg) {
      if (engine || initializing) {
        throw new EdgebertError('InvalidArgument', 'init was already called for this runtime (one engine per worker)');
      }
      const o = msg.options || {};
      createOptions = {
        factory: inlineOptions.factory || undefined,
        glueUrl: o.glueUrl,
        wasm: o.wasmModule || o.wasmUrl,
        threads: o.threads === undefined ? 'auto' : o.threads,
        threadsGlueUrl: o.threadsGlueUrl,
        threadsWasm: o.threadsWasmUrl,
        relaxedSimd: o.relaxedSimd !== false,
        relaxedKernel: o.relaxedKernelModule,
      };
      initializing = Engine.create(createOptions);
      try {
        engine = await initializing;
      } finally {
        initializing = null;
      }
      return { result: engine.buildInfo() };
    },

    async info() {
      return { result: (await ready()).buildInfo() };  // with restarts and lastRestart after a trap
    },

    async load(msg, ctx) {
      const eng = await ready();
      const o = msg.options || {};
      checkDownloadOptions(o);
      const source = msg.source;
      // What a restart needs to load it again (never the progress callback or the signal).
      const keep = { quantization: o.quantization, cacheDir: o.cacheDir, cache: o.cache, maxFileSize: o.maxFileSize, downloadTimeoutMs: o.downloadTimeoutMs };
      const id = nextModel++;
      let modelInfo;
      const { files, conversion, conversionMs } = await loadInto(eng, source, o, ctx, (handle, info) => {
        modelInfo = info;
        models.set(id, { handle, info, label: sourceLabel(source), source, options: keep, error: null });
      });
      const result = { model: id, info: modelInfo, files: [...files].map(([name, f]) => ({ name, size: f.size, cached: f.cached, url: f.url })), conversion };
      if (conversionMs !== undefined) result.conversionMs = conversionMs;
      return { result };
    },

    async run(msg) {
      const eng = await ready();
      const m = modelFor(msg.model);
      if (!ENGINE_TASKS.includes(msg.task)) {
        throw new EdgebertError('InvalidArgument', `unknown engine task ${JSON.stringify(msg.task)}; expected one of ${ENGINE_TASKS.join(', ')}`);
      }
      if (!Array.isArray(msg.requests) || msg.requests.length === 0) {
        throw new EdgebertError('InvalidArgument', 'run needs a non-empty array of requests');
      }
      if (m.handle === null) {
        throw new EdgebertError('ModelPoisoned', `model ${msg.model} (${m.label}) is unusable: ${m.error}; dispose it and load it again`);
      }
      const batchSize = msg.batchSize === undefined ? DEFAULT_BATCH_SIZE : msg.batchSize;
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw new EdgebertError('InvalidArgument', `batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${JSON.stringify(batchSize)}`);
      }
      const results = [];
      const transfer = [];
      withEngine(eng, (e) => {
        if (msg.task === 'text-classification' && e.has('eb_run_classify') && labelNames(m)) {
          // Labels and scores as numbers: the same results as eb_run_batch's JSON, without it.
          for (const out of e.classify(m.handle, msg.requests, batchSize, m.labelNames)) results.push(out);
          return;
        }
        if (e.has('eb_run_batch')) {
          // One engine call for all the inputs: padded batches sorted by length; tensors as float32.
          for (const out of e.runBatch(m.handle, msg.task, msg.requests, batchSize)) {
            if (msg.task === 'feature-extraction') transfer.push(out.data.buffer);
            results.push(out);
          }
          return;
        }
        // A build without eb_run_batch: one call per input, tensors as JSON numbers.
        for (const request of msg.requests) {
          const out = e.run(m.handle, msg.task, request);
          if (msg.task === 'feature-extraction') results.push(toTensor(out, transfer));
          else results.push(out);
        }
      });
      return { result: results, transfer };
    },

    async dispose(msg) {
      const eng = await ready();
      if (!models.has(msg.model)) {
        if (disposed.has(msg.model)) return { result: null };  // disposing twice is harmless
        throw new EdgebertError('NotFound', `no model with handle ${msg.model} in this runtime`);
      }
      const m = models.get(msg.model);
      models.delete(msg.model);
      disposed.add(msg.model);
      if (m.handle !== null) withEngine(eng, (e) => e.freeModel(m.handle));
      return { result: null };
    },
  };
  // Lanes (protocol.mjs): requests of one lane run in order, lanes run side by side.
  handlers[LANE_OF] = (msg) => {
    if (msg.type === 'run' || msg.type === 'dispose') return `model:${msg.model}`;
    if (msg.type === 'load') return `load:${msg.id}`;
    return 'engine';
  };
  return handlers;
}

/**
 * Copies the files (JS memory) into the heap and loads them: converted to packed int8, or fp32
 * straight from the checkpoint, or a packed model as it is. Synchronous: nothing else touches the
 * engine meanwhile. Every heap buffer is freed on failure.
 * @param {boolean} [keepPacked] a conversion's packed bytes are copied out of the heap (for the cache)
 * @returns {{handle: number, info: object, packed?: Uint8Array, conversionMs?: number}}
 */
function engineLoad(eng, files, isRepo, quantization, label, keepPacked = false) {
  const refs = {};
  const ptrs = [];
  try {
    for (const [name, f] of files) {
      const bytes = f.bytes();
      const ptr = eng.malloc(Math.max(bytes.byteLength, 1));
      ptrs.push(ptr);
      eng.heap().set(bytes, ptr);
      refs[name] = { ptr, len: bytes.byteLength };
    }
  } catch (err) {
    for (const p of ptrs) eng.free(p);
    throw err;
  }
  let handle;
  let packed;
  let packedCopy;
  let conversionMs;
  if (isRepo && quantization === 'fp32') {
    // The exact path: fp32 weights straight from the checkpoint, no packed int8 file.
    try {
      handle = eng.loadHf(refs, 'fp32', label);
    } finally {
      for (const p of ptrs) eng.free(p);
    }
  } else if (isRepo) {
    const t0 = performance.now();
    try {
      packed = eng.convertHf(refs, label);
    } finally {
      for (const p of ptrs) eng.free(p);
    }
    conversionMs = performance.now() - t0;
    // A copy before the engine owns the bytes (the heap view goes stale when memory grows).
    if (keepPacked) packedCopy = eng.heap().slice(packed.ptr, packed.ptr + packed.len);
  } else {
    packed = Object.values(refs)[0];
  }
  if (handle === undefined) {
    try {
      handle = eng.loadModel(packed.ptr, packed.len, label);
    } catch (err) {
      eng.free(packed.ptr);  // on failure the bytes are still ours
      throw err;
    }
  }
  try {
    return { handle, info: eng.modelInfo(handle), packed: packedCopy, conversionMs };
  } catch (err) {
    eng.freeModel(handle);
    throw err;
  }
}

/**
 * The model's label names by id, from its info's "labels" ({"0": name, ...}, as config.json's
 * id2label), kept on the model entry; null when the info has none in that form.
 */
function labelNames(m) {
  if (m.labelNames === undefined) {
    const byId = m.info && m.info.labels;
    let names = null;
    if (byId && typeof byId === 'object' && !Array.isArray(byId)) {
      const n = Object.keys(byId).length;
      names = [];
      for (let i = 0; i < n; i++) {
        if (typeof byId[i] !== 'string') { names = null; break; }
        names.push(byId[i]);
      }
    }
    m.labelNames = names;
  }
  return m.labelNames;
}

/** Embeddings cross the boundary as a Float32Array (transferred), not as a JSON number list. */
function toTensor(out, transfer) {
  if (!out || !Array.isArray(out.dims) || !Array.isArray(out.data)) {
    throw new EdgebertError('Internal', 'feature-extraction: the engine response lacks dims/data arrays');
  }
  const expected = out.dims.reduce((a, b) => a * b, 1);
  if (expected !== out.data.length) {
    throw new EdgebertError('Internal', `feature-extraction: dims ${JSON.stringify(out.dims)} need ${expected} values, the engine gave ${out.data.length}`);
  }
  const data = Float32Array.from(out.data);
  transfer.push(data.buffer);
  return { dims: out.dims, data };
}

// config.json, first look: checked in JS before the weights are downloaded, so a config the engine
// would refuse (10^6 layers, a vocabulary of 2^40) fails without fetching gigabytes. The engine
// validates the config fully afterwards (src/model/config.cc); these limits mirror its limits and
// only refuse what it would refuse anyway.

// [BERT key, DistilBERT key, the engine's limit] (src/model/config.cc: kMaxDim, kMaxLayers, ...).
const CONFIG_FIELDS = [
  ['num_hidden_layers', 'n_layers', 256],
  ['hidden_size', 'dim', 1 << 16],
  ['num_attention_heads', 'n_heads', 1 << 16],
  ['intermediate_size', 'hidden_dim', 1 << 18],
  ['vocab_size', 'vocab_size', 1 << 22],
  ['max_position_embeddings', 'max_position_embeddings', 1 << 16],
  ['type_vocab_size', 'type_vocab_size', 1 << 16],
];

/**
 * Throws CorruptData (not JSON, not an object) or InvalidArgument (a size field out of range, or a
 * shape whose weights cannot fit in the wasm heap even at 2 bytes per parameter). Absent fields
 * are left to the engine, which names them.
 * @param {Uint8Array} bytes the contents of config.json
 */
export function checkConfigJson(bytes) {
  let config;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new EdgebertError('CorruptData', `config.json is not valid JSON: ${err.message}`, { file: 'config.json' });
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new EdgebertError('CorruptData', 'config.json must be a JSON object', { file: 'config.json' });
  }
  const distil = config.model_type === 'distilbert';
  const dims = {};
  for (const [bertKey, distilKey, limit] of CONFIG_FIELDS) {
    const key = distil ? distilKey : bertKey;
    if (!Object.prototype.hasOwnProperty.call(config, key)) continue;
    const v = config[key];
    if (!Number.isInteger(v) || v < 1 || v > limit) {
      throw new EdgebertError('InvalidArgument',
        `config.json: '${key}' is ${typeof v === 'number' ? String(v) : JSON.stringify(v)}; expected an integer in 1..${limit} ` +
        '(checked before downloading the weights)', { file: 'config.json', field: key, value: v, limit });
    }
    dims[bertKey] = v;
  }
  // A lower bound on the weights: embeddings + per layer Q, K, V, O (h x h) and the two FFN
  // matrices (h x i), at 2 bytes a parameter (F16/BF16, the smallest safetensors dtype we read).
  const h = dims.hidden_size;
  if (h !== undefined) {
    const layers = dims.num_hidden_layers || 0;
    const inter = dims.intermediate_size || 0;
    const params = ((dims.vocab_size || 0) + (dims.max_position_embeddings || 0)) * h + layers * (4 * h * h + 2 * h * inter);
    if (2 * params > WASM_MAX_FILE_BYTES) {
      throw new EdgebertError('InvalidArgument',
        `config.json describes a model of at least ${params} parameters (${2 * params} bytes at 2 bytes each), ` +
        `more than a 32-bit wasm heap can hold (${WASM_MAX_FILE_BYTES} bytes)`, { file: 'config.json', params });
    }
  }
}
