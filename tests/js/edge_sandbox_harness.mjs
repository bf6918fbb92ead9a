// edge_sandbox_harness.mjs: runs the package inside a node:vm context shaped like an edge worker
// (Cloudflare Workers, Deno Deploy, Vercel Edge): only web globals, no process/require/Worker/DOM,
// no code generation from strings, and no wasm compilation from bytes (a precompiled
// WebAssembly.Module is handed in, as those platforms do). Needs --experimental-vm-modules;
// edge_sandbox.test.mjs starts it and reads the JSON it prints.
import vm from 'node:vm';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { fakePackedModel } from './fake_edgebert.mjs';
import { repoFiles, startServer } from './helpers.mjs';

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
  ]),
});

// Compiled outside: inside, code generation for wasm is disallowed.
const realModule = await WebAssembly.compile(await readFile(realWasmPath));
const emptyModule = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));

// A TEST DOUBLE of Cache Storage (edge workers and browsers have caches; Node 20 does not). Like
// the real one it ignores URL fragments in keys and stores copies of the responses.
function fakeCacheStorage() {
  const stores = new Map();
  const keyOf = (k) => { const u = new URL(typeof k === 'string' ? k : k.url); u.hash = ''; return u.href; };
  return {
    async open(name) {
      if (!stores.has(name)) stores.set(name, new Map());
      const store = stores.get(name);
      return {
        async match(key) {
          const hit = store.get(keyOf(key));
          return hit ? new Response(hit.body.slice(), { status: hit.status, headers: hit.headers }) : undefined;
        },
        async put(key, response) {
          store.set(keyOf(key), { body: new Uint8Array(await response.arrayBuffer()), status: response.status, headers: [...response.headers] });
        },
      };
    },
  };
}

let report;
const done = new Promise((resolve) => { report = resolve; });
const globals = {
  fetch, Request, Response, Headers, URL, URLSearchParams, Blob, ReadableStream, WritableStream, TransformStream,
  TextEncoder, TextDecoder, crypto, AbortController, AbortSignal, Event, EventTarget, setTimeout, clearTimeout,
  queueMicrotask, structuredClone, atob, btoa, console, caches: fakeCacheStorage(),
  // What the test hands in (the platform's bundler would provide these):
  __edge: { baseUrl: server.baseUrl, realModule, emptyModule, report, stopServer: () => server.close() },
};
const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false }, name: 'edge-sandbox' });

const cache = new Map();
async function load(url) {
  if (cache.has(url)) return cache.get(url);
  if (!url.startsWith('file:')) throw new Error(`the sandbox has no module ${url} (edge code must not import node: modules)`);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const mod = new vm.SourceTextModule(source, {
    identifier: url,
    context,
    initializeImportMeta(meta) { meta.url = url; },
    importModuleDynamically: (spec) => { throw new Error(`dynamic import of ${spec} attempted inside the edge sandbox`); },
  });
  cache.set(url, mod);
  return mod;
}
const linker = async (spec, referencing) => load(new URL(spec, referencing.identifier).href);

const main = new vm.SourceTextModule(`
  import { pipeline, getBuildInfo, tokenizer } from ${JSON.stringify(indexUrl)};
  import realFactory from ${JSON.stringify(realGlueUrl)};
  import fakeFactory from ${JSON.stringify(fakeGlueUrl)};
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
  await step('buildInfo', () => getBuildInfo({ wasmModule: realModule, moduleFactory: realFactory }));
  await step('compileForbidden', () => getBuildInfo({ wasmUrl: baseUrl + '/edgebert.wasm', moduleFactory: realFactory }));
  await step('realLoad', () => pipeline('text-classification', baseUrl + '/m.ebm', { wasmModule: realModule, moduleFactory: realFactory }));
  const fake = { wasmModule: emptyModule, moduleFactory: fakeFactory };
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
    return { tokens: r.tokens, source: tok.info.model.tokenizer_source, lastProgress: last.overall, files: tok.info.files.map((f) => [f.name, f.cached]) };
  });
  await stopServer();
  await step('repoFromCacheStorage', async () => {
    const tok = await tokenizer({ repo: 'edge/tiny', baseUrl }, fake);
    const r = await tok('offline edge');
    await tok.dispose();
    return { tokens: r.tokens, files: tok.info.files.map((f) => [f.name, f.cached]) };
  });
  await step('workerDevice', () => pipeline('text-classification', baseUrl + '/m.ebm', { ...fake, device: 'worker' }));
  report(out);
`, { context, identifier: 'file:///edge-main.mjs', importModuleDynamically: () => { throw new Error('no dynamic import'); } });

try {
  await main.link(linker);
  await main.evaluate();
  const out = await done;
  process.stdout.write(JSON.stringify(out));
} finally {
  await server.close().catch(() => {});
}
