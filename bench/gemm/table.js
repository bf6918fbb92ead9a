// table.js: formats the results of bench/gemm/run.sh (native.jsonl, wasm.json, tiering.jsonl) as
// markdown tables. GMAC/s = m*n*k / time; "best" is the fastest single call, "median" the median call.
'use strict';
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const lines = (f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map(JSON.parse);

const native = new Map();  // keep the best of the repeated native runs
for (const r of lines('native.jsonl')) {
  const key = `${r.m}x${r.n}x${r.k} ${r.variant}`;
  const prev = native.get(key);
  if (!prev || r.best_ms < prev.best_ms) native.set(key, r);
}
const wasm = JSON.parse(fs.readFileSync(path.join(dir, 'wasm.json'), 'utf8'));
const scalar = JSON.parse(fs.readFileSync(path.join(dir, 'wasm_scalar.json'), 'utf8'));
for (const r of scalar.rows) r.variant = 'gemmlowp_reference_scalar';
let relaxed = null;  // wasm_relaxed.json: our driver's variants through the relaxed kernel (Node 24)
if (fs.existsSync(path.join(dir, 'wasm_relaxed.json'))) {
  relaxed = JSON.parse(fs.readFileSync(path.join(dir, 'wasm_relaxed.json'), 'utf8'));
  for (const r of relaxed.rows) r.variant = `relaxed_${r.variant}`;
}
const all = [...native.values(), ...wasm.rows, ...scalar.rows, ...(relaxed ? relaxed.rows : [])];
const gmacs = (r, t) => (r.m * r.n * r.k / t / 1e6).toFixed(1);
const LABEL = {
  native_gemmlowp_sse4: 'native: gemmlowp public API, SSE4 12x4 kernel (packs both sides per call)',
  native_sse4_prepacked: 'native: our driver + gemmlowp SSE4 kernel, weights prepacked',
  native_gemmlowp_avx2: 'native: gemmlowp public API, AVX2 24x8 kernel (packs both sides per call)',
  native_avx2_prepacked: 'native: our driver + gemmlowp AVX2 kernel, weights prepacked',
  simd128_prepacked: 'wasm: our driver + SIMD128 2x4 kernel (int16 rhs), weights prepacked',
  simd128_gemmlowp_driver: 'wasm: gemmlowp driver + SIMD128 8x4 kernel (packs both sides per call)',
  gemmlowp_reference: 'wasm: gemmlowp public API, ReferenceKernel as clang autovectorizes it with -msimd128 (packs both sides per call)',
  gemmlowp_reference_scalar: 'wasm: gemmlowp public API, ReferenceKernel built scalar (no -msimd128, no autovectorization)',
  qlinear: 'wasm: QLinear end to end (fp32 in: quantize + GEMM + dequantize)',
  relaxed_simd128_prepacked: 'wasm, Node 24: our driver + relaxed-SIMD 2x4 kernel (vpdpbusd), weights prepacked',
  relaxed_qlinear: 'wasm, Node 24: QLinear end to end with the relaxed-SIMD kernel',
  relaxed_simd128_gemmlowp_driver: 'wasm, Node 24: gemmlowp driver + SIMD128 8x4 kernel (same run as the two above)',
};
console.log(`wasm kernel: ${wasm.info.kernel}; fallback: ${wasm.info.reference_kernel}; node ${wasm.info.node}` +
            (relaxed ? `; relaxed run: ${relaxed.info.kernel}, node ${relaxed.info.node}` : '') + '\n');
console.log('| m x n x k | variant | first call ms | median ms | best ms | GMAC/s (best) | GMAC/s (median) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
const shapes = [...new Set(all.map((r) => `${r.m}x${r.n}x${r.k}`))];
for (const s of shapes) {
  for (const v of Object.keys(LABEL)) {
    const r = all.find((x) => `${x.m}x${x.n}x${x.k}` === s && x.variant === v);
    if (!r) continue;
    console.log(`| ${s} | ${LABEL[v]} | ${r.first_ms.toFixed(2)} | ${r.median_ms.toFixed(2)} | ${r.best_ms.toFixed(2)} | ${gmacs(r, r.best_ms)} | ${gmacs(r, r.median_ms)} |`);
  }
}
const pick = (v) => all.find((x) => x.m === 128 && x.n === 768 && x.k === 768 && x.variant === v);
const ours = pick('simd128_prepacked'), sse = pick('native_gemmlowp_sse4'), avx2 = pick('native_gemmlowp_avx2');
const ref = pick('gemmlowp_reference'), refs = pick('gemmlowp_reference_scalar');
const ratio = (a, b) => `${(a.best_ms / b.best_ms).toFixed(2)}x (best), ${(a.median_ms / b.median_ms).toFixed(2)}x (median)`;
if (ours && sse && ref && refs) {
  console.log(`\n128x768x768, wasm SIMD128 (our driver, weights prepacked) is faster than:`);
  console.log(`- native gemmlowp SSE4 (public API): ${ratio(sse, ours)}`);
  if (avx2) console.log(`- native gemmlowp AVX2 (public API): ${ratio(avx2, ours)}`);
  console.log(`- wasm gemmlowp ReferenceKernel, autovectorized (same binary): ${ratio(ref, ours)}`);
  console.log(`- wasm gemmlowp ReferenceKernel, scalar build: ${ratio(refs, ours)}`);
}
const rx = pick('relaxed_simd128_prepacked');
if (rx && sse && ref && refs && ours) {
  console.log(`\n128x768x768, wasm relaxed-SIMD kernel (Node 24, our driver, weights prepacked) is faster than:`);
  console.log(`- native gemmlowp SSE4 (public API): ${ratio(sse, rx)}`);
  if (avx2) console.log(`- native gemmlowp AVX2 (public API): ${ratio(avx2, rx)}`);
  console.log(`- wasm SIMD128 kernel (Node 20 run): ${ratio(ours, rx)}`);
  console.log(`- wasm gemmlowp ReferenceKernel, autovectorized: ${ratio(ref, rx)}`);
  console.log(`- wasm gemmlowp ReferenceKernel, scalar build: ${ratio(refs, rx)}`);
}
// Each (variant, tier) ran in several fresh processes; per call index we show the best and the
// median over those processes, which separates V8's tiering from other load on a shared machine.
console.log('\nV8 tiering, 128x768x768: calls 1..6 of a fresh node process, ms as best / median over processes:\n');
console.log('| variant | V8 tiers | processes | call 1 | call 2 | call 3 | call 4 | call 5 | call 6 |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
const groups = new Map();
for (const r of lines('tiering.jsonl')) {
  const key = `${r.variant}|${r.tier}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r.ms);
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [key, runs] of groups) {
  const [variant, tier] = key.split('|');
  const cells = runs[0].map((_, i) => {
    const col = runs.map((ms) => ms[i]);
    return `${Math.min(...col).toFixed(2)} / ${med(col).toFixed(2)}`;
  });
  console.log(`| ${variant} | ${tier} | ${runs.length} | ${cells.join(' | ')} |`);
}
