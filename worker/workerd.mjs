// workerd.mjs: the 'edgebert' entry for Cloudflare's workerd (and wrangler, which picks the
// 'workerd' export condition): the same API as index.mjs, with the engine brought in as module
// imports, because workerd forbids compiling wasm from bytes, cannot read files next to a module,
// and (before compatibility date 2026-11-17) has no import.meta.url. The .wasm imports are
// compiled WebAssembly.Module objects there (wrangler's default rule for *.wasm; a workerd config
// lists them as `wasm` modules); the engine runs in-process (workerd has no Worker).

import createEdgebertModule from '../build/wasm/wasm/edgebert.mjs';
import edgebertWasm from '../build/wasm/wasm/edgebert.wasm';
import relaxedKernelWasm from './relaxed_kernel.wasm';
import { setPlatformDefaults } from './index.mjs';

export * from './index.mjs';

setPlatformDefaults({
  moduleFactory: createEdgebertModule,
  wasmModule: edgebertWasm,
  relaxedKernelModule: relaxedKernelWasm,
  device: 'inline',
});
