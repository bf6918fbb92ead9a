// node_prejs.js: prepended to node-only wasm binaries (tests, benchmarks).
// Emscripten 3.1.6's loader tries fetch() on a relative path whenever wasmBinary is unset, and
// Node 20 has a fetch() that cannot read files; hand it the bytes from disk instead.
if (typeof process === 'object' && process.versions && process.versions.node && !Module['wasmBinary']) {
  Module['wasmBinary'] = require('fs').readFileSync(__filename.replace(/\.js$/, '.wasm'));
}
