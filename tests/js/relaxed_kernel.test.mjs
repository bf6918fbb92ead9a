// relaxed_kernel.test.mjs: the relaxed-SIMD GEMM kernel's plumbing in Node: the committed module is
// what kernel.wat assembles to, and the loader only turns the kernel on where the instruction is
// exact (Node 20 has no relaxed SIMD by default, and with --experimental-wasm-relaxed-simd its
// baseline tier returns doubled sums, which the probe must catch). The kernel's numbers against
// the SIMD128 kernel are tested in Chromium (tests/browser/relaxed_kernel.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { relaxedKernelBytes } from '../../worker/relaxed_kernel.mjs';
import { instantiateEdgebert } from '../../worker/wasm_loader.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WASM = `${ROOT}build/wasm/wasm/edgebert.wasm`;
const built = existsSync(WASM) ? null : 'build/wasm is missing (scripts/build.sh wasm)';
const loadFactory = async () => (await import(`${ROOT}build/wasm/wasm/edgebert.mjs`)).default;

test('worker/relaxed_kernel.mjs and .wasm are what src/gemm/relaxed/kernel.wat assembles to', async () => {
  const { assemble, render } = await import('../../scripts/gen_relaxed_kernel.mjs');
  const bytes = await assemble();
  assert.equal(readFileSync(`${ROOT}worker/relaxed_kernel.mjs`, 'utf8'), render(bytes),
    'stale: run node scripts/gen_relaxed_kernel.mjs');
  assert.deepEqual(relaxedKernelBytes(), new Uint8Array(bytes));
  assert.deepEqual(new Uint8Array(readFileSync(`${ROOT}worker/relaxed_kernel.wasm`)), new Uint8Array(bytes));
});

test('pipeline options: relaxedSimd and relaxedKernelModule are checked', async () => {
  const { createRuntime } = await import('../../worker/index.mjs');
  await assert.rejects(createRuntime({ relaxedSimd: 'yes' }), /InvalidArgument|relaxedSimd must be true or false/);
  await assert.rejects(createRuntime({ relaxedKernelModule: new Uint8Array(4) }), /relaxedKernelModule must be a compiled WebAssembly.Module/);
});

test('the loader reports which GEMM kernel runs, and why', { skip: built || false }, async () => {
  const factory = await loadFactory();
  const off = await instantiateEdgebert({ factory, wasm: WASM, relaxedSimd: false });
  // Through the public API too: the option reaches the loader in the worker.
  const { getBuildInfo } = await import('../../worker/index.mjs');
  const viaApi = await getBuildInfo({ relaxedSimd: false });
  assert.equal(viaApi.relaxed_simd, false);
  assert.equal(viaApi.gemmReason, 'disabled by the caller (relaxedSimd: false)');
  assert.deepEqual(off.edgebertGemm, { relaxed: false, reason: 'disabled by the caller (relaxedSimd: false)' });
  const auto = await instantiateEdgebert({ factory, wasm: WASM });
  if (!WebAssembly.validate(relaxedKernelBytes())) {
    assert.equal(auto.edgebertGemm.relaxed, false);
    assert.match(auto.edgebertGemm.reason, /^no relaxed SIMD in this engine/);
  }
  // Whatever the engine, the build info agrees with the loader.
  const slot = auto._eb_malloc(4);
  assert.equal(auto._eb_build_info(slot), 0);
  const info = JSON.parse(auto.UTF8ToString(auto.HEAPU32[slot >> 2]));
  assert.equal(info.relaxed_simd, auto.edgebertGemm.relaxed);
  assert.match(info.gemm_kernel, auto.edgebertGemm.relaxed ? /^WasmRelaxed_/ : /^WasmSimd128_/);
});

// Node 20's Liftoff computes relaxed_dot_i8x16_i7x16_add_s as twice the exact sums: a loader that
// trusted the instruction there would give wrong answers until TurboFan took over.
const major = Number(process.versions.node.split('.')[0]);
test('Node 20 with --experimental-wasm-relaxed-simd: the probe sees the wrong sums and keeps SIMD128',
  { skip: built || (major !== 20 && `node ${process.version}: the flag and its baseline-tier bug are Node 20's`) }, () => {
    const script = `
      import { instantiateEdgebert } from ${JSON.stringify(`${ROOT}worker/wasm_loader.mjs`)};
      const { default: factory } = await import(${JSON.stringify(`${ROOT}build/wasm/wasm/edgebert.mjs`)});
      const m = await instantiateEdgebert({ factory, wasm: ${JSON.stringify(WASM)} });
      console.log(JSON.stringify(m.edgebertGemm));`;
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const gemm = JSON.parse(out.trim().split('\n').pop());
    assert.equal(gemm.relaxed, false);
    assert.match(gemm.reason, /^relaxed dot is not exact unsigned x signed here \(lane 0: \d+, want \d+, call 0\)/);
  });
