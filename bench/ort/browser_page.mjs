// browser_page.mjs: engines.mjs in the page (browser.mjs serves and drives it). Query: ?seq=16,128,384&runs=10[&check=0]
// The result goes to window.__bench ({ rows, check, userAgent } or { error }), each line to the console.
import * as ort from '/bench/ort/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import factory from '/build/wasm/wasm/edgebert.mjs';
import { instantiateEdgebert } from '/worker/wasm_loader.mjs';
import { checkSameOutputs, compare, configureOrt } from './engines.mjs';

const q = new URLSearchParams(location.search);
const log = (line) => {
  console.log(line);
  document.getElementById('log').textContent += `${line}\n`;
};
const bytes = async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
};

try {
  configureOrt(ort);
  ort.env.wasm.wasmPaths = '/bench/ort/node_modules/onnxruntime-web/dist/';
  const M = await instantiateEdgebert({ factory, wasm: new URL('/build/wasm/wasm/edgebert.wasm', location.href) });
  const models = '/bench/models/distilbert-base/';
  const onnx = await bytes(`${models}onnx/model_quantized.onnx`);
  const packed = await bytes(`${models}model.ebm`);
  log(`${navigator.userAgent}: ORT ${ort.env.versions?.web ?? ''}, crossOriginIsolated=${self.crossOriginIsolated}`);
  log(`edgebert GEMM: ${M.edgebertGemm.relaxed ? 'relaxed SIMD kernel' : 'SIMD128 kernel'} (${M.edgebertGemm.reason})`);
  const rows = await compare(ort, M, onnx, packed, {
    seqs: (q.get('seq') || '16,128,384').split(',').map(Number), runs: Number(q.get('runs') || 10), log });
  let check = null;
  if (q.get('check') !== '0') {
    check = await checkSameOutputs(ort, M, onnx, packed, await bytes(`${models}onnx/model.onnx`));
    for (const [k, v] of Object.entries(check)) {
      log(`same work: ${k}: per-token cosine min ${v.min.toFixed(5)}, mean ${v.mean.toFixed(5)} over ${v.tokens} tokens`);
    }
  }
  window.__bench = { rows, check, userAgent: navigator.userAgent };
} catch (err) {
  log(`error: ${err.stack || err}`);
  window.__bench = { error: String(err.stack || err) };
}
