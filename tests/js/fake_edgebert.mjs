// fake_edgebert.mjs: a TEST DOUBLE of the Emscripten module (edgebert.mjs) implementing the C ABI
// in JavaScript over a plain heap, so the protocol, worker, loading and adapter layers can be tested
// before the real engine exists. It computes nothing real: it is used only for protocol-level
// behaviour (ids, errors, traps, cancellation, memory ownership, loading). Real answers are tested
// in e2e.test.mjs against the real build.
//
// Fake packed format: "FAKEEBM1" + UTF-8 JSON {model_type, architecture, labels, tasks, vocab}.
// Magic words in the text of a run request drive the test behaviours:
//   __trap__      throws a WebAssembly.RuntimeError (as a wasm trap would)
//   __throw__     throws a TypeError (a bug in a handler)
//   __fail__      returns InvalidArgument with a message
//   __sleep:N__   blocks the thread for N ms (as a long synchronous wasm call would)
//   __exit__      ends the thread (worker_threads only), as a crashed worker would
//   __stats__     returns the number of eb_run calls so far, the heap's live allocations and the
//                 largest eb_malloc request
//   __oom__       the heap fails to grow (through the glue's emscripten_resize_heap import, which the
//                 loader watches), then the C++ side aborts, as operator new does when out of memory

