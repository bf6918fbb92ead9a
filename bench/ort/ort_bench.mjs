// ort_bench.mjs: latency of onnxruntime-web's wasm backend (one thread, SIMD) on the q8 DistilBERT
// model from make_models.py: the baseline that edgebert's full-model benchmark reports ratios to.
//
//   node bench/ort/ort_bench.mjs [--seq 16,128,384] [--runs 10] [--json]
// Prints, per sequence length: session creation time, the first run after it, and the median of
// the steady-state runs (batch 1).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const seqs = opt('--seq', '16,128,384').split(',').map(Number);
const runs = Number(opt('--runs', '10'));
const modelPath = fileURLToPath(new URL('../models/distilbert-base/onnx/model_quantized.onnx', import.meta.url));

ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

function feeds(seq) {
  const ids = new BigInt64Array(seq);
  for (let i = 0; i < seq; ++i) ids[i] = BigInt(1000 + ((i * 7919) % 28000));
  ids[0] = 101n; ids[seq - 1] = 102n;
  return {
    input_ids: new ort.Tensor('int64', ids, [1, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
  };
}

const bytes = await readFile(modelPath);
const results = [];
for (const seq of seqs) {
  // A fresh session per length so that "first run" means first run after load, as a user sees it.
  let t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const createMs = performance.now() - t0;
  const f = feeds(seq);
  t0 = performance.now();
  await session.run(f);
  const firstMs = performance.now() - t0;
  const times = [];
  for (let r = 0; r < runs; ++r) {
    t0 = performance.now();
    await session.run(f);
    times.push(performance.now() - t0);
  }
  results.push({ engine: 'onnxruntime-web q8', seq, createMs, firstMs, medianMs: median(times), runs });
  await session.release();
}
if (args.includes('--json')) {
  console.log(JSON.stringify(results));
} else {
  console.log('engine               seq   create_ms  first_ms  median_ms');
  for (const r of results) {
    console.log(`${r.engine.padEnd(20)} ${String(r.seq).padStart(4)} ${r.createMs.toFixed(0).padStart(10)} ${r.firstMs.toFixed(1).padStart(9)} ${r.medianMs.toFixed(1).padStart(10)}`);
  }
}
