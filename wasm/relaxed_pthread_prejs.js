// relaxed_pthread_prejs.js (Emscripten --pre-js of the pthreads build): in each pthread worker,
// wires the eb_relaxed_kernel import to the relaxed-SIMD kernel module on the shared memory, as
// worker/wasm_loader.mjs does on the main thread, so that GEMM threads run the same kernel as the
// calling thread. Emscripten's worker script instantiates the module itself (its instantiateWasm);
// this wraps it. The kernel's bytes come from wasm/relaxed_kernel_shared.wasm at build time
// (ebRelaxedKernelHex, wasm/CMakeLists.txt). Whether the kernel is used at all is decided once on
// the main thread (the loader's probe, then GemmU8SetRelaxedKernel's check); where this worker
// cannot compile it, the import stays the stub, which computes the same sums in JS
// (wasm/relaxed_stub.js), so a thread never gives a different answer.
if (Module['ENVIRONMENT_IS_PTHREAD'] && typeof Module['instantiateWasm'] === 'function' &&
    typeof ebRelaxedKernelHex === 'string') {
  var ebInstantiateWasm = Module['instantiateWasm'];
  Module['instantiateWasm'] = function (info, receiveInstance) {
    try {
      var bytes = new Uint8Array(ebRelaxedKernelHex.length / 2);
      for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(ebRelaxedKernelHex.substr(2 * i, 2), 16);
      var kernel = null;
      for (var ns in info) {
        var imports = info[ns];
        if (!imports || typeof imports !== 'object') continue;
        for (var key in imports) {
          if (typeof imports[key] === 'function' && imports[key].name === '_eb_relaxed_kernel') {
            if (!kernel) {
              kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes),
                { env: { memory: Module['wasmMemory'] } }).exports.kernel;
            }
            imports[key] = kernel;
          }
        }
      }
    } catch (e) {
      // No relaxed SIMD in this worker: the stub stays (exact, slower).
    }
    return ebInstantiateWasm(info, receiveInstance);
  };
}
