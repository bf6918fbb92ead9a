// fetch.mjs: downloads (or reads from cache) the files of a model with streamed progress, checks
// their size limits and integrity and gathers each one in JS memory (never in the wasm heap: a
// claimed length reserves nothing, and a stalled download holds no engine memory).
//
// Two phases: first every file is opened (HTTP headers or cache entry), so the overall total is
// known before the first byte is counted and tokenizer.json's 404 -> vocab.txt fallback is settled;
// then the bodies are read one after the other (config.json first, checked before the rest).
// Nothing is cached here: the caller commits the files once the engine accepted them.

import { EdgebertError } from './errors.mjs';
import { streamChunks } from './cache.mjs';

const PROGRESS_INTERVAL_MS = 50;

/**
 * The wasm32 heap addresses at most 4 GiB, and the engine needs some of it: no file larger than
 * this can ever be placed in it (docs/LIMITS.md, "JS runtime").
 */
export const WASM_MAX_FILE_BYTES = 2 ** 32 - 2 ** 26;  // 4 GiB - 64 MiB

/** Default per-file maxima by file name; any other name (a packed .ebm) gets `default`. */
export const DEFAULT_MAX_FILE_BYTES = Object.freeze({
  'config.json': 1 << 20,                // 1 MiB: real configs are a few KB
  'tokenizer_config.json': 1 << 20,
  'special_tokens_map.json': 1 << 20,
  'tokenizer.json': 64 << 20,            // 64 MiB: multilingual WordPiece tokenizers are ~3 MB
  'vocab.txt': 32 << 20,
  'model.safetensors': WASM_MAX_FILE_BYTES,
  default: WASM_MAX_FILE_BYTES,
});

/** Milliseconds a download may go without receiving a byte (or its headers) before it fails. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30000;

/**
 * The maximum size of `name` under `maxFileSize` (a number for every file, or an object by file
 * name with an optional `default`), never above WASM_MAX_FILE_BYTES.
 */
export function maxBytesFor(name, maxFileSize) {
  let limit;
  if (typeof maxFileSize === 'number') limit = maxFileSize;
  else if (maxFileSize && typeof maxFileSize === 'object') {
    limit = Object.prototype.hasOwnProperty.call(maxFileSize, name) ? maxFileSize[name] : maxFileSize.default;
  }
  if (limit === undefined) {
    limit = Object.prototype.hasOwnProperty.call(DEFAULT_MAX_FILE_BYTES, name) ? DEFAULT_MAX_FILE_BYTES[name] : DEFAULT_MAX_FILE_BYTES.default;
  }
  return Math.min(limit, WASM_MAX_FILE_BYTES);
}

/** Checks the maxFileSize and downloadTimeoutMs options; throws InvalidArgument naming the bad value. */
export function checkDownloadOptions({ maxFileSize, downloadTimeoutMs } = {}) {
  const bytes = (n) => Number.isSafeInteger(n) && n >= 0;
  if (maxFileSize !== undefined && !bytes(maxFileSize)) {
    if (!maxFileSize || typeof maxFileSize !== 'object' || Array.isArray(maxFileSize)) {
      throw new EdgebertError('InvalidArgument', `maxFileSize must be a number of bytes or an object of them by file name, got ${String(maxFileSize)}`);
    }
    for (const [k, n] of Object.entries(maxFileSize)) {
      if (!bytes(n)) throw new EdgebertError('InvalidArgument', `maxFileSize[${JSON.stringify(k)}] must be a non-negative integer number of bytes, got ${String(n)}`);
    }
  }
  if (downloadTimeoutMs !== undefined && !(Number.isSafeInteger(downloadTimeoutMs) && downloadTimeoutMs > 0)) {
    throw new EdgebertError('InvalidArgument', `downloadTimeoutMs must be a positive integer number of milliseconds, got ${String(downloadTimeoutMs)}`);
  }
}

