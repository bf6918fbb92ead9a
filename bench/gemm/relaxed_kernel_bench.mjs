// relaxed_kernel_bench.mjs: the relaxed-SIMD kernel module (worker/relaxed_kernel.mjs) by itself:
// what its probe returns, whether the kernel matches a JS reference (random and extreme values),
// and its speed on long-depth blocks (the lhs/rhs of one call, 192 KB, in L2), in GMAC/s, in this
// Node and in headless Chromium.
//   node bench/gemm/relaxed_kernel_bench.mjs            (this node, then Chromium if installed)
//   <other node> bench/gemm/relaxed_kernel_bench.mjs --no-browser
//   node bench/gemm/relaxed_kernel_bench.mjs --check   exit 0 only if this node runs the kernel exactly
//                                                       (no speed runs, no browser: scripts/test.sh)
import { existsSync } from 'node:fs';
import { relaxedKernelBytes } from '../../worker/relaxed_kernel.mjs';

// Runs inside the engine under test (serialized into the page for Chromium): no closures.
async function measure(bytes, speed = true) {
  let module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (err) {
    return { supported: false, error: String(err.message || err) };
  }
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { kernel, probe } = (await WebAssembly.instantiate(module, { env: { memory } })).exports;
  const u8 = new Uint8Array(memory.buffer), i8 = new Int8Array(memory.buffer), i32 = new Int32Array(memory.buffer);
  const A = [127, -128, 5, -7, 100, -100, 1, 2, -1, -2, 3, 4, 64, -64, 127, -128];
  const B = [255, 255, 255, 128, 129, 200, 0, 127, 250, 251, 252, 253, 254, 255, 128, 255];
  i8.set(A, 0); u8.set(B, 16); i32.fill(0, 8, 12);
  probe(0);
  const probeGot = Array.from(i32.subarray(12, 16));
  const exactUnsigned = [0, 1, 2, 3].map((l) => { let s = 0; for (let j = 4 * l; j < 4 * l + 4; ++j) s += A[j] * B[j]; return s; });
  // Correctness: 20 blocks of 48 depth steps (768 deep), random values and all-extreme values.
  const L = 4096, R = 16384, D = 65536, BIAS = 60000, blocks = 48, stride = 7;
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  let mismatches = 0;
  for (let trial = 0; trial < 20; ++trial) {
    for (let i = 0; i < blocks * 32; ++i) i8[L + i] = trial === 0 ? (i % 2 ? 127 : -128) : (rnd() % 256) - 128;
    for (let i = 0; i < blocks * 64; ++i) u8[R + i] = trial === 0 ? 255 : rnd() % 256;
    for (let c = 0; c < 4; ++c) i32[BIAS / 4 + c] = (rnd() % 1000) - 500;
    kernel(D, stride, L, R, blocks, BIAS);
    for (let c = 0; c < 4; ++c) {
      for (let r = 0; r < 2; ++r) {
        let s = i32[BIAS / 4 + c];
        for (let d = 0; d < blocks * 16; ++d) s += i8[L + (d >> 4) * 32 + r * 16 + (d & 15)] * u8[R + (d >> 4) * 64 + c * 16 + (d & 15)];
        if (i32[D / 4 + c * stride + r] !== s) ++mismatches;
      }
    }
  }
  if (!speed) return { supported: true, probeGot, exactUnsigned, probeExact: probeGot.join() === exactUnsigned.join(), mismatches };
  // Speed: 2048 depth steps per call (64 KB of lhs, 128 KB of rhs), best of 8 batches of 1000 calls.
  const big = 2048;
  for (let i = 0; i < 200; ++i) kernel(D, 4, 1 << 20, 2 << 20, big, BIAS);
  let best = 0;
  for (let rep = 0; rep < 8; ++rep) {
    const t0 = performance.now();
    for (let i = 0; i < 1000; ++i) kernel(D, 4, 1 << 20, 2 << 20, big, BIAS);
    best = Math.max(best, (1000 * big * 128) / (performance.now() - t0) / 1e6);
  }
  return { supported: true, probeGot, exactUnsigned, probeExact: probeGot.join() === exactUnsigned.join(), mismatches, gmacs: Number(best.toFixed(1)) };
}

const bytes = relaxedKernelBytes();
const check = process.argv.includes('--check');
const here = await measure(bytes, !check);
console.log(JSON.stringify({ engine: `node ${process.version}`, ...here }));
if (check) process.exit(here.supported && here.probeExact && here.mismatches === 0 ? 0 : 1);
if (!process.argv.includes('--no-browser') && existsSync('/usr/bin/chromium')) {
  const { launchBrowser } = await import('../../tests/browser/harness.mjs');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const result = await page.evaluate(async ([src, b]) => {
      const fn = (0, eval)(`(${src})`);  // eslint-disable-line no-eval
      return fn(new Uint8Array(b));
    }, [measure.toString(), Array.from(bytes)]);
    console.log(JSON.stringify({ engine: `chromium ${browser.version()}`, ...result }));
  } finally {
    await browser.close();
  }
}
