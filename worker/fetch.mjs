// fetch.mjs: downloads (or reads from cache) the files of a model with streamed progress, checks
// their integrity and writes each one straight into a sink (the wasm heap in the worker).
//
// Two phases: first every file is opened (HTTP headers or cache entry), so the overall total is
// known before the first byte is counted and tokenizer.json's 404 -> vocab.txt fallback is settled;
// then the bodies are read one after the other into their sinks.

import { EdgebertError } from './errors.mjs';
import { streamChunks } from './cache.mjs';

const PROGRESS_INTERVAL_MS = 50;

/**
 * @typedef {object} FileSpec
 * @property {string} name       the file's name in the model (config.json, model.safetensors, ...)
 * @property {string} [url]      where to download it (cached by this URL)
 * @property {() => Promise<{size?: number, chunks: AsyncIterable<Uint8Array>, close?: () => void}>} [open]
 *                               a local source instead of a URL (Blob, path, bytes): never cached
 * @property {boolean} [optional] a 404 is not an error: the file is just absent
 * @property {FileSpec[]} [fallback] files to fetch instead when this one is 404
 * @property {string} [sha256]   expected hex digest (else taken from x-linked-etag/ETag when it is one)
 * @property {string} [note]     added to its HTTP error (why this file was asked for)
 *
 * @typedef {object} Sink          where a file's bytes go
 * @property {(chunk: Uint8Array) => void} write
 * @property {() => any} finish    returns the sink's result (e.g. {ptr, len})
 * @property {() => Uint8Array} view   the bytes received (valid until the next engine call)
 * @property {() => void} release  frees what the sink holds (on any error)
 */

/**
 * @param {FileSpec[]} specs
 * @param {object} opts
 * @param {(name: string, size: number|undefined) => Sink} opts.makeSink
 * @param {AbortSignal} [opts.signal]
 * @param {(p: object) => void} [opts.onProgress]
 * @param {object|null} [opts.cache] from openCache()
 * @param {typeof fetch} [opts.fetch]
 * @returns {Promise<Map<string, {result: any, size: number, url?: string, cached: boolean}>>}
 */
export async function fetchFiles(specs, { makeSink, signal, onProgress, cache = null, fetch: fetchImpl = globalThis.fetch } = {}) {
  const opened = [];
  // Wait for every open to settle (not just the first failure) so no response is left unclosed.
  const settled = await Promise.allSettled(specs.map((spec) => openWithFallback(spec, opened, { signal, cache, fetchImpl })));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    for (const o of opened) closeQuietly(o);
    throw failed.reason;
  }
  // Keep the callers' order (config first, model last) whatever order the headers came in.
  const order = new Map();
  const flat = [];
  const walk = (list) => { for (const s of list) { order.set(s, order.size); if (s.fallback) walk(s.fallback); } };
  walk(specs);
  opened.sort((a, b) => order.get(a.spec) - order.get(b.spec));
  for (const o of opened) flat.push(o);

  const progress = new ProgressTracker(flat, onProgress);
  const results = new Map();
  const sinks = [];
  try {
    for (const file of flat) {
      const sink = makeSink(file.spec.name, file.size);
      sinks.push(sink);
      const received = await readInto(file, sink, progress, signal);
      await verify(file, sink, received);
      if (cache && file.url && !file.cached) {
        try {
          await cache.put(file.url, sink.view());
        } catch {
          // A full disk or a refused quota must not fail the load: the next load downloads again.
        }
      }
      results.set(file.spec.name, { result: sink.finish(), size: received, url: file.url, cached: file.cached });
    }
  } catch (err) {
    for (const s of sinks) s.release();
    for (const o of flat) closeQuietly(o);
    throw err;
  }
  return results;
}

async function openWithFallback(spec, opened, ctx) {
  const file = await openOne(spec, ctx);
  if (file === 'fallback') {
    const settled = await Promise.allSettled(spec.fallback.map((s) => openWithFallback(s, opened, ctx)));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } else if (file) {
    opened.push(file);
  }
}