function tooLarge(spec, url, size, limit, how) {
  const where = url ? ` from ${url}` : '';
  const why = limit >= WASM_MAX_FILE_BYTES
    ? `the most a 32-bit wasm heap can hold (${WASM_MAX_FILE_BYTES} bytes)`
    : `the limit for ${spec.name} (${limit} bytes; raise it with the maxFileSize option)`;
  return new EdgebertError('OutOfRange', `${spec.name}${where} ${how} ${size} bytes, more than ${why}`,
    { url, file: spec.name, size, limit });
}
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
 * @param {(name: string, size: number|undefined) => Sink} [opts.makeSink] default: memorySink
 * @param {AbortSignal} [opts.signal]
 * @param {(p: object) => void} [opts.onProgress]
 * @param {object|null} [opts.cache] from openCache(); read only when readCache; a cached copy that
 *   fails a check here is removed from it
 * @param {boolean} [opts.readCache=true] false: download anew (the caller may still write the cache)
 * @param {number|object} [opts.maxFileSize] see maxBytesFor()
 * @param {number} [opts.downloadTimeoutMs] no byte (or no headers) for this long: Timeout
 * @param {Record<string, (bytes: Uint8Array) => void>} [opts.validate] checks run on a file's bytes
 *   as soon as it is read, before the next file's body is read (config.json before the weights)
 * @param {typeof fetch} [opts.fetch]
 * @param {(files: Array<{name: string, identity?: string, cached: boolean, url?: string}>) => Promise<boolean>} [opts.beforeRead]
 *   called once every file is open (headers or cache entries, no body read yet); when it resolves
 *   to true nothing is read: every file is closed and fetchFiles resolves to null (the caller found
 *   what it needed elsewhere, e.g. the packed model converted from these very files)
 * @returns {Promise<null | Map<string, {result: any, size: number, url?: string, cached: boolean, identity?: string, bytes: () => Uint8Array}>>}
 *   identity: the file's ETag (as `etag:<value>`), the identity stored with its cache entry, or a
 *   local file's own (size, modification time, inode); undefined when none is known
 */
export async function fetchFiles(specs, {
  makeSink = () => memorySink(), signal, onProgress, cache = null, readCache = true, maxFileSize,
  downloadTimeoutMs = DEFAULT_DOWNLOAD_TIMEOUT_MS, validate = {}, fetch: fetchImpl = globalThis.fetch, beforeRead,
} = {}) {
  const opened = [];
  const ctx = { signal, cache: readCache ? cache : null, fetchImpl, maxFileSize, timeoutMs: downloadTimeoutMs };
  // Wait for every open to settle (not just the first failure) so no response is left unclosed.
  const settled = await Promise.allSettled(specs.map((spec) => openWithFallback(spec, opened, ctx)));
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
  if (beforeRead) {
    let skip;
    try {
      skip = await beforeRead(flat.map((o) => ({ name: o.spec.name, identity: o.identity, cached: o.cached, url: o.url })));
    } catch (err) {
      for (const o of flat) closeQuietly(o);
      throw err;
    }
    if (skip) {
      for (const o of flat) closeQuietly(o);
      return null;
    }
  }

  const progress = new ProgressTracker(flat, onProgress);
  const results = new Map();
  const sinks = [];
  let current = null;
  try {
    for (const file of flat) {
      current = file;
      const sink = makeSink(file.spec.name, file.size);
      sinks.push(sink);
      const received = await readInto(file, sink, progress, signal, ctx);
      await verify(file, sink, received);
      const check = Object.prototype.hasOwnProperty.call(validate, file.spec.name) ? validate[file.spec.name] : null;
      if (check) check(sink.view());
      results.set(file.spec.name, { result: sink.finish(), size: received, url: file.url, cached: file.cached, identity: file.identity, bytes: () => sink.view() });
    }
  } catch (err) {
    for (const s of sinks) s.release();
    for (const o of flat) closeQuietly(o);
    // A cached copy that failed a check (truncated, sha256, limits, validation) is dropped, so the
    // next load downloads it again.
    if (cache && current && current.cached && !(err && err.code === 'Cancelled')) await cache.remove(current.url).catch(() => {});
    throw err;
  }
  return results;
}

