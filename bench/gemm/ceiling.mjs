// ceiling.mjs: runs the wasm half of ceiling.c in V8 and prints GMAC/s (best of 15 timed batches
// after a warm-up, so both loops run as TurboFan code). Usage: node ceiling.mjs ceiling.wasm
import { readFileSync } from 'node:fs';

const bytes = readFileSync(process.argv[2]);
// The C++ runtime imports a few functions (abort, exit) that these loops never call.
const never = (ns) => new Proxy({}, { get: (_, name) => name === 'emscripten_notify_memory_growth' ? () => {} : () => { throw new Error(`${ns}.${String(name)} called`); } });
const { instance } = await WebAssembly.instantiate(bytes, { env: never('env'), wasi_snapshot_preview1: never('wasi') });
const { ceiling_run: run, ceiling_checksum: checksum } = instance.exports;
const result = {};
for (const [which, name] of [[0, 'wasm_dot_add_int16_gmacs'], [1, 'wasm_kernel_run_gmacs']]) {
  run(which, 20000);  // warm-up: tier-up to TurboFan
  let best = 0;
  for (let i = 0; i < 15; ++i) {
    const t0 = performance.now();
    const macs = run(which, 20000);
    best = Math.max(best, macs / (performance.now() - t0) / 1e6);
  }
  result[name] = Number(best.toFixed(1));
}
result.checksum = checksum();
console.log(JSON.stringify(result));
