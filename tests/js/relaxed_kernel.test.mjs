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

test('worker/relaxed_kernel.mjs and .wasm, wasm/relaxed_kernel_shared.wasm are what src/gemm/relaxed/kernel.wat assembles to', async () => {
  const { assemble, render } = await import('../../scripts/gen_relaxed_kernel.mjs');
  const bytes = await assemble();
  const shared = await assemble({ shared: true });
  assert.equal(readFileSync(`${ROOT}worker/relaxed_kernel.mjs`, 'utf8'), render(bytes, shared),
    'stale: run node scripts/gen_relaxed_kernel.mjs');
  assert.deepEqual(relaxedKernelBytes(), new Uint8Array(bytes));
  assert.deepEqual(relaxedKernelBytes({ shared: true }), new Uint8Array(shared));
  assert.deepEqual(new Uint8Array(readFileSync(`${ROOT}worker/relaxed_kernel.wasm`)), new Uint8Array(bytes));
  assert.deepEqual(new Uint8Array(readFileSync(`${ROOT}wasm/relaxed_kernel_shared.wasm`)), new Uint8Array(shared));
});

// The stub's JS fallback (a pthread worker that could not compile the kernel computes the kernel's
// contract in JS): against the contract written out here, and, where this Node runs relaxed SIMD
// exactly, against the kernel itself, on random and extreme bytes.
test('the relaxed-kernel stub computes the kernel contract exactly in a pthread', async (t) => {
  let lib = null;
  const source = readFileSync(`${ROOT}wasm/relaxed_stub.js`, 'utf8');
  const memory = new WebAssembly.Memory({ initial: 1 });
  const HEAP8 = new Int8Array(memory.buffer), HEAPU8 = new Uint8Array(memory.buffer), HEAP32 = new Int32Array(memory.buffer);
  new Function('mergeInto', 'LibraryManager', 'ENVIRONMENT_IS_PTHREAD', 'HEAP8', 'HEAPU8', 'HEAP32', source)(
    (_, o) => { lib = o; }, { library: {} }, true, HEAP8, HEAPU8, HEAP32);
  const mainThread = { lib: null };
  new Function('mergeInto', 'LibraryManager', 'ENVIRONMENT_IS_PTHREAD', source)((_, o) => { mainThread.lib = o; }, { library: {} }, false);
  assert.throws(() => mainThread.lib.eb_relaxed_kernel(0, 4, 0, 0, 1, 0), /stub called/);
  let kernel = null;
  try {
    kernel = new WebAssembly.Instance(new WebAssembly.Module(relaxedKernelBytes()), { env: { memory } }).exports.kernel;
  } catch { /* no relaxed SIMD in this Node: the contract alone */ }
  let seed = 7;
  const next = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed >>> 24; };
  const LHS = 1024, RHS = 4096, BIAS = 16384, DST = 20480, STRIDE = 6;
  for (let trial = 0; trial < 40; trial++) {
    const blocks = trial % 9;  // 0 blocks too
    const pattern = trial % 4;  // random, then the extremes
    for (let i = 0; i < 32 * blocks; i++) HEAP8[LHS + i] = pattern === 0 ? next() - 128 : pattern === 1 ? 127 : pattern === 2 ? -128 : (i & 1 ? 127 : -128);
    for (let i = 0; i < 64 * blocks; i++) HEAPU8[RHS + i] = pattern === 0 ? next() : 255;
    for (let c = 0; c < 4; c++) HEAP32[(BIAS >> 2) + c] = pattern === 0 ? (next() << 16) - (1 << 23) : 128 * 255 * 16 * blocks;
    const want = [];
    for (let c = 0; c < 4; c++) {
      for (let r = 0; r < 2; r++) {
        let s = HEAP32[(BIAS >> 2) + c];
        for (let d = 0; d < 16 * blocks; d++) s += HEAP8[LHS + 32 * (d >> 4) + 16 * r + (d & 15)] * HEAPU8[RHS + 64 * (d >> 4) + 16 * c + (d & 15)];
        want.push([c * STRIDE + r, s | 0]);
      }
    }
    lib.eb_relaxed_kernel(DST, STRIDE, LHS, RHS, blocks, BIAS);
    for (const [at, v] of want) assert.equal(HEAP32[(DST >> 2) + at], v, `trial ${trial}, element ${at}`);
    if (kernel) {
      HEAP32.fill(0, DST >> 2, (DST >> 2) + 4 * STRIDE);
      kernel(DST, STRIDE, LHS, RHS, blocks, BIAS);
      for (const [at, v] of want) assert.equal(HEAP32[(DST >> 2) + at], v, `kernel, trial ${trial}, element ${at}`);
    }
  }
  if (!kernel) t.diagnostic('no relaxed SIMD in this Node: checked against the contract only');
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