/**
 * Writes the downloaded (not cached) files of a load the engine accepted into the cache, each with
 * its identity; failures to write (a full disk, a refused quota) are ignored: the next load
 * downloads again.
 */
export async function commitToCache(cache, files) {
  if (!cache) return;
  for (const f of files.values()) {
    if (!f.url || f.cached) continue;
    try {
      await cache.put(f.url, f.bytes(), { identity: f.identity });
    } catch { /* best effort */ }
  }
}

/** Removes the cached copies used by a load the engine refused (they are fetched anew next time). */
export async function evictFromCache(cache, files) {
  if (!cache) return;
  for (const f of files.values()) {
    if (f.url && f.cached) await cache.remove(f.url).catch(() => {});
  }
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

async function openOne(spec, ctx) {
  const file = await openSource(spec, ctx);
  if (file && typeof file === 'object' && file.size !== undefined) {
    // Before a single byte is stored: a size past the limit (4294967396 would wrap to 100 in a
    // 32-bit size_t) is refused here, whatever the server, the cache or the File claims.
    const limit = maxBytesFor(spec.name, ctx.maxFileSize);
    if (!Number.isSafeInteger(file.size) || file.size > limit) {
      closeQuietly(file);
      throw tooLarge(spec, file.url, file.size, limit, file.url && !file.cached ? 'announces (Content-Length)' : 'has');
    }
  }
  return file;
}

async function openSource(spec, { signal, cache, fetchImpl, timeoutMs }) {
  if (spec.open) {
    // A local source; or (spec.cached) an entry the caller took from the cache itself, under spec.url.
    const src = await spec.open();
    return { spec, url: spec.url, size: src.size, chunks: src.chunks, close: src.close, cached: !!spec.cached, identity: src.identity };
  }
  const url = spec.url;
  const canBeMissing = !!(spec.fallback || spec.optional);
  if (cache) {
    const hit = await cache.get(url);
    if (hit) return { spec, url, size: hit.size, chunks: hit.chunks, close: hit.close, cached: true, expectedSha: spec.sha256, identity: hit.identity };
    if (canBeMissing && await cache.isMissing(url)) return spec.fallback ? 'fallback' : null;
  }
  let response;
  // The caller's signal, plus our own abort when the headers do not come within timeoutMs.
  const request = new AbortController();
  const onAbort = () => request.abort();
  if (signal) {
    if (signal.aborted) request.abort();
    signal.addEventListener('abort', onAbort, { once: true });
  }
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; request.abort(); }, timeoutMs);
  try {
    response = await fetchImpl(url, { signal: request.signal });
  } catch (err) {
    if (timedOut) throw timeoutError(spec, url, timeoutMs, 'no response headers');
    if (signal && signal.aborted) throw new EdgebertError('Cancelled', `download of ${spec.name} from ${url} was cancelled`);
    const cause = err && err.cause && err.cause.message ? `${err.message}: ${err.cause.message}` : (err && err.message);
    throw new EdgebertError('NetworkError', `cannot download ${spec.name} from ${url}: ${cause}`, { url, file: spec.name });
  } finally {
    clearTimeout(timer);
    // The body still honours the caller's signal: readInto watches it and cancels the body.
    if (signal) signal.removeEventListener('abort', onAbort);
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
  const chunks = streamChunks(response.body);
  return {
    spec,
    url,
    size: contentLength(response.headers),
    chunks,
    close: chunks.cancel,
    cached: false,
    expectedSha: spec.sha256 || shaFromEtag(response.headers),
    identity: identityFromHeaders(response.headers),
  };
}

