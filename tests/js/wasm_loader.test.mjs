// wasm_loader.test.mjs: the release ES module (build/wasm/wasm/edgebert.mjs) loads in Node through
// the shared loader from a path, from bytes and from a precompiled WebAssembly.Module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { instantiateEdgebert } from '../../worker/wasm_loader.mjs';

const buildDir = new URL('../../build/wasm/wasm/', import.meta.url);
const { default: factory } = await import(new URL('edgebert.mjs', buildDir));
const wasmPath = fileURLToPath(new URL('edgebert.wasm', buildDir));

function version(mod) {
  return mod.UTF8ToString(mod._eb_version());
}

test('loads from a file path', async () => {
  const mod = await instantiateEdgebert({ factory, wasm: wasmPath });
  assert.match(version(mod), /^\d+\.\d+\.\d+$/);
});

test('loads from bytes', async () => {
  const mod = await instantiateEdgebert({ factory, wasm: await readFile(wasmPath) });
  assert.match(version(mod), /^\d+\.\d+\.\d+$/);
});

test('loads from a precompiled module (edge runtimes forbid compiling from bytes)', async () => {
  const compiled = await WebAssembly.compile(await readFile(wasmPath));
  const mod = await instantiateEdgebert({ factory, wasm: compiled });
  assert.match(version(mod), /^\d+\.\d+\.\d+$/);
});

test('a missing file is a clear error', async () => {
  await assert.rejects(instantiateEdgebert({ factory, wasm: '/nonexistent/edgebert.wasm' }), /ENOENT/);
});

test('the glue and our JS use no eval or new Function (CSP with only wasm-unsafe-eval)', async () => {
  const sources = [new URL('edgebert.mjs', buildDir), new URL('../../worker/wasm_loader.mjs', import.meta.url)];
  for (const src of sources) {
    const text = await readFile(src, 'utf8');
    assert.doesNotMatch(text, /\beval\s*\(|new\s+Function\s*\(/, `${src} must not evaluate strings as code`);
  }
});

test('the real build reports itself the same way in a worker_threads Worker and inline', async () => {
  const { getBuildInfo, createRuntime } = await import('../../worker/index.mjs');
  const mod = await instantiateEdgebert({ factory, wasm: wasmPath });
  for (const device of ['worker', 'inline']) {
    const info = await getBuildInfo({ device });
    assert.equal(info.version, version(mod));
    // Node runs the single-thread build (the pthreads glue is built for browsers), and says so.
    assert.equal(info.build, 'simd128-single-thread');
    assert.equal(info.threads, 1);
    assert.match(info.threadsReason, /'auto' chose the single-thread build: Node runs the single-thread build/);
    assert.equal(info.abi, typeof mod._eb_run === 'function', 'abi says whether the model ABI is exported');
  }
  await assert.rejects(createRuntime({ device: 'worker', threads: 4 }), (e) => e.code === 'Unsupported' && /threads: 4 requested/.test(e.message));
});

test('the worker-side JS uses no eval or new Function either', async () => {
  const { readdir } = await import('node:fs/promises');
  const dir = new URL('../../worker/', import.meta.url);
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.mjs'))) {
    const text = await readFile(new URL(name, dir), 'utf8');
    assert.doesNotMatch(text, /\beval\s*\(|new\s+Function\s*\(/, `worker/${name} must not evaluate strings as code`);
  }
});

test('a missing wasm or glue is a clear error from the API, and the next runtime still starts', async () => {
  const { createRuntime, getBuildInfo } = await import('../../worker/index.mjs');
  await assert.rejects(createRuntime({ device: 'worker', wasmUrl: '/nonexistent/edgebert.wasm' }),
    (e) => e.code === 'NotFound' && /edgebert\.wasm not found at \/nonexistent\/edgebert\.wasm/.test(e.message));
  await assert.rejects(createRuntime({ device: 'inline', glueUrl: new URL('file:///nonexistent/edgebert.mjs') }),
    (e) => e.code === 'NotFound' && /cannot import the engine glue/.test(e.message));
  assert.equal((await getBuildInfo({ device: 'inline' })).threads, 1);
});

test('relative wasmUrl/glueUrl are the caller\'s paths (resolved before the worker sees them)', async () => {
  const { getBuildInfo } = await import('../../worker/index.mjs');
  const { relative } = await import('node:path');
  const rel = (p) => relative(process.cwd(), fileURLToPath(new URL(p, buildDir)));
  for (const device of ['worker', 'inline']) {
    const info = await getBuildInfo({ device, wasmUrl: rel('edgebert.wasm'), glueUrl: rel('edgebert.mjs') });
    assert.match(info.version, /^\d+\.\d+\.\d+$/);
  }
});
