// wasm_loader.mjs: instantiates the edgebert wasm module the same way in browsers, workers, Node
// and edge runtimes. The Emscripten glue never fetches or reads files itself (it would call
// fetch() on a path under Node 20, and edge runtimes forbid compiling wasm from bytes): we hand it
// a compiled WebAssembly.Module through instantiateWasm.

/**
 * @param {object} opts
 * @param {(moduleArg: object) => Promise<object>} opts.factory  the default export of edgebert.mjs
 * @param {WebAssembly.Module|ArrayBuffer|Uint8Array|URL|string} opts.wasm  a compiled module, the
 *   bytes, or where to get them (http(s) URL via fetch; file URL or path via node:fs in Node)
 * @returns {Promise<object>} the Emscripten module instance
 */
export async function instantiateEdgebert({ factory, wasm }) {
  const module = await compileWasm(wasm);
  return factory({
    instantiateWasm(imports, receiveInstance) {
      WebAssembly.instantiate(module, imports).then(
        (instance) => receiveInstance(instance, module),
        (err) => { throw new Error(`edgebert: wasm instantiation failed: ${err && err.message}`); });
      return {};  // Emscripten's signal that instantiation is asynchronous
    },
  });
}

async function compileWasm(wasm) {
  if (wasm instanceof WebAssembly.Module) return wasm;
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
  try {
    return new URL(s);
  } catch {
    // A plain path: only meaningful in Node; resolve against the working directory.
    return new URL(`file://${s.startsWith('/') ? '' : process.cwd() + '/'}${s}`);
  }
}
