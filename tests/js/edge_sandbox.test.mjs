// edge_sandbox.test.mjs: the package in an edge-worker-like sandbox (node:vm with only web globals,
// no eval, no wasm compilation from bytes): the real build reports itself from a precompiled
// module, models load over fetch (fake engine) with the inline device chosen automatically, and
// Cache Storage serves the second load offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const harness = fileURLToPath(new URL('./edge_sandbox_harness.mjs', import.meta.url));

test('runs in an edge-like sandbox: no Node globals, no eval, precompiled wasm only', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-vm-modules', '--no-warnings', harness], { timeout: 15000 });
  const out = JSON.parse(stdout);
  // The sandbox is what it claims to be.
  for (const [name, type] of Object.entries(out.globals)) assert.equal(type, 'undefined', `${name} must not exist in the sandbox`);
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
  // Loading over fetch, running and disposing work inline (no Worker here).
  assert.equal(out.ebm.info, 'BertForSequenceClassification');
  assert.deepEqual(out.ebm.result[0].request, { text: 'hello edge', top_k: 2, function_to_apply: 'default', truncation: false });
  assert.deepEqual(out.repo.tokens, ['hello', 'edge']);
  assert.equal(out.repo.source, 'vocab.txt');
  assert.equal(out.repo.lastProgress.loaded, out.repo.lastProgress.total);
  assert.ok(out.repo.files.every(([, cached]) => !cached));
  // Cache Storage (here a test double with the real API's behaviour) serves the second load with
  // the server stopped, including the remembered 404 of tokenizer.json.
  assert.deepEqual(out.repoFromCacheStorage.tokens, ['offline', 'edge'], JSON.stringify(out.repoFromCacheStorage));
  assert.deepEqual(out.repoFromCacheStorage.files, out.repo.files.map(([name]) => [name, true]));
  assert.equal(out.workerDevice.error, 'Unsupported');
  assert.match(out.workerDevice.message, /needs Worker/);
});
