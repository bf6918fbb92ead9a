// service.mjs: the request handlers behind the protocol (init, load, run, dispose, info). They run
// in the worker, or in-process for device 'inline'; they own the engine and the loaded models.

import { Engine, MODEL_ABI } from './engine.mjs';
import { EdgebertError } from './errors.mjs';
import { openCache } from './cache.mjs';
import { fetchFiles } from './fetch.mjs';
import { fileSpecs, sourceLabel } from './sources.mjs';

export const ENGINE_TASKS = Object.freeze([
  'text-classification', 'token-classification', 'question-answering', 'feature-extraction', 'fill-mask', 'tokenize',
]);

/**
 * @param {{factory?: Function}} [inlineOptions] things that cannot cross postMessage (a bundled
 *   glue factory), available to 'init' only in inline mode
 */
export function createService(inlineOptions = {}) {
  let engine = null;
  let initializing = null;
  const models = new Map();   // handle -> { info, label }
  const disposed = new Set(); // handles disposed, for a clear error on later use

  const needEngine = () => {
    if (!engine) throw new EdgebertError('InvalidArgument', 'the runtime is not initialized: send init first');
    return engine;
  };

  const modelFor = (handle) => {
    if (models.has(handle)) return models.get(handle);
    if (disposed.has(handle)) throw new EdgebertError('Disposed', `model ${handle} was disposed; load it again`);
    throw new EdgebertError('NotFound', `no model with handle ${handle} in this runtime`);
  };

  const handlers = {
    async init(msg) {
      if (engine || initializing) {
        throw new EdgebertError('InvalidArgument', 'init was already called for this runtime (one engine per worker)');
      }
      const o = msg.options || {};
      initializing = Engine.create({
        factory: inlineOptions.factory || undefined,
        glueUrl: o.glueUrl,
        wasm: o.wasmModule || o.wasmUrl,
        threads: o.threads === undefined ? 'auto' : o.threads,
        threadsGlueUrl: o.threadsGlueUrl,
        threadsWasm: o.threadsWasmUrl,
        relaxedSimd: o.relaxedSimd !== false,
        relaxedKernel: o.relaxedKernelModule,
      });
      try {
        engine = await initializing;
      } finally {
        initializing = null;
      }
      return { result: engine.buildInfo() };
    },

    async info() {
      return { result: needEngine().buildInfo() };
    },

    async load(msg, ctx) {
      const eng = needEngine();
      const source = msg.source;
      const label = sourceLabel(source);
      const isRepo = source.kind === 'hf' || source.kind === 'hf-files';
      // Fail before downloading anything when this build cannot use the files.
      eng.require(isRepo ? ['eb_convert_hf', ...MODEL_ABI] : MODEL_ABI, `load ${label}`);
      const o = msg.options || {};
      const cache = source.kind === 'url' || source.kind === 'hf' ? await openCache({ cache: o.cache, cacheDir: o.cacheDir }) : null;
      const files = await fetchFiles(fileSpecs(source), {
        makeSink: (name, size) => heapSink(eng, name, size),
        signal: ctx.signal,
        onProgress: ctx.progress,
        cache,
      });
      const quantization = o.quantization || 'int8';
      let packed;
      let handle;
      if (isRepo && quantization === 'fp32') {
        // The exact path: fp32 weights straight from the checkpoint, no packed int8 file.
        const refs = {};
        for (const [name, f] of files) refs[name] = f.result;
        try {
          handle = eng.loadHf(refs, 'fp32', label);
        } finally {
          for (const f of files.values()) eng.free(f.result.ptr);
        }
      } else if (quantization !== 'int8') {
        for (const f of files.values()) eng.free(f.result.ptr);
        throw new EdgebertError('InvalidArgument', `quantization 'fp32' needs a checkpoint (a repository or its files); ${label} is a packed int8 model`);
      } else if (isRepo) {
        const refs = {};
        for (const [name, f] of files) refs[name] = f.result;
        try {
          packed = eng.convertHf(refs, label);
        } finally {
          for (const f of files.values()) eng.free(f.result.ptr);
        }
      } else {
        packed = files.values().next().value.result;
      }
      if (handle === undefined) {
        try {
          handle = eng.loadModel(packed.ptr, packed.len, label);
        } catch (err) {
          eng.free(packed.ptr);  // on failure the bytes are still ours
          throw err;
        }
      }
      let info;
      try {
        info = eng.modelInfo(handle);
      } catch (err) {
        eng.freeModel(handle);
        throw err;
      }
      models.set(handle, { info, label });
      return { result: { model: handle, info, files: [...files].map(([name, f]) => ({ name, size: f.size, cached: f.cached, url: f.url })) } };
    },

    async run(msg) {
      const eng = needEngine();
      modelFor(msg.model);
      if (!ENGINE_TASKS.includes(msg.task)) {
        throw new EdgebertError('InvalidArgument', `unknown engine task ${JSON.stringify(msg.task)}; expected one of ${ENGINE_TASKS.join(', ')}`);
      }
      if (!Array.isArray(msg.requests) || msg.requests.length === 0) {
        throw new EdgebertError('InvalidArgument', 'run needs a non-empty array of requests');
      }
      const results = [];
      const transfer = [];
      for (const request of msg.requests) {
        const out = eng.run(msg.model, msg.task, request);
        if (msg.task === 'feature-extraction') results.push(toTensor(out, transfer));
        else results.push(out);
      }
      return { result: results, transfer };
    },

    async dispose(msg) {
      const eng = needEngine();
      if (!models.has(msg.model)) {
        if (disposed.has(msg.model)) return { result: null };  // disposing twice is harmless
        throw new EdgebertError('NotFound', `no model with handle ${msg.model} in this runtime`);
      }
      models.delete(msg.model);
      disposed.add(msg.model);
      eng.freeModel(msg.model);
      return { result: null };
    },
  };
  return handlers;
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

/**
 * A sink writing a file into an eb_malloc'd heap buffer: when the size is known, chunks go
 * straight to their place (one copy); otherwise they are gathered and copied once at the end.
 */
export function heapSink(engine, name, size) {
  let ptr = size !== undefined ? engine.malloc(Math.max(size, 1)) : 0;
  const parts = [];
  let length = 0;
  const materialize = () => {
    if (ptr || size !== undefined) return;
    ptr = engine.malloc(Math.max(length, 1));
    let off = ptr;
    for (const p of parts) { engine.heap().set(p, off); off += p.byteLength; }
    parts.length = 0;
  };
  return {
    write(chunk) {
      if (size !== undefined) {
        if (length + chunk.byteLength > size) {
          throw new EdgebertError('IntegrityError', `${name}: more bytes than the announced ${size}`);
        }
        engine.heap().set(chunk, ptr + length);
      } else {
        parts.push(chunk.slice());
      }
      length += chunk.byteLength;
    },
    view() {
      materialize();
      return engine.heap().subarray(ptr, ptr + length);
    },
    finish() {
      materialize();
      return { ptr, len: length };
    },
    release() {
      if (ptr) engine.free(ptr);
      ptr = 0;
      parts.length = 0;
    },
  };
}
