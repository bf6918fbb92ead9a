// bench.js: times the wasm GEMM variants of gemm_wasm_bench.cc call by call under node.
// Usage: node bench.js <module.js> [--first VARIANT M N K] [--json]
//   default: for each DistilBERT shape, every variant: first call, second call, median of the rest.
//   --first: a fresh process times only the first few calls of one variant (V8 tiering evidence).
'use strict';
const path = require('path');
const { performance } = require('perf_hooks');

const args = process.argv.slice(2);
const modulePath = path.resolve(args[0]);
const json = args.includes('--json');
const quick = args.includes('--quick');  // 128x768x768 only
const onlyIdx = args.indexOf('--variants');  // comma-separated subset of VARIANTS
const only = onlyIdx >= 0 ? args[onlyIdx + 1].split(',') : null;
const firstIdx = args.indexOf('--first');

const VARIANTS = {
  qlinear: 'bench_qlinear',
  simd128_prepacked: 'bench_simd128_prepacked',
  simd128_gemmlowp_driver: 'bench_simd128_gemmlowp_driver',
  gemmlowp_reference: 'bench_gemmlowp_reference_kernel',
};

function timeCalls(fn, calls) {
  const t = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t;
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

// Emscripten 3.1.6's node glue runs main-less modules on load; wait for the runtime.
const Module = require(modulePath);
Module.onRuntimeInitialized = () => {
  const setup = Module.cwrap('bench_setup', 'number', ['number', 'number', 'number']);
  const checksum = Module.cwrap('bench_checksum', 'number', []);
  const name = (f) => Module.UTF8ToString(Module['_' + f]());
  const fns = {};
  for (const [k, f] of Object.entries(VARIANTS)) if (!only || only.includes(k)) fns[k] = Module['_' + f];
  // EDGEBERT_WASM_RELAXED (node_prejs.js wired the relaxed-SIMD kernel): our driver's variants run it.
  if (process.env.EDGEBERT_WASM_RELAXED && Module._bench_set_relaxed(1) !== 1) throw new Error('the relaxed kernel failed its check');

  if (firstIdx >= 0) {
    const variant = args[firstIdx + 1];
    const [m, n, k] = args.slice(firstIdx + 2, firstIdx + 5).map(Number);
    if (setup(m, n, k) !== 0) throw new Error('setup failed');
    const t = timeCalls(fns[variant], 6);
    const macs = m * n * k;
    const out = { variant, m, n, k, ms: t, gmacs: t.map((x) => macs / x / 1e6) };
    console.log(JSON.stringify(out));
    return;
  }

  const shapes = [];
  shapes.push([1, 768, 768]);
  for (const m of [16, 128, 384]) for (const [k, n] of [[768, 768], [768, 3072], [3072, 768]]) shapes.push([m, n, k]);
  const rows = [];
  for (const [m, n, k] of shapes) {
    if (quick && !(m === 128 && n === 768 && k === 768)) continue;
    if (setup(m, n, k) !== 0) throw new Error('setup failed');
    const macs = m * n * k;
    const sums = {};
    for (const [v, fn] of Object.entries(fns)) {
      // About 0.3 s per variant and shape (at least 3 calls).
      const first = timeCalls(fn, 1)[0];
      const probe = timeCalls(fn, 1)[0];
      const calls = Math.max(3, Math.min(200, Math.round(300 / probe)));
      const rest = timeCalls(fn, calls);
      if (v !== 'qlinear') sums[v] = checksum();
      rows.push({ m, n, k, variant: v, first_ms: first, second_ms: probe, median_ms: median(rest),
                  best_ms: Math.min(...rest), calls });
    }
    const vals = Object.values(sums);
    if (!vals.every((x) => x === vals[0])) throw new Error(`variants disagree at ${m}x${n}x${k}: ${JSON.stringify(sums)}`);
  }
  const info = { kernel: name('bench_kernel_name'), reference_kernel: name('bench_reference_kernel_name'), node: process.version };
  if (json) {
    console.log(JSON.stringify({ info, rows }));
  } else {
    console.log(info);
    for (const r of rows) console.log(`${r.m}x${r.n}x${r.k} ${r.variant.padEnd(24)} first ${r.first_ms.toFixed(2)} ms  second ${r.second_ms.toFixed(2)} ms  median ${r.median_ms.toFixed(2)} ms  best ${r.best_ms.toFixed(2)} ms  ${(r.m * r.n * r.k / r.best_ms / 1e6).toFixed(1)} GMAC/s`);
  }
};
