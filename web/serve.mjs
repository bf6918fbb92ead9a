#!/usr/bin/env node
// serve.mjs: a small static server (node:http only) for the demo page: web/, worker/, the wasm
// build and the demo models under one origin, with the MIME types browsers insist on, and
// optionally the COOP/COEP headers that make the page cross-origin isolated (threads).
//
//   node web/serve.mjs [--port N] [--isolated] [--wasm-dir DIR] [--models-dir DIR] [--hf-dir DIR]
//
//   --port N         0 picks a free port (printed). Default 8080.
//   --isolated       Cross-Origin-Opener-Policy: same-origin + Cross-Origin-Embedder-Policy:
//                    require-corp, so SharedArrayBuffer exists and the pthreads build runs.
//   --wasm-dir DIR   served as /build/wasm/wasm/ (default build/wasm/wasm)
//   --models-dir DIR served as /build/demo/models/ (default build/demo/models)
//   --hf-dir DIR     a local mirror in the Hugging Face URL layout: /hf/<org>/<name>/resolve/<rev>/<file>
//                    is DIR/<name>/<file> (org and revision ignored; a missing file is a 404, as on the Hub)
//
// Binds 127.0.0.1 only. The paths are those of this repository, so worker/index.mjs finds the wasm
// build at its default location (../build/wasm/wasm/ next to worker/) with no configuration.

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/**
 * @param {object} [opts]
 * @param {number} [opts.port] 0 = any free port
 * @param {boolean} [opts.isolated] send COOP/COEP/CORP
 * @param {string} [opts.wasmDir] @param {string} [opts.modelsDir] @param {string} [opts.hfDir]
 * @param {Record<string, string>} [opts.extraMounts] more URL prefix -> folder mappings (tests)
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>, requests: string[]}>}
 */
export async function startServer({ port = 8080, isolated = false, wasmDir, modelsDir, hfDir, extraMounts = {} } = {}) {
  const mounts = [
    ['/web/', join(ROOT, 'web')],
    ['/worker/', join(ROOT, 'worker')],
    ['/build/wasm/wasm/', resolve(wasmDir || join(ROOT, 'build/wasm/wasm'))],
    ['/build/demo/models/', resolve(modelsDir || join(ROOT, 'build/demo/models'))],
    ...Object.entries(extraMounts).map(([p, d]) => [p, resolve(d)]),
  ];
  const requests = [];
  const server = createServer((req, res) => {
    requests.push(req.url);
    handle(req, res, { mounts, isolated, hfDir: hfDir && resolve(hfDir) }).catch((err) => {
      if (!res.headersSent) send(res, 500, `internal error: ${err.message}\n`, isolated);
      else res.destroy();
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const actual = server.address().port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    requests,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

function baseHeaders(isolated) {
  const h = { 'X-Content-Type-Options': 'nosniff' };
  if (isolated) {
    h['Cross-Origin-Opener-Policy'] = 'same-origin';
    h['Cross-Origin-Embedder-Policy'] = 'require-corp';
    h['Cross-Origin-Resource-Policy'] = 'same-origin';
  }
  return h;
}

function send(res, status, body, isolated, extra = {}) {
  res.writeHead(status, { ...baseHeaders(isolated), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

async function handle(req, res, { mounts, isolated, hfDir }) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'GET or HEAD only\n', isolated, { Allow: 'GET, HEAD' });
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    return send(res, 400, 'bad URL\n', isolated);
  }
  if (path === '/' || path === '/web') return send(res, 302, 'see /web/\n', isolated, { Location: '/web/' });
  if (path.endsWith('/')) path += 'index.html';

  let file = null;
  if (hfDir && path.startsWith('/hf/')) {
    // /hf/<org>/<name>/resolve/<revision>/<file>
    const m = /^\/hf\/[^/]+\/([^/]+)\/resolve\/[^/]+\/([^/]+)$/.exec(path);
    if (m) file = inside(hfDir, `${m[1]}/${m[2]}`);
  } else {
    for (const [prefix, dir] of mounts) {
      if (path.startsWith(prefix)) { file = inside(dir, path.slice(prefix.length)); break; }
    }
  }
  if (!file) return send(res, 404, `not found: ${path}\n`, isolated);
  let st;
  try {
    st = await stat(file);
  } catch {
    return send(res, 404, `not found: ${path}\n`, isolated);
  }
  if (!st.isFile()) return send(res, 404, `not found: ${path}\n`, isolated);

  const headers = {
    ...baseHeaders(isolated),
    'Content-Type': MIME[extname(file).toLowerCase()] || 'application/octet-stream',
    'Content-Length': String(st.size),
    'Last-Modified': st.mtime.toUTCString(),
    // Revalidate every time: the page's own service worker does the offline caching.
    'Cache-Control': 'no-cache',
  };
  // The service worker lives in /web/ but serves the runtime in /worker/ and /build/ too.
  if (path === '/web/sw.js') headers['Service-Worker-Allowed'] = '/';
  const since = Date.parse(req.headers['if-modified-since'] || '');
  if (Number.isFinite(since) && Math.floor(st.mtimeMs / 1000) * 1000 <= since) {
    delete headers['Content-Length'];
    res.writeHead(304, headers);
    return res.end();
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/** dir + relative path, or null when the path would leave dir. */
function inside(dir, rel) {
  const full = resolve(dir, '.' + sep + rel);
  return full === dir || full.startsWith(dir + sep) ? full : null;
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') {
      opts.port = Number(value());
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`--port must be 0..65535, got ${argv[i]}`);
    } else if (a === '--isolated') opts.isolated = true;
    else if (a === '--wasm-dir') opts.wasmDir = value();
    else if (a === '--models-dir') opts.modelsDir = value();
    else if (a === '--hf-dir') opts.hfDir = value();
    else if (a === '--help' || a === '-h') {
      console.log('usage: node web/serve.mjs [--port N] [--isolated] [--wasm-dir DIR] [--models-dir DIR] [--hf-dir DIR]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return opts;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`serve.mjs: ${err.message}`);
    process.exit(2);
  }
  const server = await startServer(opts).catch((err) => {
    console.error(`serve.mjs: cannot listen on 127.0.0.1:${opts.port ?? 8080}: ${err.message}`);
    process.exit(1);
  });
  console.log(`edgebert demo: ${server.url}web/  (${opts.isolated ? 'cross-origin isolated: the threaded build runs' : 'not isolated: the single-thread build runs; --isolated for threads'})`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
