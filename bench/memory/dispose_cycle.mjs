// dispose_cycle.mjs: does disposing a model give its memory back for the next one? Loads a packed
// model through the engine ABI the JS API uses (eb_model_load / eb_run / eb_model_free), runs one
// request, frees it, ten times, and prints the wasm memory size (which can only grow) and the
// allocator's bytes in use after each cycle.
//
//   node bench/memory/dispose_cycle.mjs [model.ebm] [cycles]
//   (default: build/demo/models/all-MiniLM-L6-v2.ebm from scripts/demo.sh --models-only)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const modelPath = process.argv[2] || here('../../build/demo/models/all-MiniLM-L6-v2.ebm');
const cycles = Number(process.argv[3] || 10);
const { default: factory } = await import(here('../../build/wasm/wasm/edgebert.mjs'));
const { instantiateEdgebert } = await import(here('../../worker/wasm_loader.mjs'));
const M = await instantiateEdgebert({ factory, wasm: here('../../build/wasm/wasm/edgebert.wasm') });
const str = (s) => { const n = M.lengthBytesUTF8(s) + 1; const p = M._eb_malloc(n); M.stringToUTF8(s, p, n); return p; };
const check = (rc, what) => { if (rc !== 0) throw new Error(`${what}: ${rc}: ${M.UTF8ToString(M._eb_last_error())}`); };
const mb = (n) => (n / 1e6).toFixed(1);

const file = await readFile(modelPath);
console.log(`model ${modelPath}: ${mb(file.length)} MB`);
console.log('cycle | wasm memory MB | malloc in use MB (after dispose)');
const task = str('feature-extraction');
const req = str(JSON.stringify({ text: 'The quick brown fox jumps over the lazy dog.', pooling: 'mean', normalize: true }));
const sizes = [];
for (let c = 1; c <= cycles; ++c) {
  const buf = M._eb_malloc(file.length);
  M.HEAPU8.set(file, buf);
  const slot = M._eb_malloc(8);
  check(M._eb_model_load(buf, file.length, slot), 'load');
  const handle = M.HEAP32[slot >> 2];
  check(M._eb_run(handle, task, req, slot), 'run');
  M._eb_free(M.HEAPU32[slot >> 2]);
  M._eb_model_free(handle);  // frees the engine and the file buffer it owned
  M._eb_free(slot);
  const inUse = M._eb_enc_heap_in_use ? M._eb_enc_heap_in_use() : NaN;
  sizes.push(M.HEAPU8.buffer.byteLength);
  console.log(`${String(c).padStart(5)} | ${mb(M.HEAPU8.buffer.byteLength).padStart(14)} | ${mb(inUse).padStart(8)}`);
}
const growth = sizes[sizes.length - 1] - sizes[0];
console.log(`growth from cycle 1 to ${cycles}: ${mb(growth)} MB (${(growth / file.length).toFixed(2)}x the model)`);
