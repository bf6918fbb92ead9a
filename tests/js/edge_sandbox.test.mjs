// edge_sandbox.test.mjs: the package in node:vm sandboxes with only web globals, no eval and no
// wasm compilation from bytes: an edge worker (no Worker: inline chosen automatically) and a
// browser page whose module Worker runs worker/worker.mjs's browser branch. The real build
// reports itself from a precompiled module; models load over fetch (fake engine); Cache Storage
// serves the second load offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const harness = fileURLToPath(new URL('./edge_sandbox_harness.mjs', import.meta.url));

async function runHarness(scenario) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-vm-modules', '--no-warnings', harness, scenario], { timeout: 15000 });
  return JSON.parse(stdout);
}

for (const scenario of ['edge', 'page']) test(`${scenario === 'edge' ? 'an edge worker' : 'a browser page with a module Worker'}: no Node globals, no eval, precompiled wasm only`, async () => {
  const out = await runHarness(scenario);
  // The sandbox is what it claims to be.
  for (const [name, type] of Object.entries(out.globals)) {
    assert.equal(type, name === 'Worker' && scenario === 'page' ? 'function' : 'undefined', `${name} in the ${scenario} sandbox`);
  }
  assert.equal(out.page, scenario === 'page');
  assert.equal(out.eval, 'EvalError');
  assert.equal(out.compileFromBytes, 'CompileError');
  // The real build instantiates from the precompiled module and says which build it is.
  assert.match(out.buildInfo.version, /^\d+\.\d+\.\d+$/);
  assert.equal(out.buildInfo.build, 'simd128-single-thread');
  assert.equal(out.buildInfo.threads, 1);
  // Without wasmModule, the wasm would be compiled from bytes: the error says what to pass instead.
  assert.equal(out.compileForbidden.error, 'Unsupported', JSON.stringify(out.compileForbidden));
  assert.match(out.compileForbidden.message, /forbids compiling wasm from bytes.*pass the precompiled module as wasmModule/);
  if (out.buildInfo.abi) {
    // With the engine ABI, the fake packed file is rejected by the real engine's format check.
    assert.equal(out.realLoad.error, 'CorruptData', JSON.stringify(out.realLoad));
  } else {
    assert.equal(out.realLoad.error, 'Unsupported');
    assert.match(out.realLoad.message, /engine ABI not built yet/);
  }
  // Loading over fetch, running and disposing work (inline on the edge, in the Worker on the page);
  // embeddings arrive as a Float32Array (transferred from the worker on the page).
  assert.deepEqual(out.embed.dims, [1, 3, 2], JSON.stringify(out.embed));
  assert.equal(out.embed.isFloat32, '[object Float32Array]');
  assert.deepEqual(out.embed.list, [[[0, 0.5], [1, 1.5], [2, 2.5]]]);
  assert.equal(out.ebm.info, 'BertForSequenceClassification');
  assert.deepEqual(out.ebm.result[0].request, { text: 'hello edge', top_k: 2, function_to_apply: 'default', truncation: false });
  assert.deepEqual(out.repo.tokens, ['hello', 'edge']);
  assert.equal(out.repo.source, 'vocab.txt');
  assert.equal(out.repo.lastProgress.loaded, out.repo.lastProgress.total);
  assert.ok(out.repo.files.every(([, cached]) => !cached));
  assert.equal(out.repo.conversion, 'converted');
  // Cache Storage (here a test double with the real API's behaviour) serves the second load with
  // the server stopped: the packed model converted by the first one (the remembered 404 of
  // tokenizer.json settles which files key it); without that, the checkpoint's files.
  assert.deepEqual(out.repoFromCacheStorage.tokens, ['offline', 'edge'], JSON.stringify(out.repoFromCacheStorage));
  assert.deepEqual(out.repoFromCacheStorage.files, [['model.ebm', true]]);
  assert.equal(out.repoFromCacheStorage.conversion, 'cached');
  assert.deepEqual(out.repoRawFromCacheStorage.tokens, ['offline', 'edge'], JSON.stringify(out.repoRawFromCacheStorage));
  assert.deepEqual(out.repoRawFromCacheStorage.files, out.repo.files.map(([name]) => [name, true]));
  assert.equal(out.repoRawFromCacheStorage.conversion, 'converted');
  if (scenario === 'edge') {
    assert.equal(out.workerDevice.error, 'Unsupported');
    assert.match(out.workerDevice.message, /needs Worker/);
  } else {
    assert.equal(out.workerDevice.error, 'InvalidArgument');
    assert.match(out.workerDevice.message, /moduleFactory cannot be sent to a worker/);
  }
});

test('threads: a cross-origin-isolated page runs the real pthreads build; otherwise the single-thread one, and says why', async () => {
  const iso = await runHarness('isolated');
  assert.equal(iso.auto.build, 'simd128-pthreads', JSON.stringify(iso.auto));
  assert.match(iso.auto.threadsReason, /'auto' chose the pthreads build/);
  assert.match(iso.auto.version, /^\d+\.\d+\.\d+$/);
  assert.equal(iso.one.build, 'simd128-single-thread');
  assert.equal(iso.one.threads, 1);
  assert.equal(iso.four.build, 'simd128-pthreads');
  assert.equal(iso.four.threadsRequested, 4);
  // The engine's worker started, and the pthreads glue started its pool (PTHREAD_POOL_SIZE=4)
  // from edgebert-threads.worker.js for each of the two pthreads runtimes.
  assert.equal(iso.workersStarted.filter((w) => w === 'worker.mjs').length, 3);
  assert.equal(iso.workersStarted.filter((w) => w === 'edgebert-threads.worker.js').length, 8);

  const plain = await runHarness('not-isolated');
  assert.equal(plain.auto.build, 'simd128-single-thread');
  assert.match(plain.auto.threadsReason, /not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy: same-origin/);
  assert.equal(plain.four.error, 'Unsupported');
  assert.match(plain.four.message, /threads: 4 requested, but the pthreads build cannot run: the page is not cross-origin isolated/);
  assert.ok(!plain.workersStarted.includes('edgebert-threads.worker.js'));
});
