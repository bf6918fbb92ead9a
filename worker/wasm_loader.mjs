// wasm_loader.mjs: instantiates the edgebert wasm module the same way in browsers, workers, Node
// and edge runtimes. The Emscripten glue never fetches or reads files itself (it would call
// fetch() on a path under Node 20, and edge runtimes forbid compiling wasm from bytes): we hand it
// a compiled WebAssembly.Module through instantiateWasm.
//
// The relaxed-SIMD GEMM kernel: where the engine supports WebAssembly relaxed SIMD and its
// i32x4.relaxed_dot_i8x16_i7x16_add_s gives exact unsigned-by-signed sums (x86 with AVX-VNNI, where
// V8 emits vpdpbusd; measured 2x the SIMD128 kernel), the single-threaded module's import
// eb_relaxed_kernel is wired to the small module in relaxed_kernel.mjs, instantiated on the same
// memory, and the C++ side checks it against its scalar reference before using it
// (eb_gemm_set_relaxed). Anywhere else (no relaxed SIMD, as in Node 20; pmaddubsw's saturating
// lowering; ARM's signed sdot; a wrong result from any tier) the SIMD128 kernel runs.

import { relaxedKernelBytes } from './relaxed_kernel.mjs';

/**
 * @param {object} opts
 * @param {(moduleArg: object) => Promise<object>} opts.factory  the default export of edgebert.mjs
 * @param {WebAssembly.Module|ArrayBuffer|Uint8Array|URL|string} opts.wasm  a compiled module, the
 *   bytes, or where to get them (http(s) URL via fetch; file URL or path via node:fs in Node)
 * @param {boolean} [opts.relaxedSimd=true]  false: never use the relaxed-SIMD kernel
 * @param {WebAssembly.Module} [opts.relaxedKernel]  worker/relaxed_kernel.wasm precompiled, for
 *   runtimes that forbid compiling wasm from bytes (otherwise it is compiled from relaxed_kernel.mjs)
 * @returns {Promise<object>} the Emscripten module instance; its `edgebertGemm` says which GEMM
 *   kernel runs and why ({ relaxed: boolean, reason: string })
 */
export async function instantiateEdgebert({ factory, wasm, relaxedSimd = true, relaxedKernel }) {
  const module = await compileWasm(wasm);
  const memory = { growFailures: 0, lastFailedBytes: 0, heapBytes: () => 0 };  // watchHeapGrowth
  // A failed instantiation must reject, not leave the factory's promise pending forever.
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  let gemm = { relaxed: false, reason: 'disabled by the caller (relaxedSimd: false)' };
  // The glue decides it runs in a Web Worker when importScripts exists and then reads
  // self.location.href at once; workerd before 2026-11-17 has an importScripts stub and no location.
  // A runtime without import.meta.url here has none in the glue either.
  const noLocation = typeof import.meta.url !== 'string';
  const restoreLocation = lendWorkerLocation();
  let started;
  try {
    started = factory({
      // Without locateFile the glue computes new URL('edgebert.wasm', import.meta.url), which throws
      // where import.meta.url is undefined (workerd before 2026-11-17). The wasm comes from
      // instantiateWasm anyway. Only there: elsewhere the pthreads glue finds its worker script
      // through import.meta.url, and with a locateFile it would not.
      ...(noLocation ? { locateFile: (path, scriptDirectory) => scriptDirectory + path } : {}),
      instantiateWasm(imports, receiveInstance) {
        if (relaxedSimd) gemm = wireRelaxedKernel(imports, relaxedKernel);
        watchHeapGrowth(imports, memory);
        WebAssembly.instantiate(module, imports).then(
          (inst) => receiveInstance(inst, module),
          (err) => fail(new Error(`edgebert: wasm instantiation failed: ${err && err.message}`)));
        return {};  // Emscripten's signal that instantiation is asynchronous
      },
    });
  } finally {
    restoreLocation();
  }
  const instance = await Promise.race([started, failed]);
  if (gemm.wired) {
    // The C++ side runs ragged and extreme cases through the kernel against its scalar reference.
    const on = instance._eb_gemm_set_relaxed(1) === 1;
    gemm = { relaxed: on, reason: on ? 'relaxed SIMD kernel: probe and GEMM check passed' : 'the GEMM check against the scalar reference failed' };
  }
  instance.edgebertGemm = { relaxed: gemm.relaxed, reason: gemm.reason };
  memory.heapBytes = () => instance.HEAPU8.length;
  instance.edgebertMemory = memory;
  return instance;
}

