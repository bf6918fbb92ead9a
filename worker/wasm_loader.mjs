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
  // A failed instantiation must reject, not leave the factory's promise pending forever.
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  return Promise.race([
    factory({
      instantiateWasm(imports, receiveInstance) {
        WebAssembly.instantiate(module, imports).then(
          (instance) => receiveInstance(instance, module),
          (err) => fail(new Error(`edgebert: wasm instantiation failed: ${err && err.message}`)));
        return {};  // Emscripten's signal that instantiation is asynchronous
      },
    }),
    failed,
  ]);
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
