// robustness.test.mjs: the JS runtime against hostile servers and bad inputs: sizes checked before
// allocation (a Content-Length that wraps in 32 bits), per-file caps, stalled downloads, downloads
// that must not hold up other models, abandoned runs, config.json checked before the weights, a
// trap that restarts the engine and reloads the models, what is cached and what is not, and the
// thread count. Servers listen on 127.0.0.1 only; every test is bounded in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { createRuntime, pipeline } from '../../worker/index.mjs';
import { chooseBuild, Engine } from '../../worker/engine.mjs';
import { fakePackedModel } from './fake_edgebert.mjs';
import { fakeInline, fakeWorker, repoFiles, tempDir, tinySafetensors } from './helpers.mjs';

const REPO = 'edgebert-test/tiny-bert';
const HUGE = 4294967396;  // 2^32 + 100: a 32-bit size_t sees 100

/** Rejects with a clear message when `p` does not settle within ms (the old code hangs). */
function within(ms, p, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms); }),
  ]);
}

const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));

/**
 * A repository server whose files are a body (Buffer) or a function (req, res) that misbehaves.
 * Returns { source, baseUrl, requests, files, close }; closed after the test.
 */
async function hostileRepo(t, overrides = {}, { withTokenizerJson = false } = {}) {
  const files = await repoFiles({ withTokenizerJson });
  for (const [name, v] of Object.entries(overrides)) files.set(name, v);
  const requests = [];
  const sockets = new Set();
  const prefix = `/${REPO}/resolve/main/`;
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const spec = path.startsWith(prefix) ? files.get(path.slice(prefix.length)) : undefined;
    if (spec === undefined) { res.writeHead(404); res.end('Entry not found'); return; }
    if (typeof spec === 'function') { spec(req, res); return; }
    const body = spec.body || spec;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.end(body);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return { source: { repo: REPO, revision: 'main', baseUrl }, baseUrl, requests, files, close };
}

// A body that never ends (chunked), 64 KiB at a time.
const endless = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunk = Buffer.alloc(1 << 16, 0x20);
  const pump = () => { while (res.write(chunk)) { /* until the socket's buffer is full */ } };
  res.on('drain', pump);
  res.on('close', () => res.off('drain', pump));
  pump();
};

// Headers announcing `length`, a few bytes, then silence (the connection stays open).
const stall = (length, first = Buffer.from('{"a":')) => (req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(length) });
  res.write(first);
};

// ---------------------------------------------------------------------------------------------
// F2: sizes from a server or a File are checked before anything is allocated.

const realBuilt = existsSync(new URL('../../build/wasm/wasm/edgebert.mjs', import.meta.url));

