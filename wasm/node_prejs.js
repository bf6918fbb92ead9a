// node_prejs.js: prepended to node-only wasm binaries (tests, benchmarks).
// Emscripten 3.1.6's loader tries fetch() on a relative path whenever wasmBinary is unset, and
// Node 20 has a fetch() that cannot read files; hand it the bytes from disk instead.
if (typeof process === 'object' && process.versions && process.versions.node && !Module['wasmBinary']) {
  Module['wasmBinary'] = require('fs').readFileSync(__filename.replace(/\.js$/, '.wasm'));
}
// EDGEBERT_WASM_RELAXED=<path of worker/wasm_loader.mjs>: wire the relaxed-SIMD GEMM kernel into this
// binary the way the loader does for edgebert.mjs (needs -sIMPORTED_MEMORY and a Node with relaxed
// SIMD, e.g. 22+); the C++ side then turns it on (tests: EDGEBERT_TEST_RELAXED in test_util.cc). A
// request that cannot be met is an error, not a silent fallback.
if (typeof process === 'object' && process.env && process.env.EDGEBERT_WASM_RELAXED) {
  Module['instantiateWasm'] = function (imports, receiveInstance) {
    import(require('url').pathToFileURL(process.env.EDGEBERT_WASM_RELAXED).href).then(function (loader) {
      var r = loader.wireRelaxedKernel(imports);
      if (!r.wired) throw new Error('EDGEBERT_WASM_RELAXED: the relaxed SIMD kernel cannot run here: ' + r.reason);
      return WebAssembly.instantiate(Module['wasmBinary'], imports);
    }).then(function (result) {
      receiveInstance(result.instance, result.module);
    }).catch(function (err) {
      console.error(String(err && err.message || err));
      process.exit(1);
    });
    return {};
  };
}