const MAGIC = 'FAKEEBM1';
const HEAP_BYTES = 32 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export default async function createFakeEdgebertModule(moduleArg = {}) {
  const buffer = new ArrayBuffer(HEAP_BYTES);
  const mod = {
    HEAPU8: new Uint8Array(buffer),
    HEAP32: new Int32Array(buffer),
    HEAPU32: new Uint32Array(buffer),
  };
  const wt = typeof process === 'object' ? await import('node:worker_threads').catch(() => null) : null;
  const inWorkerThread = !!wt && !wt.isMainThread;
  // Go through instantiateWasm like the real glue (the tests pass a tiny empty wasm module).
  // The import the real glue grows the heap through (named as in edgebert.mjs; the loader wraps it).
  const imports = { a: { g: function _emscripten_resize_heap() { return false; } } };
  if (typeof moduleArg.instantiateWasm === 'function') {
    await new Promise((resolve) => moduleArg.instantiateWasm(imports, () => resolve()));
  }

  // A small allocator that tracks live blocks so tests can check ownership and leaks.
  let top = 1024;
  const live = new Map();   // ptr -> size
  const freeBySize = new Map();
  let maxMalloc = 0;
  const malloc = (n) => {
    maxMalloc = Math.max(maxMalloc, n >>> 0);
    const size = Math.max(8, (n + 7) & ~7);
    const reuse = freeBySize.get(size);
    let ptr;
    if (reuse && reuse.length) ptr = reuse.pop();
    else {
      if (top + size > HEAP_BYTES) return 0;
      ptr = top;
      top += size;
    }
    live.set(ptr, size);
    return ptr;
  };
  const free = (ptr) => {
    if (!ptr) return;
    const size = live.get(ptr);
    if (size === undefined) throw new WebAssembly.RuntimeError(`fake: free of ${ptr}, which is not allocated`);
    live.delete(ptr);
    if (!freeBySize.has(size)) freeBySize.set(size, []);
    freeBySize.get(size).push(ptr);
  };
  const putString = (s) => {
    const bytes = encoder.encode(s);
    const ptr = malloc(bytes.length + 1);
    mod.HEAPU8.set(bytes, ptr);
    mod.HEAPU8[ptr + bytes.length] = 0;
    return ptr;
  };
  const readString = (ptr) => {
    let end = ptr;
    while (mod.HEAPU8[end] !== 0) end++;
    return decoder.decode(mod.HEAPU8.subarray(ptr, end));
  };

  let lastError = 0;
  const setError = (message) => {
    if (lastError) free(lastError);
    lastError = putString(message);
  };
  const fail = (status, message) => { setError(message); return status; };
  const ok = () => { setError(''); return 0; };
  const versionPtr = putString('0.0.0-fake');
  setError('');
  let runs = 0;

  const models = new Map();  // handle -> { ptr, len, meta }
  let nextHandle = 1;

  Object.assign(mod, {
    UTF8ToString: readString,
    lengthBytesUTF8: (s) => encoder.encode(s).length,
    stringToUTF8: (s, ptr, max) => {
      const bytes = encoder.encode(s).subarray(0, max - 1);
      mod.HEAPU8.set(bytes, ptr);
      mod.HEAPU8[ptr + bytes.length] = 0;
    },
    _eb_malloc: malloc,
    _eb_free: free,
    _eb_version: () => versionPtr,
    _eb_last_error: () => lastError,
    _eb_build_info: (out) => {
      mod.HEAPU32[out >> 2] = putString(JSON.stringify({ version: '0.0.0-fake', simd: true, threads: 1, relaxed_simd: false }));
      return ok();
    },
    _eb_model_load: (ptr, len, outHandle) => {
      const head = decoder.decode(mod.HEAPU8.subarray(ptr, ptr + Math.min(len, MAGIC.length)));
      if (head !== MAGIC) return fail(3, `not an edgebert model: the file starts with ${JSON.stringify(head)}, expected the magic ${JSON.stringify(MAGIC)}`);
      let meta;
      try {
        meta = JSON.parse(decoder.decode(mod.HEAPU8.subarray(ptr + MAGIC.length, ptr + len)));
      } catch (err) {
        return fail(3, `corrupt model header: ${err.message}`);
      }
      if (meta.format_version !== undefined && meta.format_version !== 1) {
        return fail(4, `model format version ${meta.format_version} is not supported (this engine reads version 1)`);
      }
      const handle = nextHandle++;
      models.set(handle, { ptr, len, meta });  // the engine now owns ptr
      mod.HEAP32[outHandle >> 2] = handle;
      return ok();
    },
    _eb_convert_hf: (filesPtr, outBytes, outLen) => {
      const files = JSON.parse(readString(filesPtr));
      const text = (name) => decoder.decode(mod.HEAPU8.subarray(files[name].ptr, files[name].ptr + files[name].len));
      if (!files['config.json']) return fail(2, 'config.json is missing');
      let config;
      try {
        config = JSON.parse(text('config.json'));
      } catch (err) {
        return fail(3, `config.json: invalid JSON (${err.message})`);
      }
      const st = files['model.safetensors'];
      if (!st) return fail(2, 'model.safetensors is missing');
      const view = new DataView(mod.HEAPU8.buffer, st.ptr, st.len);
      const headerLen = st.len >= 8 ? Number(view.getBigUint64(0, true)) : -1;
      if (headerLen < 2 || headerLen > st.len - 8) return fail(3, `model.safetensors: header length ${headerLen} does not fit in ${st.len} bytes`);
      try {
        JSON.parse(decoder.decode(mod.HEAPU8.subarray(st.ptr + 8, st.ptr + 8 + headerLen)));
      } catch (err) {
        return fail(3, `model.safetensors: invalid header JSON (${err.message})`);
      }
      let vocab;
      let tokenizerSource;
      if (files['tokenizer.json']) {
        vocab = Object.keys(JSON.parse(text('tokenizer.json')).model.vocab);
        tokenizerSource = 'tokenizer.json';
      } else if (files['vocab.txt']) {
        vocab = text('vocab.txt').split('\n').filter((l) => l !== '');
        tokenizerSource = 'vocab.txt';
      } else {
        return fail(2, 'neither tokenizer.json nor vocab.txt was given');
      }
      const arch = (config.architectures || ['BertModel'])[0];
      const tasks = ['feature-extraction', 'tokenize'];
      if (/SequenceClassification/.test(arch)) tasks.push('text-classification');
      if (/TokenClassification/.test(arch)) tasks.push('token-classification');
      if (/QuestionAnswering/.test(arch)) tasks.push('question-answering');
      if (/MaskedLM/.test(arch)) tasks.push('fill-mask');
      const meta = {
        model_type: config.model_type, architecture: arch, tasks, labels: config.id2label || {},
        max_position_embeddings: config.max_position_embeddings, hidden_size: 2, num_layers: 1, quantization: 'int8',
        vocab, tokenizer_source: tokenizerSource,
        files: Object.keys(files).sort(),
      };
      const bytes = encoder.encode(MAGIC + JSON.stringify(meta));
      const ptr = malloc(bytes.length);
      mod.HEAPU8.set(bytes, ptr);
      mod.HEAPU32[outBytes >> 2] = ptr;
      mod.HEAPU32[outLen >> 2] = bytes.length;
      return ok();
    },
    // Like the engine's: only model_type bert and distilbert are supported.
    _eb_config_check: (ptr, len, out) => {
      let config;
      try {
        config = JSON.parse(decoder.decode(mod.HEAPU8.subarray(ptr, ptr + len)));
      } catch (err) {
        return fail(3, `config.json: invalid JSON (${err.message})`);
      }
      if (config.model_type !== 'bert' && config.model_type !== 'distilbert') {
        return fail(4, `config.json: model_type '${config.model_type}' is not supported (edgebert runs 'distilbert' and 'bert')`);
      }
      if (out) mod.HEAPU32[out >> 2] = putString(JSON.stringify({ model_type: config.model_type }));
      return ok();
    },
    _eb_model_info: (handle, out) => {
      const m = models.get(handle);
      if (!m) return fail(2, `no model with handle ${handle}`);
      const { vocab, ...info } = m.meta;
      info.vocab_size = vocab ? vocab.length : 0;
      mod.HEAPU32[out >> 2] = putString(JSON.stringify(info));
      return ok();
    },
    _eb_model_free: (handle) => {
      const m = models.get(handle);
      if (!m) return;
      models.delete(handle);
      free(m.ptr);
    },
    _eb_run: (handle, taskPtr, reqPtr, out) => {
      const m = models.get(handle);
      if (!m) return fail(2, `no model with handle ${handle}`);
      runs += 1;
      const task = readString(taskPtr);
      const req = JSON.parse(readString(reqPtr));
      const text = req.text !== undefined ? req.text : req.question;
      if (text === '__trap__') throw new WebAssembly.RuntimeError('unreachable');
      if (text === '__oom__') {
        imports.a.g(HEAP_BYTES * 2);
        throw new WebAssembly.RuntimeError('Aborted(native code called abort())');
      }
      if (text === '__throw__') throw new TypeError('fake handler bug');
      if (text === '__exit__' && inWorkerThread) process.exit(3);
      if (text === '__fail__') return fail(1, 'fake: the request was refused');
      const sleep = /^__sleep:(\d+)__$/.exec(text || '');
      if (sleep) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(sleep[1]));
      let result;
      if (text === '__stats__') {
        result = { runs, live_allocations: live.size, live_bytes: [...live.values()].reduce((a, b) => a + b, 0), max_malloc: maxMalloc };
      } else if (task === 'tokenize') {
        const tokens = [];
        const offsets = [];
        for (const match of text.matchAll(/\S+/g)) {
          tokens.push(match[0]);
          offsets.push([match.index, match.index + match[0].length]);
        }
        const ids = tokens.map((t) => Math.max(m.meta.vocab.indexOf(t.toLowerCase()), 1));
        result = { input_ids: ids, tokens, offset_mapping: offsets, request: req };
      } else if (task === 'feature-extraction') {
        const n = text.length;
        result = { dims: [1, n, 2], data: Array.from({ length: n * 2 }, (_, i) => i / 2) };
      } else {
        result = [{ echo: task, request: req }];
      }
      mod.HEAPU32[out >> 2] = putString(JSON.stringify(result));
      return ok();
    },
  });
  return mod;
}

/** Bytes of a fake packed model. */
export function fakePackedModel(meta = {}) {
  return encoder.encode(MAGIC + JSON.stringify({
    model_type: 'bert', architecture: 'BertForSequenceClassification', tasks: ['text-classification', 'feature-extraction', 'tokenize'],
    labels: { 0: 'negative', 1: 'positive' }, vocab: ['[PAD]', '[UNK]', 'hello'], ...meta,
  }));
}

/** A tiny valid wasm module for the loader (the fake needs no real wasm). */
export function emptyWasmModule() {
  return new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
}
