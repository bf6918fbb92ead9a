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
    queueMicrotask, structuredClone, atob, btoa, console,
    ...extra,
  };
}

export function createSandbox(globals) {
  return vm.createContext(globals, { codeGeneration: { strings: false, wasm: false } });
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
      };
    },
  };
}

/**
 * `Worker` for a page sandbox: `new Worker(url, {type: 'module'})` evaluates `url` in a fresh
 * worker-like sandbox whose `self` has postMessage/addEventListener; messages both ways are
 * structured-cloned with their transfer lists, and delivered as tasks.
 */
export function fakeWorkerClass(workerGlobals) {
  return class SandboxWorker extends EventTarget {
    constructor(url, options = {}) {
      super();
      if (options.type !== 'module') throw new TypeError('this sandbox only runs module workers');
      const listeners = [];
      const g = webGlobals(workerGlobals());
      g.addEventListener = (type, cb) => { if (type === 'message') listeners.push(cb); };
      g.postMessage = (msg, transfer = []) => {
        const data = structuredClone(msg, { transfer });
        setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data })), 0);
      };
      const context = createSandbox(g);
      vm.runInContext('globalThis.self = globalThis;', context);
      this._deliver = (msg, transfer) => {
        const data = structuredClone(msg, { transfer });
        setTimeout(() => { for (const cb of listeners) cb({ data }); }, 0);
      };
      this._ready = moduleLoader(context).importUrl(String(url)).catch((err) => {
        this.dispatchEvent(Object.assign(new Event('error'), { message: err.message }));
      });
    }

    postMessage(msg, transfer = []) {
      // The module is evaluated before any message is delivered (a browser queues them too).
      const data = structuredClone(msg, { transfer });
      this._ready.then(() => this._deliver(data, []));
    }

    terminate() {}
  };
}