function lendWorkerLocation() {
  const scope = typeof self === 'object' && self ? self : null;
  if (!scope || typeof globalThis.importScripts !== 'function' || scope.location !== undefined) return () => {};
  try {
    Object.defineProperty(scope, 'location', { value: { href: '' }, configurable: true });
  } catch {
    return () => {};
  }
  return () => { delete scope.location; };
}

// The values the probe feeds the instruction: a as int8, b (the "i7" operand) with its top bit set
// in most lanes, so that only exact unsigned-by-signed arithmetic gives `expected` (saturating
// pmaddubsw, signed sdot and Node 20's doubled baseline-tier results all differ).
const PROBE_A = [127, -128, 5, -7, 100, -100, 1, 2, -1, -2, 3, 4, 64, -64, 127, -128];
const PROBE_B = [255, 255, 255, 128, 129, 200, 0, 127, 250, 251, 252, 253, 254, 255, 128, 255];
const PROBE_C = [7, -7, 1 << 20, -(1 << 20)];
// Products whose pairwise sums overflow int16 (2 * 127 * 255): x86's pmaddubsw, which engines without
// an AVX-VNNI lowering use (JavaScriptCore in Bun, Node 22's V8), saturates them to 32767.
const PROBE_SAT_A = new Array(16).fill(127);
const PROBE_SAT_B = new Array(16).fill(255);
const SAT_EXACT = 4 * 127 * 255;
const SAT_PMADDUBSW = 2 * 32767;

/**
 * Replaces the eb_relaxed_kernel stub among `imports` by the relaxed kernel module's export when the
 * instruction passes the probe here; returns { wired, relaxed: false, reason }. Exported for
 * wasm/node_prejs.js (the test and benchmark binaries); the C++ side still has to turn the kernel
 * on (GemmU8SetRelaxedKernel), which checks it first.
 */
