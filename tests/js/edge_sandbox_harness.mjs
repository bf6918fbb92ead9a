// edge_sandbox_harness.mjs: runs the package inside a node:vm context shaped like an edge worker
// (Cloudflare Workers, Deno Deploy, Vercel Edge): only web globals, no process/require/Worker/DOM,
// no code generation from strings, and no wasm compilation from bytes (a precompiled
// WebAssembly.Module is handed in, as those platforms do). With the argument 'page' the context
// also has a Worker (a module-worker sandbox, see sandbox.mjs), like a browser page, and the
// engine runs in worker/worker.mjs's browser branch. With 'isolated' or 'not-isolated', a page
// that may compile wasm (CSP 'wasm-unsafe-eval') chooses between the single-thread and the
// pthreads build (real edgebert-threads.mjs, its worker.js in nested sandbox workers) depending on
// crossOriginIsolated. Needs --experimental-vm-modules;
// edge_sandbox.test.mjs starts it and reads the JSON it prints.
import { readFile } from 'node:fs/promises';

import { fakePackedModel } from './fake_edgebert.mjs';
import { repoFiles, startServer } from './helpers.mjs';
import { createSandbox, fakeCacheStorage, fakeWorkerClass, moduleLoader, webGlobals } from './sandbox.mjs';

const root = new URL('../../', import.meta.url);
const realWasmPath = new URL('build/wasm/wasm/edgebert.wasm', root);
const realGlueUrl = new URL('build/wasm/wasm/edgebert.mjs', root).href;
const fakeGlueUrl = new URL('./fake_edgebert.mjs', import.meta.url).href;
const indexUrl = new URL('worker/index.mjs', root).href;

const server = await startServer({
  repos: { 'edge/tiny': await repoFiles({ withTokenizerJson: false }) },
  plain: new Map([
    ['m.ebm', { body: Buffer.from(fakePackedModel()) }],
    ['edgebert.wasm', { body: await readFile(realWasmPath), headers: { 'content-type': 'application/wasm' } }],
    ['edgebert-threads.wasm', { body: await readFile(new URL('build/wasm/wasm/edgebert-threads.wasm', root)), headers: { 'content-type': 'application/wasm' } }],
  ]),
});

// Compiled outside: inside, code generation for wasm is disallowed.
const realModule = await WebAssembly.compile(await readFile(realWasmPath));
const emptyModule = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));

let report;
const done = new Promise((resolve) => { report = resolve; });
// 'page' adds what a browser page has beyond an edge worker: Worker (a module worker sandbox).
const scenario = process.argv[2] || 'edge';
const edge = { baseUrl: server.baseUrl, realModule, emptyModule, report, stopServer: () => server.close() };
const extra = { caches: fakeCacheStorage(), __edge: edge };
if (scenario === 'page') extra.Worker = fakeWorkerClass(() => ({ caches: extra.caches }));
let main;
let context;
const workersStarted = [];
if (scenario === 'isolated' || scenario === 'not-isolated') {
  // Workers inherit the page's isolation; each can start workers of its own (pthreads).
  const isolation = { crossOriginIsolated: scenario === 'isolated', navigator: { hardwareConcurrency: 4, userAgent: 'sandbox' } };
  const workerGlobals = () => ({ ...isolation, Worker: NestedWorker });
  const Base = fakeWorkerClass(workerGlobals, { wasm: true });
  class NestedWorker extends Base {
    constructor(url, options) {
      super(url, options);
      workersStarted.push(String(url).split('/').pop());
    }
  }
  context = createSandbox(webGlobals({ ...extra, ...isolation, Worker: NestedWorker }), { wasm: true });
  const build = (f) => new URL(`build/wasm/wasm/${f}`, root).href;
  main = `
    import { getBuildInfo } from ${JSON.stringify(indexUrl)};
    const { baseUrl, report } = globalThis.__edge;
    const where = {
      glueUrl: ${JSON.stringify(build('edgebert.mjs'))}, wasmUrl: baseUrl + '/edgebert.wasm',
      threadsGlueUrl: ${JSON.stringify(build('edgebert-threads.mjs'))}, threadsWasmUrl: baseUrl + '/edgebert-threads.wasm',
    };
    const out = {};
    const step = async (name, fn) => {
      try { out[name] = await fn(); } catch (e) { out[name] = { error: e.code || e.name, message: e.message }; }
    };
    await step('auto', () => getBuildInfo(where));
    await step('one', () => getBuildInfo({ ...where, threads: 1 }));
    await step('four', () => getBuildInfo({ ...where, threads: 4 }));
    report(out);
  `;
} else {
  context = createSandbox(webGlobals(extra));
}