async function openOne(spec, { signal, cache, fetchImpl }) {
  if (spec.open) {
    const src = await spec.open();
    return { spec, size: src.size, chunks: src.chunks, close: src.close, cached: false };
  }
  const url = spec.url;
  const canBeMissing = !!(spec.fallback || spec.optional);
  if (cache) {
    const hit = await cache.get(url);
    if (hit) return { spec, url, size: hit.size, chunks: hit.chunks, close: hit.close, cached: true, expectedSha: spec.sha256 };
    if (canBeMissing && await cache.isMissing(url)) return spec.fallback ? 'fallback' : null;
  }
  let response;
  try {
    response = await fetchImpl(url, { signal });
  } catch (err) {
    if (signal && signal.aborted) throw new EdgebertError('Cancelled', `download of ${spec.name} from ${url} was cancelled`);
    const cause = err && err.cause && err.cause.message ? `${err.message}: ${err.cause.message}` : (err && err.message);
    throw new EdgebertError('NetworkError', `cannot download ${spec.name} from ${url}: ${cause}`, { url, file: spec.name });
  }
  if (response.status === 404 && canBeMissing) {
    cancelBody(response);
    if (cache) await cache.putMissing(url).catch(() => {});
    return spec.fallback ? 'fallback' : null;
  }
  if (!response.ok) {
    cancelBody(response);
    const hint = response.status === 404 ? `${spec.name} not found (HTTP 404) at ${url}; check the repository, revision and file name`
      : response.status === 401 || response.status === 403
        ? `cannot download ${spec.name} from ${url}: HTTP ${response.status} (the repository may be private or gated)`
        : `cannot download ${spec.name} from ${url}: HTTP ${response.status} ${response.statusText || ''}`.trim();
    throw new EdgebertError('HttpError', spec.note ? `${hint} (${spec.note})` : hint, { url, file: spec.name, httpStatus: response.status });
  }
  if (!response.body) {
    throw new EdgebertError('NetworkError', `cannot download ${spec.name} from ${url}: the response has no body`, { url, file: spec.name });
  }
  return {
    spec,
    url,
    size: contentLength(response.headers),
    chunks: streamChunks(response.body),
    close: () => cancelBody(response),
    cached: false,
    expectedSha: spec.sha256 || shaFromEtag(response.headers),
  };
}

/** Content-Length, unless the body is content-encoded (then the header counts compressed bytes). */
function contentLength(headers) {
  const enc = (headers.get('content-encoding') || 'identity').trim().toLowerCase();
  if (enc !== 'identity') return undefined;
  const v = headers.get('content-length');
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v);
}

/** The Hugging Face Hub sends the LFS sha256 of large files as x-linked-etag (ETag when not redirected). */
export function shaFromEtag(headers) {
  for (const h of ['x-linked-etag', 'etag']) {
    const v = headers.get(h);
    if (!v) continue;
    const m = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(v.trim());
    if (m) return m[1].toLowerCase();
  }
  return undefined;
}

async function readInto(file, sink, progress, signal) {
  const { spec, size } = file;
  let received = 0;
  progress.update(file, 0, true);
  try {
    for await (const chunk of file.chunks) {
      if (signal && signal.aborted) throw new EdgebertError('Cancelled', `download of ${spec.name} was cancelled`);
      if (size !== undefined && received + chunk.byteLength > size) {
        throw new EdgebertError('IntegrityError',
          `${spec.name}${file.url ? ` from ${file.url}` : ''}: received more than the announced ${size} bytes (Content-Length)`,
          { url: file.url, file: spec.name });
      }
      sink.write(chunk);
      received += chunk.byteLength;
      progress.update(file, received, false);
    }
  } catch (err) {
    if (err instanceof EdgebertError) throw err;
    if (signal && signal.aborted) throw new EdgebertError('Cancelled', `download of ${spec.name} was cancelled`);
    if (size !== undefined && received < size) throw truncated(file, received, err);
    throw new EdgebertError('NetworkError', `reading ${spec.name}${file.url ? ` from ${file.url}` : ''} failed: ${err && err.message}`,
      { url: file.url, file: spec.name });
  }
  if (size !== undefined && received !== size) throw truncated(file, received);
  progress.update(file, received, true, true);
  return received;
}

