// profile.mjs: runs edgebert's int8 encoder (eb_enc_* exports, as compare.mjs does) on the
// DistilBERT-base bench model, for V8's sampling profiler:
//
//   emcmake cmake -S . -B build/prof -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEBERT_WASM_THREADS=OFF \
//     -DCMAKE_EXE_LINKER_FLAGS=--profiling-funcs && ninja -C build/prof edgebert_wasm
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --cpu-prof-interval 200 bench/ort/profile.mjs build/prof 128 8
//   node bench/ort/cpuprofile_top.mjs /tmp/prof/*.cpuprofile
//
// Arguments: build directory (holding wasm/edgebert.*), sequence length, runs, and optionally a
// model.ebm (default: the DistilBERT-base bench model). Prints each run's ms.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const [dir = 'build/wasm', seqArg = '128', runsArg = '5', modelArg] = process.argv.slice(2);
const seq = Number(seqArg), runs = Number(runsArg);
const root = here('../../');
const { default: factory } = await import(`${root}${dir}/wasm/edgebert.mjs`);
const { instantiateEdgebert } = await import(here('../../worker/wasm_loader.mjs'));
const M = await instantiateEdgebert({ factory, wasm: `${root}${dir}/wasm/edgebert.wasm` });
const packed = await readFile(modelArg || here('../models/distilbert-base/model.ebm'));
const buf = M._eb_enc_buffer_alloc(packed.length);
M.HEAPU8.set(packed, buf);
const slot = M._eb_malloc(8);
if (M._eb_enc_model_load(buf, packed.length, slot)) throw new Error(M.UTF8ToString(M._eb_last_error()));
const model = M.HEAPU32[slot >> 2];
const ids = M._eb_malloc(4 * seq);
M.HEAP32.set(Int32Array.from({ length: seq }, (_, i) => (i === 0 ? 101 : i === seq - 1 ? 102 : 1000 + ((i * 7919) % 28000))), ids >> 2);
const outs = M._eb_malloc(20), dims = M._eb_malloc(20);
const rs = M._eb_enc_runstate_new();
const times = [];
for (let r = 0; r < runs; ++r) {
  const t0 = performance.now();
  if (M._eb_enc_run(model, rs, 1, seq, ids, 0, 0, outs, dims)) throw new Error(M.UTF8ToString(M._eb_last_error()));
  times.push(performance.now() - t0);
}
console.log(`seq ${seq}: ${times.map((t) => t.toFixed(1)).join(' ')} ms`);