export function wireRelaxedKernel(imports, precompiled) {
  // The stub keeps its JS name under Emscripten's minified import keys.
  let env = null, key = null;
  for (const ns of Object.values(imports)) {
    if (!ns || typeof ns !== 'object') continue;
    key = Object.keys(ns).find((k) => typeof ns[k] === 'function' && ns[k].name === '_eb_relaxed_kernel');
    if (key !== undefined) { env = ns; break; }
  }
  if (!env) return { relaxed: false, reason: 'this build has no relaxed-SIMD kernel import' };
  const memory = Object.values(env).find((v) => v instanceof WebAssembly.Memory);
  if (!memory) return { relaxed: false, reason: 'the module does not import its memory' };
  // The pthreads build's memory is shared; the kernel then imports a shared memory too (and each
  // pthread worker wires its own instance: wasm/relaxed_pthread_prejs.js).
  const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
  let kernelModule = shared ? undefined : precompiled;
  if (!kernelModule) {
    const bytes = relaxedKernelBytes({ shared });
    try {
      kernelModule = new WebAssembly.Module(bytes);
    } catch (err) {
      let valid = false;
      try {
        valid = WebAssembly.validate(bytes);
      } catch {
        // validate itself unavailable: say what compile said
      }
      return { relaxed: false, reason: valid
        ? `the relaxed kernel cannot be compiled here (${err && err.message}); where compiling wasm from bytes is ` +
          'forbidden, pass worker/relaxed_kernel.wasm precompiled as relaxedKernelModule'
        : `no relaxed SIMD in this engine (${err && err.message})` };
    }
  }
  try {
    // The probe runs on a memory of its own, many times, so that a tier-up during the calls is checked
    // too (the C++ GEMM check after instantiation is the final word).
    const probeMemory = new WebAssembly.Memory(shared ? { initial: 1, maximum: 1, shared: true } : { initial: 1 });
    const probe = new WebAssembly.Instance(kernelModule, { env: { memory: probeMemory } }).exports.probe;
    const i8 = new Int8Array(probeMemory.buffer), u8 = new Uint8Array(probeMemory.buffer);
    const i32 = new Int32Array(probeMemory.buffer);
    i8.set(PROBE_A, 0);
    u8.set(PROBE_B, 16);
    i32.set(PROBE_C, 8);
    const expected = PROBE_C.map((c, l) => {
      let s = c;
      for (let j = 4 * l; j < 4 * l + 4; ++j) s += PROBE_A[j] * PROBE_B[j];
      return s;
    });
    for (let call = 0; call < 20000; ++call) {
      probe(0);
      for (let l = 0; l < 4; ++l) {
        if (i32[12 + l] !== expected[l]) {
          return { relaxed: false, reason: `relaxed dot is not exact unsigned x signed here (lane ${l}: ${i32[12 + l]}, want ${expected[l]}, call ${call})` };
        }
      }
      if (call % 1000 === 0) {
        // Same memory layout, the saturating case; then the mixed-sign case back in place.
        i8.set(PROBE_SAT_A, 0);
        u8.set(PROBE_SAT_B, 16);
        i32.set([0, 0, 0, 0], 8);
        probe(0);
        const got = i32[12];
        if (got !== SAT_EXACT) {
          return { relaxed: false, reason: got === SAT_PMADDUBSW
            ? `relaxed dot saturates 16-bit pair sums here (${got}, want ${SAT_EXACT}, call ${call}): this engine lowers it to ` +
              "x86 pmaddubsw (JavaScriptCore/Bun, Node 22's V8) instead of AVX-VNNI's exact vpdpbusd"
            : `relaxed dot is not exact unsigned x signed here (saturation probe: ${got}, want ${SAT_EXACT}, call ${call})` };
        }
        i8.set(PROBE_A, 0);
        u8.set(PROBE_B, 16);
        i32.set(PROBE_C, 8);
      }
    }
    env[key] = new WebAssembly.Instance(kernelModule, { env: { memory } }).exports.kernel;
  } catch (err) {
    return { relaxed: false, reason: `relaxed kernel unavailable: ${err && err.message}` };
  }
  return { wired: true, relaxed: false, reason: 'wired' };
}

async function compileWasm(wasm) {
  // A module compiled in another realm (an edge runtime's bundler import, a vm context) is not an
  // instanceof this realm's WebAssembly.Module; its brand tag is the reliable test.
  if (wasm instanceof WebAssembly.Module || Object.prototype.toString.call(wasm) === '[object WebAssembly.Module]') {
    return wasm;
  }
  if (wasm === undefined || wasm === null) throw new Error('edgebert: no wasm given (a WebAssembly.Module, bytes, a URL or a path)');
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return WebAssembly.compile(wasm);
  const url = wasm instanceof URL ? wasm : toUrl(String(wasm));
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`edgebert: cannot load ${url}: HTTP ${response.status}`);
  if (typeof WebAssembly.compileStreaming === 'function' &&
      (response.headers.get('content-type') || '').startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

function toUrl(s) {
  if (typeof process !== 'object' || !process.versions || !process.versions.node) return new URL(s, globalThis.location && globalThis.location.href);
  try {
    return new URL(s);
  } catch {
    // A plain path: only meaningful in Node; resolve against the working directory.
    return new URL(`file://${s.startsWith('/') ? '' : process.cwd() + '/'}${s}`);
  }
}

/**
 * Counts failed heap growths (the glue's emscripten_resize_heap import returning false), so that a
 * trap right after one is reported as out of memory rather than as a bug (engine.mjs).
 */
function watchHeapGrowth(imports, memory) {
  for (const ns of Object.values(imports)) {
    if (!ns || typeof ns !== 'object') continue;
    const key = Object.keys(ns).find((k) => typeof ns[k] === 'function' && ns[k].name === '_emscripten_resize_heap');
    if (key === undefined) continue;
    const grow = ns[key];
    ns[key] = (requested) => {
      const ok = grow(requested);
      if (!ok) {
        memory.growFailures += 1;
        memory.lastFailedBytes = requested >>> 0;
      }
      return ok;
    };
    return;
  }
}