function truncated(file, received, cause) {
  const where = file.cached ? `the cached copy of ${file.spec.name} (${file.url})` : `${file.spec.name} from ${file.url || 'its source'}`;
  return new EdgebertError('IntegrityError',
    `truncated download: ${where} ended after ${received} of ${file.size} bytes` +
    `${cause ? ` (${cause.message}${cause.cause && cause.cause.message ? `: ${cause.cause.message}` : ''})` : ''}; try again`,
    { url: file.url, file: file.spec.name, received, expected: file.size });
}

async function verify(file, sink, received) {
  if (!file.expectedSha) return;
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    throw new EdgebertError('Unsupported', `cannot check the sha256 of ${file.spec.name}: crypto.subtle is not available here (it needs a secure context)`);
  }
  let view = sink.view();
  if (typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer) view = view.slice();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', view));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== file.expectedSha.toLowerCase()) {
    throw new EdgebertError('IntegrityError',
      `sha256 mismatch for ${file.spec.name}${file.url ? ` (${file.url}${file.cached ? ', cached copy' : ''})` : ''}: ` +
      `expected ${file.expectedSha}, got ${hex} over ${received} bytes`,
      { url: file.url, file: file.spec.name, expected: file.expectedSha, actual: hex });
  }
}

/**
 * Progress events: { file, loaded, total, cached, overall: { loaded, total } }, per file from 0 to
 * its size and overall from 0 to the sum, never decreasing, the last one with loaded === total.
 * total is undefined while unknown (no Content-Length); a file's final event has its real size.
 */
class ProgressTracker {
  constructor(files, onProgress) {
    this.onProgress = onProgress;
    const sizes = files.map((f) => f.size);
    this.total = sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined;
    this.done = 0;        // bytes of finished files
    this.lastEmit = 0;
    this.remaining = files.length;
  }

  update(file, loaded, force, final = false) {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < PROGRESS_INTERVAL_MS) return;
    this.lastEmit = now;
    let overallLoaded = this.done + loaded;
    if (final) {
      this.done += loaded;
      overallLoaded = this.done;
      this.remaining -= 1;
    }
    const overallTotal = this.total !== undefined ? this.total : (this.remaining === 0 ? this.done : undefined);
    this.onProgress({
      file: file.spec.name,
      loaded,
      total: file.size !== undefined ? file.size : (final ? loaded : undefined),
      cached: file.cached,
      overall: { loaded: overallLoaded, total: overallTotal },
    });
  }
}

function cancelBody(response) {
  if (response.body) response.body.cancel().catch(() => {});
}

function closeQuietly(o) {
  try {
    if (o.close) o.close();
  } catch { /* closing is best effort */ }
}

/** A sink collecting bytes in JS memory (when no engine heap is involved). */
export function memorySink(size) {
  let buffer = size !== undefined ? new Uint8Array(size) : null;
  const parts = [];
  let length = 0;
  return {
    write(chunk) {
      if (buffer) buffer.set(chunk, length);
      else parts.push(chunk.slice());
      length += chunk.byteLength;
    },
    view() {
      if (!buffer) {
        buffer = new Uint8Array(length);
        let off = 0;
        for (const p of parts) { buffer.set(p, off); off += p.byteLength; }
        parts.length = 0;
      }
      return buffer.subarray(0, length);
    },
    finish() { return this.view(); },
    release() { buffer = null; parts.length = 0; },
  };
}