test('Content-Length 2^32+100 for model.safetensors: OutOfRange before any allocation (real engine)', { skip: !realBuilt && 'build/wasm not built' }, async (t) => {
  const { source } = await hostileRepo(t, { 'model.safetensors': stall(HUGE, Buffer.alloc(64, 1)) });
  const runtime = await createRuntime({ device: 'inline' });
  t.after(() => runtime.close());
  const { error } = await within(10000, settle(pipeline('text-classification', source, { runtime, cache: false })), 'load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'OutOfRange', error.message);
  assert.match(error.message, /model\.safetensors from http:\/\/127\.0\.0\.1:\d+\/.*announces \(Content-Length\) 4294967396 bytes, more than the most a 32-bit wasm heap can hold/);
});

test('Engine.malloc refuses sizes a 32-bit size_t would wrap (real engine)', { skip: !realBuilt && 'build/wasm not built' }, async () => {
  const engine = await Engine.create({
    glueUrl: new URL('../../build/wasm/wasm/edgebert.mjs', import.meta.url).href,
    wasm: new URL('../../build/wasm/wasm/edgebert.wasm', import.meta.url).href,
    threads: 1,
  });
  assert.throws(() => engine.malloc(HUGE), (e) => e.code === 'OutOfRange' && /4294967396 bytes: more than a 32-bit wasm heap can hold/.test(e.message));
  assert.throws(() => engine.malloc(-1), (e) => e.code === 'OutOfRange');
  // eb_malloc itself: a size within 63 of SIZE_MAX would round up to a tiny block; it returns null.
  assert.equal(engine.mod._eb_malloc(0xffffffff), 0);
  assert.equal(engine.mod._eb_malloc(0xffffffc1), 0);
});

test('a dropped File over 4 GiB is refused from its size, before it is read', async (t) => {
  const runtime = await createRuntime(fakeInline());
  t.after(() => runtime.close());
  class HugeFile extends Blob {
    get size() { return HUGE; }
    stream() { return new ReadableStream({ pull(c) { c.error(new Error('must not be read')); } }); }
  }
  const files = await repoFiles({ withTokenizerJson: false });
  const source = { files: {
    'config.json': files.get('config.json').body, 'vocab.txt': files.get('vocab.txt').body, 'model.safetensors': new HugeFile([]),
  } };
  await assert.rejects(pipeline('text-classification', source, { runtime }),
    (e) => e.code === 'OutOfRange' && /model\.safetensors has 4294967396 bytes, more than the most a 32-bit wasm heap can hold/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// F6: bodies without a length are capped per file.

test('an endless chunked config.json stops at its 1 MiB default cap', async (t) => {
  const { source } = await hostileRepo(t, { 'config.json': endless });
  const { error } = await within(10000, settle(pipeline('text-classification', source, { ...fakeInline(), cache: false })), 'load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'OutOfRange', error.message);
  assert.match(error.message, /config\.json from .* sent at least \d+ bytes, more than the limit for config\.json \(1048576 bytes; raise it with the maxFileSize option\)/);
});

test('a gzip bomb (tokenizer.json inflating past its cap) stops at the cap; maxFileSize is configurable', async (t) => {
  const bomb = gzipSync(Buffer.alloc(8 << 20, 0x20));  // 8 MiB of spaces, ~8 KB on the wire
  const { source } = await hostileRepo(t, {
    'tokenizer.json': (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
      res.end(bomb);
    },
  }, { withTokenizerJson: true });
  const { error } = await within(10000, settle(pipeline('text-classification', source, {
    ...fakeInline(), cache: false, maxFileSize: { 'tokenizer.json': 1 << 20 },
  })), 'load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'OutOfRange', error.message);
  assert.match(error.message, /tokenizer\.json from .* sent at least \d+ bytes, more than the limit for tokenizer\.json \(1048576 bytes/);
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), maxFileSize: { 'tokenizer.json': -1 } }),
    (e) => e.code === 'InvalidArgument' && /maxFileSize\["tokenizer\.json"\] must be a non-negative integer/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// F5: stalls time out, claimed sizes reserve nothing, downloads do not hold up other models.

test('a stalled body fails with Timeout after downloadTimeoutMs, reserving nothing for its claimed 1 GB', async (t) => {
  const { source } = await hostileRepo(t, { 'model.safetensors': stall(1e9) });
  const runtime = await createRuntime(fakeWorker());
  t.after(() => runtime.close());
  const other = await pipeline('text-classification', fakePackedModel(), { runtime });
  const loading = settle(pipeline('text-classification', source, { runtime, cache: false, downloadTimeoutMs: 1500 }));
  await new Promise((r) => setTimeout(r, 300));
  // While the download stalls, the loaded model answers at once (it used to wait behind the load).
  const t0 = Date.now();
  const stats = await within(1000, other('__stats__'), 'a run on another model during a stalled download');
  assert.ok(Date.now() - t0 < 1000);
  assert.ok(stats.max_malloc < 1 << 20, `the claimed length was reserved in the heap: eb_malloc(${stats.max_malloc})`);
  const { error } = await within(8000, loading, 'stalled load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'Timeout', error.message);
  assert.match(error.message, /download of model\.safetensors from http:\/\/127\.0\.0\.1:\d+\/.* timed out: no data after 5 bytes for 1500 ms \(downloadTimeoutMs\)/);
  await other.dispose();
});

test('a server that never sends headers fails with Timeout', async (t) => {
  const { source } = await hostileRepo(t, { 'config.json': () => { /* never answers */ } });
  const { error } = await within(8000, settle(pipeline('text-classification', source, { ...fakeInline(), cache: false, downloadTimeoutMs: 500 })), 'load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'Timeout', error.message);
  assert.match(error.message, /download of config\.json .* timed out: no response headers for 500 ms/);
});

test('aborting a running engine call lets its caller go at once; the runtime keeps serving', async (t) => {
  const runtime = await createRuntime(fakeWorker());
  t.after(() => runtime.close());
  const clf = await pipeline('text-classification', fakePackedModel(), { runtime });
  const ac = new AbortController();
  const slow = clf('__sleep:1500__', { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 200));  // it is running in the worker now
  const t0 = Date.now();
  ac.abort();
  await assert.rejects(slow, (e) => e.code === 'Cancelled' && /abandoned while running/.test(e.message));
  assert.ok(Date.now() - t0 < 500, `the abandoned call held its caller for ${Date.now() - t0} ms`);
  assert.equal((await within(5000, clf('next'), 'next run'))[0].request.text, 'next');
  await clf.dispose();
});

// ---------------------------------------------------------------------------------------------
// F9 (JS side): options and errors say what is wrong.

test('topK above INT32_MAX, NaN, a signal that is not an AbortSignal: clear InvalidArgument', async (t) => {
  const runtime = await createRuntime(fakeInline());
  t.after(() => runtime.close());
  const clf = await pipeline('text-classification', fakePackedModel(), { runtime });
  await assert.rejects(clf('x', { topK: 2 ** 31 }),
    (e) => e.code === 'InvalidArgument' && /topK must be a positive integer, got 2147483648 \(at most 2147483647/.test(e.message));
  await assert.rejects(clf('x', { topK: NaN }), (e) => e.code === 'InvalidArgument' && /topK must be a positive integer, got NaN$/.test(e.message));
  await assert.rejects(clf('x', { signal: 'soon' }),
    (e) => e.code === 'InvalidArgument' && /signal must be an AbortSignal \(new AbortController\(\)\.signal\), got string soon/.test(e.message));
  await assert.rejects(pipeline('text-classification', fakePackedModel(), { runtime, signal: {} }),
    (e) => e.code === 'InvalidArgument' && /signal must be an AbortSignal/.test(e.message));
  await clf.dispose();
});

test('out of memory inside the engine is OutOfMemory (not a WasmTrap "bug"), and the engine recovers', async (t) => {
  const runtime = await createRuntime(fakeInline());
  t.after(() => runtime.close());
  const clf = await pipeline('text-classification', fakePackedModel(), { runtime });
  await assert.rejects(clf('__oom__'), (e) => e.code === 'OutOfMemory' && /out of memory during text-classification/.test(e.message) && !/bug/.test(e.message));
  assert.equal((await clf('after'))[0].request.text, 'after');
  await clf.dispose();
});

test('real engine: a heap that cannot grow gives OutOfMemory, and the models loaded before keep answering', { skip: !realBuilt && 'build/wasm not built' }, async (t) => {
  // The real glue, with its heap held at its initial 16 MiB (as a browser refusing more would).
  const { default: createEdgebertModule } = await import('../../build/wasm/wasm/edgebert.mjs');
  const factory = (arg) => createEdgebertModule({ ...arg, instantiateWasm(imports, receive) {
    for (const ns of Object.values(imports)) {
      for (const k of Object.keys(ns)) {
        if (typeof ns[k] === 'function' && ns[k].name === '_emscripten_resize_heap') {
          ns[k] = { _emscripten_resize_heap: () => false }._emscripten_resize_heap;  // named as the loader looks for it
        }
      }
    }
    return arg.instantiateWasm(imports, receive);
  } });
  const runtime = await createRuntime({ device: 'inline', moduleFactory: factory, wasmUrl: new URL('../../build/wasm/wasm/edgebert.wasm', import.meta.url).href });
  t.after(() => runtime.close());
  const dir = new URL('../fixtures/models/bert_seqcls/', import.meta.url);
  const files = {};
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json']) files[f] = await readFile(new URL(f, dir));
  const loaded = [];
  let error;
  for (let i = 0; i < 500 && !error; i++) {
    try {
      loaded.push(await pipeline('text-classification', { files }, { runtime }));
    } catch (err) {
      error = err;
    }
  }
  assert.ok(error, `${loaded.length} loads and the heap never ran out`);
  assert.ok(loaded.length > 0);
  assert.equal(error.code, 'OutOfMemory', error.message);
  assert.match(error.message, /out of memory|cannot allocate/);
  assert.doesNotMatch(error.message, /bug in edgebert/);
  const first = await loaded[0]('hello world');
  assert.equal(typeof first[0].label, 'string');
});

test('config.json with 10^6 layers is refused before model.safetensors is read', async (t) => {
  const config = JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert', hidden_size: 768, num_hidden_layers: 1e6 });
  let modelBytesSent = 0;
  const { source } = await hostileRepo(t, {
    'config.json': Buffer.from(config),
    // The weights trickle: a load that reads them before checking the config takes > 10 s.
    'model.safetensors': (req, res) => {
      const body = tinySafetensors(1 << 16);
      res.writeHead(200, { 'content-length': String(body.length) });
      let off = 0;
      const timer = setInterval(() => {
        if (off >= body.length) { clearInterval(timer); res.end(); return; }
        res.write(body.subarray(off, off + 4096));
        modelBytesSent += 4096;
        off += 4096;
      }, 200);
      res.on('close', () => clearInterval(timer));
    },
  });
  const { error } = await within(5000, settle(pipeline('text-classification', source, { ...fakeInline(), cache: false })), 'load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'InvalidArgument', error.message);
  assert.match(error.message, /config\.json: 'num_hidden_layers' is 1000000; expected an integer in 1\.\.256 \(checked before downloading the weights\)/);
  assert.ok(modelBytesSent < 64 << 10, `${modelBytesSent} bytes of the weights were read`);
});

test("the engine's own config check (eb_config_check, where built) also runs before the weights are read", async (t) => {
  const { source } = await hostileRepo(t, {
    'config.json': Buffer.from(JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_layer: 12 })),
    // Headers, one byte, then nothing: a load that reads the weights before the check hangs here.
    'model.safetensors': (req, res) => { res.writeHead(200, { 'content-length': '1000000' }); res.write('x'); },
  });
  const { error } = await within(5000, settle(pipeline('text-classification', source, { ...fakeInline(), cache: false })), 'load');
  assert.ok(error, 'the load must fail');
  assert.equal(error.code, 'Unsupported', error.message);
  assert.match(error.message, /check config\.json failed: config\.json: model_type 'gpt2' is not supported/);
});

// ---------------------------------------------------------------------------------------------
// Deliver 2: a trap restarts the engine and reloads the live models.

for (const [device, opts] of [['inline', fakeInline], ['worker_threads', fakeWorker]]) {
  test(`${device}: a trap replaces the wasm instance; every live model is reloaded and keeps its handle`, async (t) => {
    const runtime = await createRuntime(opts());
    t.after(() => runtime.close());
    const a = await pipeline('text-classification', fakePackedModel(), { runtime });
    const b = await pipeline('text-classification', fakePackedModel({ labels: { 0: 'B' } }), { runtime });
    for (let i = 0; i < 4; i++) await b('warm');
    const before = await b('__stats__');
    // The trap and a request to the other model, sent together: only the trapping one fails.
    const [trap, other] = await Promise.all([settle(a('__trap__')), settle(b('in flight elsewhere'))]);
    assert.equal(trap.error && trap.error.code, 'WasmTrap');
    assert.match(trap.error.message, /RuntimeError: unreachable.*The engine was restarted and the loaded models reloaded; only this request failed/);
    assert.equal(other.value && other.value[0].request.text, 'in flight elsewhere');
    const after = await b('__stats__');
    assert.ok(after.runs < before.runs, `the same instance still runs (runs ${before.runs} -> ${after.runs})`);
    assert.equal((await a('a again'))[0].request.text, 'a again');
    assert.equal((await b('b again'))[0].request.text, 'b again');
    const info = await runtime.client.request('info');
    assert.equal(info.restarts, 1);
    assert.match(info.lastRestart, /unreachable/);
    await a.dispose();
    await b.dispose();
  });
}

test('real engine: after a trap the models are reloaded (a repository through the cache, int8 and fp32) and answer the same', { skip: !realBuilt && 'build/wasm not built' }, async (t) => {
  // The real glue, with one change: eb_run, eb_run_batch and eb_run_classify trap on the text
  // "__trap__" (as a bug would).
  const { default: createEdgebertModule } = await import('../../build/wasm/wasm/edgebert.mjs');
  const trappingFactory = async (arg) => {
    const mod = await createEdgebertModule(arg);
    for (const [name, reqArg] of [['_eb_run', 2], ['_eb_run_batch', 2], ['_eb_run_classify', 1]]) {
      let run = mod[name];
      const trapping = (...args) => {
        if (mod.UTF8ToString(args[reqArg]).includes('"__trap__"')) throw new WebAssembly.RuntimeError('unreachable');
        return run(...args);
      };
      // The glue's export wrapper replaces itself on first call: keep ours in front of it.
      Object.defineProperty(mod, name, { get: () => trapping, set: (f) => { run = f; } });
    }
    return mod;
  };
  const dir = new URL('../fixtures/models/distilbert_seqcls/', import.meta.url);
  const files = new Map();
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(new URL(f, dir))) files.set(f, await readFile(new URL(f, dir)));
  }
  const { source } = await hostileRepo(t, Object.fromEntries(files));
  const cacheDir = await tempDir(t);
  const runtime = await createRuntime({ device: 'inline', moduleFactory: trappingFactory, wasmUrl: new URL('../../build/wasm/wasm/edgebert.wasm', import.meta.url).href });
  t.after(() => runtime.close());
  const repo = await pipeline('text-classification', source, { runtime, cacheDir });
  const emb = await pipeline('feature-extraction', source, { runtime, cacheDir, quantization: 'fp32' });
  const before = [await repo('a small test sentence', { topK: null }), await emb('another one')];
  await assert.rejects(repo('__trap__'), (e) => e.code === 'WasmTrap' && /restarted/.test(e.message));
  const after = [await repo('a small test sentence', { topK: null }), await emb('another one')];
  assert.deepEqual(after[0], before[0]);
  assert.deepEqual(Array.from(after[1].data), Array.from(before[1].data));
  await repo.dispose();
  await emb.dispose();
});

// ---------------------------------------------------------------------------------------------
// Issue 14 item 5: what is cached.

async function listFiles(dir) {
  const out = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.push(e.name);
  return out;
}

async function cacheFile(cacheDir, baseUrl, file) {
  const port = new URL(baseUrl).port;
  return join(cacheDir, 'http', `127.0.0.1_${port}`, 'edgebert-test', 'tiny-bert', 'resolve', 'main', file);
}

test('a load that fails a check (HTTP 500, sha256) caches none of its files', async (t) => {
  const cacheDir = await tempDir(t);
  const { source, files } = await hostileRepo(t, {
    'model.safetensors': (req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('upstream down'); },
  });
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cacheDir }), (e) => e.code === 'HttpError' && /HTTP 500/.test(e.message));
  // (A remembered 404 of an optional file, tokenizer.json.missing, is a fact about the server.)
  const kept = async () => (await listFiles(cacheDir)).filter((f) => !f.endsWith('.missing'));
  assert.deepEqual(await kept(), []);
  const body = tinySafetensors();
  files.set('model.safetensors', (req, res) => {
    res.writeHead(200, { 'content-length': String(body.length), 'x-linked-etag': `"${'0'.repeat(64)}"` });
    res.end(body);
  });
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cacheDir }), (e) => e.code === 'IntegrityError' && /sha256 mismatch/.test(e.message));
  // config.json and vocab.txt passed their own checks, but the load failed: nothing is kept.
  assert.deepEqual(await kept(), []);
});