if (!main) main = `
  import { pipeline, getBuildInfo, tokenizer } from ${JSON.stringify(indexUrl)};
  import realFactory from ${JSON.stringify(realGlueUrl)};
  import fakeFactory from ${JSON.stringify(fakeGlueUrl)};
  const page = typeof Worker === 'function';
  const out = { globals: {} };
  for (const name of ['process', 'require', 'Worker', 'document', 'window', 'importScripts', 'Buffer']) {
    out.globals[name] = typeof globalThis[name];
  }
  try { eval('1'); out.eval = 'allowed'; } catch (e) { out.eval = e.name; }
  try { await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); out.compileFromBytes = 'allowed'; }
  catch (e) { out.compileFromBytes = e.name; }
  const { baseUrl, realModule, emptyModule, report, stopServer } = globalThis.__edge;
  const step = async (name, fn) => {
    try { out[name] = await fn(); } catch (e) { out[name] = { error: e.code || e.name, message: e.message }; }
  };
  await step('buildInfo', () => getBuildInfo(page ? { wasmModule: realModule } : { wasmModule: realModule, moduleFactory: realFactory }));
  await step('compileForbidden', () => getBuildInfo(page ? { wasmUrl: baseUrl + '/edgebert.wasm' } : { wasmUrl: baseUrl + '/edgebert.wasm', moduleFactory: realFactory }));
  await step('realLoad', () => pipeline('text-classification', baseUrl + '/m.ebm', page ? { wasmModule: realModule } : { wasmModule: realModule, moduleFactory: realFactory }));
  // A page runs the engine in its Worker: the glue goes by URL (functions do not cross postMessage).
  const fake = page ? { wasmModule: emptyModule, glueUrl: ${JSON.stringify(fakeGlueUrl)} } : { wasmModule: emptyModule, moduleFactory: fakeFactory };
  out.page = page;
  await step('embed', async () => {
    const fe = await pipeline('feature-extraction', baseUrl + '/m.ebm', fake);
    const t = await fe('abc');
    await fe.dispose();
    return { dims: t.dims, isFloat32: Object.prototype.toString.call(t.data), list: t.tolist() };
  });
  await step('ebm', async () => {
    const clf = await pipeline('text-classification', baseUrl + '/m.ebm', fake);
    const r = await clf('hello edge', { topK: 2 });
    await clf.dispose();
    return { result: r, info: clf.info.model.architecture };
  });
  await step('repo', async () => {
    const events = [];
    const tok = await tokenizer({ repo: 'edge/tiny', baseUrl }, { ...fake, onProgress: (p) => events.push(p) });
    const r = await tok('hello edge');
    await tok.dispose();
    const last = events[events.length - 1];
    return { tokens: r.tokens, source: tok.info.model.tokenizer_source, lastProgress: last.overall, files: tok.info.files.map((f) => [f.name, f.cached]), conversion: tok.info.conversion };
  });
  await stopServer();
  await step('repoFromCacheStorage', async () => {
    const tok = await tokenizer({ repo: 'edge/tiny', baseUrl }, fake);
    const r = await tok('offline edge');
    await tok.dispose();
    return { tokens: r.tokens, files: tok.info.files.map((f) => [f.name, f.cached]), conversion: tok.info.conversion };
  });
  await step('repoRawFromCacheStorage', async () => {
    // Without the converted model, the checkpoint's own files come from Cache Storage.
    const store = await caches.open('edgebert-v1');
    for (const k of await store.keys()) if (k.url.startsWith('https://edgebert.invalid/')) await store.delete(k.url);
    const tok = await tokenizer({ repo: 'edge/tiny', baseUrl }, fake);
    const r = await tok('offline edge');
    await tok.dispose();
    return { tokens: r.tokens, files: tok.info.files.map((f) => [f.name, f.cached]), conversion: tok.info.conversion };
  });
  await step('workerDevice', () => pipeline('text-classification', baseUrl + '/m.ebm', { wasmModule: emptyModule, moduleFactory: fakeFactory, device: 'worker' }));
  report(out);
`;

try {
  await moduleLoader(context).run(main);
  const out = await done;
  if (workersStarted.length) out.workersStarted = workersStarted;
  process.stdout.write(JSON.stringify(out));
} finally {
  await server.close().catch(() => {});
}
