// sw.js: the demo's service worker, so a reload works with the network off. It keeps the app shell
// and the runtime (worker/*.mjs, edgebert*.mjs/.wasm/.worker.js) in its own cache, network first
// (a served update is picked up at once; the cache answers only when the network fails).
//
// Models are NOT cached here: the edgebert API keeps downloaded model files in its own Cache
// Storage cache ('edgebert-v1', keyed by URL) and looks there before it fetches, so caching them
// again would double the storage of the biggest files. Their requests pass straight through.
//
// Registered by app.mjs with scope '/' (the server sends Service-Worker-Allowed: /) so the worker
// and wasm files outside /web/ are covered too.

const SHELL_CACHE = 'edgebert-demo-shell-v1';
const SCOPE = new URL('../', self.location.href);  // the repository root on the demo server
const PRECACHE = [
  'web/', 'web/index.html', 'web/app.mjs', 'web/style.css',
  'worker/index.mjs', 'worker/worker.mjs', 'worker/protocol.mjs', 'worker/service.mjs', 'worker/engine.mjs',
  'worker/errors.mjs', 'worker/fetch.mjs', 'worker/cache.mjs', 'worker/sources.mjs', 'worker/tasks.mjs',
  'worker/wasm_loader.mjs', 'worker/relaxed_kernel.mjs', 'worker/compat.mjs', 'worker/tensor.mjs',
  'build/wasm/wasm/edgebert.mjs', 'build/wasm/wasm/edgebert.wasm',
  'build/wasm/wasm/edgebert-threads.mjs', 'build/wasm/wasm/edgebert-threads.wasm', 'build/wasm/wasm/edgebert-threads.worker.js',
  'build/demo/models/index.json',
].map((p) => new URL(p, SCOPE).href);

/** Model payloads: left to the API's cache (see above). */
function isModelRequest(url) {
  return /\.(ebm|safetensors)$/i.test(url.pathname) || url.pathname.includes('/resolve/') || url.pathname.startsWith('/__dropped__/');
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // One by one: a file this build does not have (e.g. no pthreads build) must not fail the rest.
    await Promise.all(PRECACHE.map((u) => cache.add(new Request(u, { cache: 'no-cache' })).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('edgebert-demo-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || isModelRequest(url)) return;
  event.respondWith(networkFirst(req, url));
});

async function networkFirst(req, url) {
  const cache = await caches.open(SHELL_CACHE);
  // The query string only carries page options (?threads=1): one cached copy per path.
  const key = url.origin + url.pathname;
  try {
    const res = await fetch(req);
    if (res.ok && res.status === 200) cache.put(key, res.clone()).catch(() => {});
    return res;
  } catch (err) {
    const hit = await cache.match(key) || (url.pathname.endsWith('/') ? await cache.match(key + 'index.html') : undefined);
    if (hit) return hit;
    throw err;
  }
}
