// compare.mjs: full-model latency of edgebert (wasm, SIMD128, one thread) against
// onnxruntime-web's wasm backend (one thread, SIMD) on the same DistilBERT-base weights, in the
// same node process, batch 1. The figures are ratios within one run (same machine, same moment).
//
//   bash bench/ort/run.sh            (makes the models and builds what is needed, then runs this)
//   node bench/ort/compare.mjs [--seq 16,128,384] [--runs 10] [--build build/wasm] [--json]
//
// --build picks the wasm build directory (relative to the repository root) holding wasm/edgebert.*.
//
// Per sequence length and engine: the model is loaded anew (ORT: InferenceSession.create;
// edgebert: the packed file copied into the heap and bound in place), then the first run after
// load ("first") and the median of `runs` further runs ("steady") are timed, the two engines'
// steady runs alternating; "median pair ratio" is the median over those adjacent pairs of
// edgebert / ORT (the least load-sensitive figure on a shared machine). Token ids are
// passed directly to both (no tokenizer), so this measures the encoders.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const seqs = opt('--seq', '16,128,384').split(',').map(Number);
const runs = Number(opt('--runs', '10'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const idsFor = (seq) => Array.from({ length: seq }, (_, i) => (i === 0 ? 101 : i === seq - 1 ? 102 : 1000 + ((i * 7919) % 28000)));

// ---- onnxruntime-web ------------------------------------------------------------------------------
ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';

// Loads a session; returns its load time and run(), which times one inference.
async function openOrt(onnxBytes, seq) {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const loadMs = performance.now() - t0;
  const ids = BigInt64Array.from(idsFor(seq), BigInt);
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, [1, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
  };
  return {
    loadMs,
    async run() {
      const t = performance.now();
      await session.run(feeds);
      return performance.now() - t;
    },
    close: () => session.release(),
  };
}

// ---- edgebert -------------------------------------------------------------------------------------
const buildDir = opt('--build', 'build/wasm');
const { default: factory } = await import(here(`../../${buildDir}/wasm/edgebert.mjs`));
const { instantiateEdgebert } = await import(here('../../worker/wasm_loader.mjs'));
const M = await instantiateEdgebert({ factory, wasm: here(`../../${buildDir}/wasm/edgebert.wasm`) });
const check = (rc, what) => { if (rc !== 0) throw new Error(`${what}: status ${rc}: ${M.UTF8ToString(M._eb_last_error())}`); };

function openEdgebert(packed, seq) {
  const t0 = performance.now();
  const buf = M._eb_enc_buffer_alloc(packed.length);
  M.HEAPU8.set(packed, buf);
  const slot = M._eb_malloc(8);
  check(M._eb_enc_model_load(buf, packed.length, slot), 'load');
  const model = M.HEAPU32[slot >> 2];
  const loadMs = performance.now() - t0;
  const ids = M._eb_malloc(4 * seq);
  M.HEAP32.set(Int32Array.from(idsFor(seq)), ids >> 2);
  const outs = M._eb_malloc(4 * 5), dims = M._eb_malloc(4 * 5);
  const rs = M._eb_enc_runstate_new();
  return {
    loadMs,
    async run() {
      const t = performance.now();
      check(M._eb_enc_run(model, rs, 1, seq, ids, 0, 0, outs, dims), 'run');
      return performance.now() - t;
    },
    close() {
      M._eb_enc_runstate_free(rs);
      M._eb_enc_model_free(model);
      M._eb_enc_buffer_free(buf);
      for (const p of [slot, ids, outs, dims]) M._eb_free(p);
    },
  };
}

const onnx = await readFile(here('../models/distilbert-base/onnx/model_quantized.onnx'));
const packed = await readFile(here('../models/distilbert-base/model.ebm'));
console.log(`DistilBERT-base geometry (6 layers, 768, 12 heads, FFN 3072), batch 1, one thread; ` +
            `ORT q8 ${(onnx.length / 1e6).toFixed(1)} MB, edgebert .ebm ${(packed.length / 1e6).toFixed(1)} MB`);
console.log('seq | ORT load | ORT first | ORT steady | edgebert load | edgebert first | edgebert steady | steady ratio | median pair ratio | first ratio');
const rows = [];
for (const seq of seqs) {
  // Load and first run of each engine, then the steady runs interleaved (ORT, edgebert, ORT, ...)
  // so that both see the same machine load; the machine this runs on is shared.
  const o = await openOrt(onnx, seq);
  const oFirst = await o.run();
  const e = openEdgebert(packed, seq);
  const eFirst = await e.run();
  const ot = [], et = [];
  for (let r = 0; r < runs; ++r) {
    ot.push(await o.run());
    et.push(await e.run());
  }
  await o.close();
  e.close();
  const ortRes = { loadMs: o.loadMs, firstMs: oFirst, steadyMs: median(ot) };
  const ebRes = { loadMs: e.loadMs, firstMs: eFirst, steadyMs: median(et) };
  const row = { seq, ort: ortRes, edgebert: ebRes,
    steadyRatio: ebRes.steadyMs / ortRes.steadyMs, firstRatio: ebRes.firstMs / ortRes.firstMs,
    pairRatio: median(et.map((t, i) => t / ot[i])) };
  rows.push(row);
  const f = (x) => x.toFixed(1).padStart(7);
  console.log(`${String(seq).padStart(3)} | ${f(ortRes.loadMs)} | ${f(ortRes.firstMs)} | ${f(ortRes.steadyMs)} | ` +
              `${f(ebRes.loadMs)} | ${f(ebRes.firstMs)} | ${f(ebRes.steadyMs)} | ${row.steadyRatio.toFixed(2)}x | ` +
              `${row.pairRatio.toFixed(2)}x | ${row.firstRatio.toFixed(2)}x`);
}
if (args.includes('--json')) console.log(JSON.stringify(rows));
