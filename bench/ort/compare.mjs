// compare.mjs: full-model latency of edgebert (wasm, SIMD128, one thread) against
// onnxruntime-web's wasm backend (one thread, SIMD) on the same DistilBERT-base weights, in the
// same node process, batch 1. The figures are ratios within one run (same machine, same moment).
//
//   bash bench/ort/run.sh            (makes the models and builds what is needed, then runs this)
//   node bench/ort/compare.mjs [--seq 16,128,384] [--runs 10] [--build build/wasm] [--json] [--no-check]
//
// --build picks the wasm build directory (relative to the repository root) holding wasm/edgebert.*.
// The comparison itself is engines.mjs (shared with the Chromium run, browser.mjs): per sequence
// length and engine the model is loaded anew, then the first run after load ("first") and the
// median of `runs` further runs ("steady") are timed, the two engines' steady runs alternating;
// "median pair ratio" is the median over those adjacent pairs of edgebert / ORT (the least
// load-sensitive figure on a shared machine). Token ids are passed directly to both (no
// tokenizer), so this measures the encoders. Afterwards (unless --no-check) both engines'
// last_hidden_state on three inputs are compared with each other and with the fp32 ONNX model run
// by ORT: the evidence that both do the same work.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { checkSameOutputs, compare, configureOrt } from './engines.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const seqs = opt('--seq', '16,128,384').split(',').map(Number);
const runs = Number(opt('--runs', '10'));

configureOrt(ort);
const buildDir = opt('--build', 'build/wasm');
const { default: factory } = await import(here(`../../${buildDir}/wasm/edgebert.mjs`));
const { instantiateEdgebert } = await import(here('../../worker/wasm_loader.mjs'));
const M = await instantiateEdgebert({ factory, wasm: here(`../../${buildDir}/wasm/edgebert.wasm`) });

const onnx = await readFile(here('../models/distilbert-base/onnx/model_quantized.onnx'));
const packed = await readFile(here('../models/distilbert-base/model.ebm'));
console.log(`node ${process.version}: DistilBERT-base geometry (6 layers, 768, 12 heads, FFN 3072), batch 1, one thread; ` +
            `ORT ${ort.env.versions?.web ?? ''} q8 ${(onnx.length / 1e6).toFixed(1)} MB, edgebert .ebm ${(packed.length / 1e6).toFixed(1)} MB`);
console.log(`edgebert GEMM: ${M.edgebertGemm.relaxed ? 'relaxed SIMD kernel' : 'SIMD128 kernel'} (${M.edgebertGemm.reason})`);
const rows = await compare(ort, M, onnx, packed, { seqs, runs, log: (l) => console.log(l) });
let check = null;
if (!args.includes('--no-check')) {
  const fp32Path = here('../models/distilbert-base/onnx/model.onnx');
  const fp32 = existsSync(fp32Path) ? await readFile(fp32Path) : null;
  check = await checkSameOutputs(ort, M, onnx, packed, fp32);
  for (const [k, v] of Object.entries(check)) {
    console.log(`same work: ${k}: per-token cosine min ${v.min.toFixed(5)}, mean ${v.mean.toFixed(5)} over ${v.tokens} tokens`);
  }
}
if (args.includes('--json')) console.log(JSON.stringify({ rows, check }));
