// helpers.mjs: shared pieces of the JS tests: a local server in the Hugging Face URL layout, temp
// cache folders, fixture files, and runtime options that use the fake engine.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

import createFakeEdgebertModule, { emptyWasmModule } from './fake_edgebert.mjs';

// Hermetic: a test that forgets cache: false or cacheDir writes into a temp folder, never into
// the user's ~/.cache/edgebert.
const SAFETY_CACHE_DIR = mkdtempSync(join(tmpdir(), 'edgebert-default-cache-'));
process.env.EDGEBERT_CACHE_DIR = SAFETY_CACHE_DIR;
process.on('exit', () => rmSync(SAFETY_CACHE_DIR, { recursive: true, force: true }));

export const ROOT = new URL('../../', import.meta.url);
export const FAKE_GLUE_URL = new URL('./fake_edgebert.mjs', import.meta.url).href;
export const VOCAB_DIR = new URL('tests/fixtures/vocab/uncased/', ROOT);

/** Options running the fake engine in-process. */
export function fakeInline(extra = {}) {
  return { device: 'inline', moduleFactory: createFakeEdgebertModule, wasmModule: emptyWasmModule(), ...extra };
}

/** Options running the fake engine in a worker_threads Worker (the module is imported there). */
export function fakeWorker(extra = {}) {
  return { device: 'worker', glueUrl: FAKE_GLUE_URL, wasmModule: emptyWasmModule(), ...extra };
}

export function sha256Hex(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A tiny made-up safetensors file: an 8-byte header length, a JSON header, 16 bytes of data. */
export function tinySafetensors(floats = 4) {
  const header = Buffer.from(JSON.stringify({ 'w': { dtype: 'F32', shape: [floats], data_offsets: [0, 4 * floats] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(4 * floats, 7)]);
}

export const TINY_CONFIG = Buffer.from(JSON.stringify({
  architectures: ['BertForSequenceClassification'], model_type: 'bert', hidden_size: 2,
  id2label: { 0: 'negative', 1: 'positive' }, max_position_embeddings: 16,
}));

/** The files of a made-up repository: config, the shared uncased vocabulary, a tiny model. */
export async function repoFiles({ withTokenizerJson = true, withModel = true } = {}) {
  const files = new Map();
  files.set('config.json', { body: TINY_CONFIG });
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    files.set(f, { body: await readFile(new URL(f, VOCAB_DIR)) });
  }
  if (withTokenizerJson) files.set('tokenizer.json', { body: await readFile(new URL('tokenizer.json', VOCAB_DIR)) });
  if (withModel) files.set('model.safetensors', { body: tinySafetensors() });
  return files;
}

/**
 * Serves `repos` ({ 'org/name': Map(file -> {body, headers?, truncateTo?, chunked?, stallAfter?, trickle?}) })
 * at /<repo>/resolve/<revision>/<file> and `plain` (Map(path -> spec)) at /<path>, on 127.0.0.1
 * with a random port. Records every request path.
 */
export async function startServer({ repos = {}, plain = new Map(), revision = 'main' } = {}) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    let spec = plain.get(path.slice(1));
    for (const [repo, files] of Object.entries(repos)) {
      const prefix = `/${repo}/resolve/${revision}/`;
      if (path.startsWith(prefix)) spec = files.get(path.slice(prefix.length));
    }
    if (!spec) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Entry not found');
      return;
    }
    const body = spec.body;
    const headers = { 'content-type': 'application/octet-stream', ...(spec.headers || {}) };
    if (!spec.chunked) headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    if (spec.truncateTo !== undefined) {
      // Send fewer bytes than Content-Length, then close the connection.
      res.write(body.subarray(0, spec.truncateTo), () => res.socket.destroy());
      return;
    }
    if (spec.stallAfter !== undefined) {
      res.write(body.subarray(0, spec.stallAfter));  // ... and never the rest
      return;
    }
    if (spec.trickle) {
      // Slowly, so the progress throttle lets intermediate events out.
      const { chunk, delayMs } = spec.trickle;
      let off = 0;
      const next = () => {
        if (off >= body.length) { res.end(); return; }
        res.write(body.subarray(off, off + chunk));
        off += chunk;
        setTimeout(next, delayMs);
      };
      next();
      return;
    }
    if (spec.chunked) {
      const half = body.length >> 1;
      res.write(body.subarray(0, half));
      res.end(body.subarray(half));
      return;
    }
    res.end(body);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function tempDir(t, prefix = 'edgebert-test-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Checks a progress event list: per file and overall monotone, ending with loaded === total. */
export function checkProgress(assert, events) {
  assert.ok(events.length > 0, 'no progress events');
  let lastOverall = -1;
  const lastPerFile = new Map();
  for (const e of events) {
    assert.ok(e.overall.loaded >= lastOverall, `overall went back: ${lastOverall} -> ${e.overall.loaded}`);
    lastOverall = e.overall.loaded;
    const prev = lastPerFile.get(e.file) ?? -1;
    assert.ok(e.loaded >= prev, `${e.file} went back: ${prev} -> ${e.loaded}`);
    lastPerFile.set(e.file, e.loaded);
    if (e.total !== undefined) assert.ok(e.loaded <= e.total, `${e.file}: loaded ${e.loaded} > total ${e.total}`);
    if (e.overall.total !== undefined) assert.ok(e.overall.loaded <= e.overall.total);
  }
  const last = events[events.length - 1];
  assert.equal(last.overall.loaded, last.overall.total, 'the last event must have overall.loaded === overall.total');
  return last;
}
