// sandbox.mjs: node:vm contexts shaped like edge workers, browser pages and module Web Workers
// (web globals only; no process/require; no eval; no wasm compilation from bytes), an ES module
// loader for them, and TEST DOUBLES of the two browser APIs Node 20 lacks: Cache Storage and a
// module Worker (a second sandbox connected by structured-cloned messages). Needs
// --experimental-vm-modules.
import vm from 'node:vm';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The globals an edge worker (or a browser worker/page, minus the DOM) has. */
export function webGlobals(extra = {}) {
  return {
    fetch, Request, Response, Headers, URL, URLSearchParams, Blob, ReadableStream, WritableStream, TransformStream,
    TextEncoder, TextDecoder, crypto, AbortController, AbortSignal, Event, EventTarget, MessageEvent, setTimeout, clearTimeout,
    queueMicrotask, structuredClone, atob, btoa, console, performance,
    ...extra,
  };
}

/** A context without eval; `wasm: false` also forbids compiling wasm from bytes (edge runtimes). */
export function createSandbox(globals, { wasm = false } = {}) {
  return vm.createContext(globals, { codeGeneration: { strings: false, wasm } });
}

/** Loads file: ES modules into `context`; node: and other specifiers are refused. */
export function moduleLoader(context) {
  const cache = new Map();
  const load = async (url) => {
    if (cache.has(url)) return cache.get(url);
    if (!url.startsWith('file:')) throw new Error(`the sandbox has no module ${url} (web code must not import node: modules)`);
    const mod = new vm.SourceTextModule(await readFile(fileURLToPath(url), 'utf8'), {
      identifier: url,
      context,
      initializeImportMeta(meta) { meta.url = url; },
      importModuleDynamically: async (spec, referencing) => {
        const target = await load(new URL(spec, referencing.identifier).href);
        await target.link(linker);
        await target.evaluate();
        return target;
      },
    });
    cache.set(url, mod);
    return mod;
  };
  const linker = async (spec, referencing) => load(new URL(spec, referencing.identifier).href);
  return {
    /** Runs `source` as a module in the context. */
    async run(source, identifier = 'file:///sandbox-main.mjs') {
      const main = new vm.SourceTextModule(source, {
        identifier, context, importModuleDynamically: async (spec) => { throw new Error(`no dynamic import of ${spec} from main`); },
      });
      await main.link(linker);
      await main.evaluate();
    },
    async importUrl(url) {
      const m = await load(url);
      await m.link(linker);
      await m.evaluate();
      return m;
    },
  };
}

/** Cache Storage as browsers and edge workers have it: URL fragments ignored, copies stored. */
export function fakeCacheStorage() {
  const stores = new Map();
  const keyOf = (k) => { const u = new URL(typeof k === 'string' ? k : k.url); u.hash = ''; return u.href; };
  return {
    async open(name) {
      if (!stores.has(name)) stores.set(name, new Map());
      const store = stores.get(name);
      return {
        async match(key) {
          const hit = store.get(keyOf(key));
          return hit ? new Response(hit.body.slice(), { status: hit.status, headers: hit.headers }) : undefined;
        },
        async put(key, response) {
          store.set(keyOf(key), { body: new Uint8Array(await response.arrayBuffer()), status: response.status, headers: [...response.headers] });
        },
        async delete(key) {
          return store.delete(keyOf(key));
        },
        async keys() {
          return [...store.keys()].map((url) => ({ url }));
        },
      };
    },
  };
}

/**
 * `Worker` for a page sandbox: `new Worker(url, {type: 'module'})` evaluates the module `url`, and
 * `new Worker(url)` the classic script `url` (Emscripten's pthread worker.js), in a fresh
 * worker-like sandbox whose `self` has postMessage/addEventListener/onmessage; messages both ways
 * are structured-cloned with their transfer lists and delivered as tasks. Everything runs on one
 * thread: fine for loading and message flow, not for code that blocks on another worker.
 * @param {() => object} workerGlobals extra globals of each worker (e.g. a nested Worker class)
 */
export function fakeWorkerClass(workerGlobals, sandboxOptions = {}) {
  return class SandboxWorker extends EventTarget {
    constructor(url, options = {}) {
      super();
      const listeners = [];
      const g = webGlobals(workerGlobals());
      g.addEventListener = (type, cb) => { if (type === 'message') listeners.push(cb); };
      g.postMessage = (msg, transfer = []) => {
        const data = structuredClone(msg, { transfer });
        setTimeout(() => {
          const event = new MessageEvent('message', { data });
          this.dispatchEvent(event);
          if (typeof this.onmessage === 'function') this.onmessage(event);
        }, 0);
      };
      const context = createSandbox(g, sandboxOptions);
      vm.runInContext('globalThis.self = globalThis;', context);
      this._deliver = (data) => {
        setTimeout(() => {
          for (const cb of listeners) cb({ data });
          if (typeof g.onmessage === 'function') g.onmessage({ data });
        }, 0);
      };
      const loader = moduleLoader(context);
      const start = options.type === 'module'
        ? loader.importUrl(String(url))
        : readFile(fileURLToPath(String(url)), 'utf8').then((code) => new vm.Script(code, {
          filename: String(url),
          importModuleDynamically: async (spec) => loader.importUrl(new URL(spec, String(url)).href),
        }).runInContext(context));
      this._ready = start.catch((err) => {
        const event = Object.assign(new Event('error'), { message: err.message });
        this.dispatchEvent(event);
        if (typeof this.onerror === 'function') this.onerror(event);
      });
    }

    postMessage(msg, transfer = []) {
      // The script is evaluated before any message is delivered (a browser queues them too).
      const data = structuredClone(msg, { transfer });
      this._ready.then(() => this._deliver(data));
    }

    terminate() {}
  };
}