/** A downloaded file's identity: its ETag (the Hub's x-linked-etag for LFS files when no ETag came through). */
function identityFromHeaders(headers) {
  const v = headers.get('etag') || headers.get('x-linked-etag');
  return v ? `etag:${v.trim()}` : undefined;
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

function timeoutError(spec, url, ms, what) {
  return new EdgebertError('Timeout',
    `download of ${spec.name}${url ? ` from ${url}` : ''} timed out: ${what} for ${ms} ms (downloadTimeoutMs)`,
    { url, file: spec.name, timeoutMs: ms });
}

/** The next chunk, or a rejection with onTimeout() when none comes within ms. */
function nextWithin(iterator, ms, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); });
  return Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
}

async function readInto(file, sink, progress, signal, ctx) {
  const { spec, size } = file;
  const limit = maxBytesFor(spec.name, ctx.maxFileSize);
  let received = 0;
  progress.update(file, 0, true);
  const iterator = file.chunks[Symbol.asyncIterator]();
  // An abort must end a read that waits on a stalled server, not only be seen at the next chunk.
  let rejectAbort;
  const aborted = new Promise((_, reject) => { rejectAbort = reject; });
  aborted.catch(() => {});
  const onAbort = () => rejectAbort(new EdgebertError('Cancelled', `download of ${spec.name} was cancelled`));
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal && signal.aborted) throw new EdgebertError('Cancelled', `download of ${spec.name} was cancelled`);
      const { done, value: chunk } = await Promise.race([
        nextWithin(iterator, ctx.timeoutMs, () => timeoutError(spec, file.url, ctx.timeoutMs, `no data after ${received} bytes`)),
        aborted,
      ]);
      if (done) break;
      if (size !== undefined && received + chunk.byteLength > size) {
        throw new EdgebertError('IntegrityError',
          `${spec.name}${file.url ? ` from ${file.url}` : ''}: received more than the announced ${size} bytes (Content-Length)`,
          { url: file.url, file: spec.name });
      }
      if (received + chunk.byteLength > limit) {
        // No length announced (chunked, or compressed): the limit applies to the bytes as they come.
        throw tooLarge(spec, file.url, received + chunk.byteLength, limit, 'sent at least');
      }
      sink.write(chunk);
      received += chunk.byteLength;
      progress.update(file, received, false);
    }
  } catch (err) {
    closeQuietly(file);
    if (err instanceof EdgebertError) throw err;
    if (signal && signal.aborted) throw new EdgebertError('Cancelled', `download of ${spec.name} was cancelled`);
    if (size !== undefined && received < size) throw truncated(file, received, err);
    throw new EdgebertError('NetworkError', `reading ${spec.name}${file.url ? ` from ${file.url}` : ''} failed: ${err && err.message}`,
      { url: file.url, file: spec.name });
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort);
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
    if (o.chunks && typeof o.chunks.cancel === 'function') o.chunks.cancel();
    if (o.close) o.close();
  } catch { /* closing is best effort */ }
}

/**
 * A sink collecting bytes in JS memory. The announced size is not allocated up front (a claimed
 * length must not reserve memory before the bytes arrive); chunks are joined once, on first view.
 */
export function memorySink() {
  let buffer = null;
  const parts = [];
  let length = 0;
  return {
    write(chunk) {
      // A copy: local file readers reuse their chunk buffer.
      parts.push(chunk.slice());
      length += chunk.byteLength;
      buffer = null;
    },
    view() {
      if (!buffer) {
        if (parts.length === 1) buffer = parts[0];
        else {
          buffer = new Uint8Array(length);
          let off = 0;
          for (const p of parts) { buffer.set(p, off); off += p.byteLength; }
        }
        parts.length = 0;
        parts.push(buffer);
      }
      return buffer.subarray(0, length);
    },
    finish() { return this.view(); },
    release() { buffer = null; parts.length = 0; },
  };
}
