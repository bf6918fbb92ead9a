// page.mjs: one engine's session in the page (race.mjs serves and drives it, one fresh browser per
// session). Query: ?engine=edgebert|tjs|tjs-plain&threads=1|2. Reads /tjsbuild/plan.json; the result
// goes to window.__race ({ engine, threads, models, ... } or { error }).
//   tjs        transformers.js as it comes: its default onnxruntime-web build for the wasm backend,
//              ort-wasm-simd-threaded.asyncify (the build that also carries WebGPU), served locally
//              instead of from the CDN
//   tjs-plain  transformers.js with env.backends.onnx.wasm.wasmPaths set to onnxruntime-web's
//              wasm-only build (ort-wasm-simd-threaded.wasm), what bench/ort/ measures
import { runSession, taskName } from './session.mjs';

const q = new URLSearchParams(location.search);
const engine = q.get('engine');
const threads = Number(q.get('threads') || 1);
const log = (line) => {
  console.log(line);
  document.getElementById('log').textContent += `${line}\n`;
};
const MODELS = '/tjsmodels/';
const ORT = '/bench/tjs/node_modules/onnxruntime-web/dist/';

try {
  const plan = await (await fetch('/tjsbuild/plan.json')).json();
  let make;
  let tokens;
  let about;
  if (engine.startsWith('tjs')) {
    const t = await import('/bench/tjs/node_modules/@huggingface/transformers/dist/transformers.js');
    // Offline: the local folder only, the onnxruntime-web files from node_modules, no browser cache.
    t.env.allowRemoteModels = false;
    t.env.allowLocalModels = true;
    t.env.localModelPath = MODELS;
    t.env.useBrowserCache = false;
    t.env.useWasmCache = false;
    // transformers.js's own default build (asyncify), served here instead of from the CDN.
    // ?ortbuild=jsep|plain picks another onnxruntime-web build (tjs-plain: plain).
    const build = { jsep: '.jsep', plain: '' }[engine === 'tjs-plain' ? 'plain' : q.get('ortbuild')] ?? '.asyncify';
    t.env.backends.onnx.wasm.wasmPaths = { mjs: `${ORT}ort-wasm-simd-threaded${build}.mjs`, wasm: `${ORT}ort-wasm-simd-threaded${build}.wasm` };
    t.env.backends.onnx.wasm.numThreads = threads;
    make = (m) => t.pipeline(taskName(engine, m.task), m.name, { dtype: 'q8', device: 'wasm' });
    tokens = async (p, text) => p.tokenizer(text).input_ids.dims.at(-1);
    about = { version: t.env.version, ort: t.env.backends.onnx.versions, ortBuild: `ort-wasm-simd-threaded${build}.wasm` };
  } else {
    const e = await import('/worker/index.mjs');
    make = (m) => e.pipeline(taskName('edgebert', m.task), new URL(`${MODELS}${m.name}/model.ebm`, location.href).href, { threads, cache: false });
    // (Its token counts are the plan's: prepare.mjs made the inputs with edgebert's tokenizer.)
    about = await e.getBuildInfo({ threads });
  }
  const result = await runSession({ engine, plan, make, tokens, now: () => performance.now(), log });
  window.__race = { ...result, threads, about, crossOriginIsolated: self.crossOriginIsolated, userAgent: navigator.userAgent };
} catch (err) {
  log(`error: ${err.stack || err}`);
  window.__race = { error: String(err.stack || err) };
}