test('files the engine refuses are not cached: after the server is fixed the same URL loads', async (t) => {
  const cacheDir = await tempDir(t);
  const broken = Buffer.from('not a safetensors file at all');
  const { source, files, baseUrl } = await hostileRepo(t, { 'model.safetensors': broken });
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cacheDir }), (e) => e.code === 'CorruptData');
  assert.ok(!existsSync(await cacheFile(cacheDir, baseUrl, 'model.safetensors')), 'a refused file was cached');
  files.set('model.safetensors', tinySafetensors());  // the server is fixed
  const clf = await pipeline('text-classification', source, { ...fakeInline(), cacheDir });
  assert.ok(clf.info.files.every((f) => !f.cached));
  await clf.dispose();
  assert.ok(existsSync(await cacheFile(cacheDir, baseUrl, 'model.safetensors')), 'an accepted file is cached');
});

test('a cached copy the engine refuses is removed, and the next load downloads it', async (t) => {
  const cacheDir = await tempDir(t);
  const { source, baseUrl, requests } = await hostileRepo(t);
  const path = await cacheFile(cacheDir, baseUrl, 'model.safetensors');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, 'gone bad on disk');
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cacheDir }), (e) => e.code === 'CorruptData');
  assert.ok(!existsSync(path), 'the refused cache entry is still there');
  const clf = await pipeline('text-classification', source, { ...fakeInline(), cacheDir });
  assert.equal(clf.info.files.find((f) => f.name === 'model.safetensors').cached, false);
  assert.ok(requests.includes(`/${REPO}/resolve/main/model.safetensors`));
  await clf.dispose();
});

