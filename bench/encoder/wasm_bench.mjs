// wasm_bench.mjs: DistilBERT-base packed model in wasm under node: load time from an in-heap buffer
// to a ready model (eb_enc_model_load packs the Linear weights in place, as eb_model_load does),
// encoder latency, and the wasm memory size (its peak: memory only grows, by 20% steps of the
// current size in this Emscripten, so the peak is a step at or above what malloc holds).
//
//   build/<native>/bench/encoder_bench --write_packed=/tmp/distilbert-base.edgebert --benchmark_filter=none
//   node bench/encoder/wasm_bench.mjs build/<wasm> /tmp/distilbert-base.edgebert [seq_len=512]
//
// The module is built with ENVIRONMENT=web,worker, so we hand it the .wasm bytes ourselves.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [buildDir, packedPath, seqArg] = process.argv.slice(2);
if (!buildDir || !packedPath) {
  console.error('usage: node bench/encoder/wasm_bench.mjs <wasm build dir> <model.edgebert> [seq_len]');
  process.exit(2);
}
const seqLen = Number(seqArg || 512);
const { default: createEdgebertModule } = await import(pathToFileURL(resolve(buildDir, 'wasm/edgebert.mjs')).href);
const M = await createEdgebertModule({ wasmBinary: readFileSync(resolve(buildDir, 'wasm/edgebert.wasm')) });
const heapBytes = () => M.HEAPU8.buffer.byteLength;
const mb = (n) => (n / 1e6).toFixed(1);
const check = (rc, what) => {
  if (rc !== 0) throw new Error(`${what}: status ${rc}: ${M.UTF8ToString(M._eb_last_error())}`);
};

const file = readFileSync(packedPath);
const memStart = heapBytes();
const t0 = performance.now();
const buf = M._eb_enc_buffer_alloc(file.length);
M.HEAPU8.set(file, buf);
const t1 = performance.now();
const slot = M._eb_malloc(8);
check(M._eb_enc_model_load(buf, file.length, slot), 'load');
const model = M.HEAPU32[slot >> 2];
const t2 = performance.now();
const memLoaded = heapBytes();
const inUseLoaded = M._eb_enc_heap_in_use();

const info = M._eb_malloc(32);
M._eb_enc_model_info(model, info);
const [hidden, layers, heads, vocab, maxPos] = M.HEAP32.subarray(info >> 2, (info >> 2) + 5);
const T = Math.min(seqLen, maxPos);
const ids = M._eb_malloc(4 * T);
for (let i = 0; i < T; i++) M.HEAP32[(ids >> 2) + i] = (i * 7919 + 101) % vocab;
const outs = M._eb_malloc(4 * 5), dims = M._eb_malloc(4 * 5);
const rs = M._eb_enc_runstate_new();
const times = [];
for (let r = 0; r < 3; r++) {
  const s = performance.now();
  check(M._eb_enc_run(model, rs, 1, T, ids, 0, 0, outs, dims), 'run');
  times.push(performance.now() - s);
}
const memPeak = heapBytes();
const inUseRun = M._eb_enc_heap_in_use();
console.log(JSON.stringify({
  model: `${layers} layers, hidden ${hidden}, ${heads} heads, vocab ${vocab}`,
  packed_MB: +mb(file.length),
  copy_into_heap_ms: +(t1 - t0).toFixed(1),
  load_ms: +(t2 - t1).toFixed(1),
  wasm_memory_MB: { start: +mb(memStart), after_load: +mb(memLoaded), after_run_peak: +mb(memPeak) },
  malloc_in_use_MB: { after_load: +mb(inUseLoaded), after_run: +mb(inUseRun) },
  peak_over_packed: +(memPeak / file.length).toFixed(2),
  seq_len: T,
  run_ms: times.map((t) => +t.toFixed(0)),
}, null, 1));