test('cache: false downloads anew and refreshes the cached copy', async (t) => {
  const cacheDir = await tempDir(t);
  const { source, files, baseUrl, close } = await hostileRepo(t);
  const first = await pipeline('text-classification', source, { ...fakeInline(), cacheDir });
  await first.dispose();
  const v2 = Buffer.from(JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert', hidden_size: 2, id2label: { 0: 'no', 1: 'yes' } }));
  files.set('config.json', v2);
  const refreshed = await pipeline('text-classification', source, { ...fakeInline(), cacheDir, cache: false });
  assert.ok(refreshed.info.files.every((f) => !f.cached));
  assert.deepEqual(refreshed.info.model.labels, { 0: 'no', 1: 'yes' });
  await refreshed.dispose();
  assert.deepEqual(await readFile(await cacheFile(cacheDir, baseUrl, 'config.json')), v2);
  await close();
  const offline = await pipeline('text-classification', source, { ...fakeInline(), cacheDir });
  assert.deepEqual(offline.info.model.labels, { 0: 'no', 1: 'yes' });
  await offline.dispose();
});

// ---------------------------------------------------------------------------------------------
// Deliver 7: never more threads than cores.

test('threads: never more than the cores; the build info says why', () => {
  const given = { available: true };
  const isolated = { ok: true, reason: '' };
  const four = chooseBuild(4, given, isolated, 2);
  assert.equal(four.count, 2);
  assert.match(four.reason, /threads: 4 requested, but this machine has 2 cores: 2 threads \(never more threads than cores\)/);
  const oneCore = chooseBuild('auto', given, isolated, 1);
  assert.equal(oneCore.build, 'simd128-single-thread');
  assert.match(oneCore.reason, /this machine has 1 core \(never more threads than cores\)/);
  const auto = chooseBuild('auto', given, isolated, 2);
  assert.equal(auto.count, 2);
  assert.match(auto.reason, /with 2 threads \(2 cores, pool of 4\)/);
  assert.equal(chooseBuild('auto', given, isolated, 16).count, 4);
  assert.equal(chooseBuild(3, given, isolated, 8).count, 3);
});
