// cache.mjs: downloaded files kept for the next load: a folder in Node (atomic writes), Cache
// Storage in browsers and workers, nothing elsewhere. Keys are full URLs, and Hugging Face URLs
// contain the revision (.../resolve/<revision>/<file>), so a pinned commit is cached for good while
// a branch name like 'main' keeps whatever was downloaded first (pass cache: false to refresh).
// Each entry may carry an identity (the server's ETag, or the sha256 of its bytes), which keys the
// packed models converted from those files (conversionKey below; service.mjs).

const CACHE_STORAGE_NAME = 'edgebert-v1';
const IDENTITY_HEADER = 'x-edgebert-identity';
const READ_CHUNK = 1 << 20;

const isNode = () => typeof process === 'object' && !!process.versions && !!process.versions.node;

/**
 * @param {{cache?: boolean, cacheDir?: string}} options
 * @returns {Promise<null | {kind: string, location: string,
 *   get(key: string): Promise<null|{size: number, chunks: AsyncIterable<Uint8Array>, identity?: string}>,
 *   put(key: string, bytes: Uint8Array, meta?: {identity?: string}): Promise<void>, remove(key: string): Promise<void>,
 *   isMissing(key: string): Promise<boolean>, putMissing(key: string): Promise<void>}>}
 */
export async function openCache({ cache = true, cacheDir } = {}) {
  if (cache === false) return null;
  if (isNode()) return NodeFileCache.open(cacheDir);
  if (cacheDir !== undefined) {
    throw new Error('edgebert: cacheDir is only meaningful in Node (browsers use Cache Storage)');
  }
  if (typeof globalThis.caches === 'object' && globalThis.caches && typeof globalThis.caches.open === 'function') {
    try {
      return new CacheStorageCache(await globalThis.caches.open(CACHE_STORAGE_NAME), await globalThis.caches.open(`${CACHE_STORAGE_NAME}-missing`));
    } catch {
      return null;  // e.g. opaque origins and some private modes refuse Cache Storage
    }
  }
  return null;
}

/** Where converted models live in the cache: a reserved host (RFC 2606), never a real URL. */
export const CONVERTED_PREFIX = 'https://edgebert.invalid/converted/';

/**
 * The cache key of the packed model converted from a checkpoint: a hash of the source (repository,
 * revision and base URL, or the folder), the engine version, the quantization and every file's
 * name and identity (its ETag, its sha256, or for a local file its size, modification time and
 * inode), so a changed file, another revision or another engine misses.
 * @param {object} source the source description (sources.mjs)
 * @param {string} engineVersion eb_version()
 * @param {Array<[string, string]>} files [name, identity] of every file the conversion reads
 */
export async function conversionKey(source, engineVersion, files, quantization = 'int8') {
  const where = source.kind === 'hf'
    ? { kind: 'hf', repo: source.repo, revision: source.revision, baseUrl: source.baseUrl, pathTemplate: source.pathTemplate || null }
    : { kind: source.kind, dir: source.dir || null };
  const text = JSON.stringify({ v: 1, engine: engineVersion, quantization, source: where,
    files: [...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) });
  return `${CONVERTED_PREFIX}${await sha256Hex(new TextEncoder().encode(text))}.ebm`;
}

/** Hex sha256 of bytes (crypto.subtle: Node, Deno, Bun, workers, secure pages). */
export async function sha256Hex(bytes) {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    throw new Error('crypto.subtle is not available here (it needs a secure context)');
  }
  let view = bytes;
  if (typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer) view = view.slice();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', view));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The Node cache folder: cacheDir, else $EDGEBERT_CACHE_DIR, else $XDG_CACHE_HOME/edgebert, else ~/.cache/edgebert. */
export async function defaultCacheDir() {
  const { homedir } = await import('node:os');
  const { join } = await import('node:path');
  if (process.env.EDGEBERT_CACHE_DIR) return process.env.EDGEBERT_CACHE_DIR;
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, 'edgebert');
  return join(homedir(), '.cache', 'edgebert');
}

/**
 * Reads a local file as chunks (Node). Each chunk is valid until the next iteration. `stat` is the
 * open file's (size, mtime, inode: what a web server's ETag is made of).
 */
export async function nodeFileChunks(path) {
  const fs = await import('node:fs/promises');
  const handle = await fs.open(path, 'r');
  const stat = await handle.stat();
  const { size } = stat;
  async function* chunks() {
    const buffer = new Uint8Array(Math.min(READ_CHUNK, Math.max(size, 1)));
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }
  return { size, stat, chunks: chunks(), close: () => handle.close().catch(() => {}) };
}

class NodeFileCache {
  static async open(cacheDir) {
    const path = await import('node:path');
    const fs = await import('node:fs/promises');
    return new NodeFileCache(path.resolve(cacheDir || (await defaultCacheDir())), path, fs);
  }

  constructor(dir, path, fs) {
    this.kind = 'folder';
    this.location = dir;
    this.path = path;
    this.fs = fs;
  }

  /** https://host:port/a/b/c?x -> <dir>/https/host_port/a/b/c%3Fx (every segment URI-encoded: no '..'). */
  fileFor(key) {
    const url = new URL(key);
    const seg = (s) => {
      const e = encodeURIComponent(decodeURIComponent(s));
      return e === '.' || e === '..' || e === '' ? `%2E${e.slice(1)}_` : e;
    };
    const parts = url.pathname.split('/').filter((s) => s !== '').map(seg);
    if (parts.length === 0) parts.push('index');
    if (url.search) parts[parts.length - 1] += encodeURIComponent(url.search);
    return this.path.join(this.location, url.protocol.replace(':', ''), url.host.replace(':', '_'), ...parts);
  }

  async get(key) {
    let hit;
    try {
      hit = await nodeFileChunks(this.fileFor(key));
    } catch (err) {
      if (err && err.code === 'ENOENT') return null;
      throw err;
    }
    // The identity written with it (absent for entries of older versions: then it is unknown).
    const identity = await this.fs.readFile(`${this.fileFor(key)}.etag`, 'utf8').catch(() => '');
    if (identity) hit.identity = identity;
    return hit;
  }

  /** A 404 remembered (like huggingface_hub's .no_exist), so a cached load needs no network. */
  async isMissing(key) {
    try {
      await this.fs.access(`${this.fileFor(key)}.missing`);
      return true;
    } catch {
      return false;
    }
  }

  /** Drops a cached file (it failed a check), its identity and any remembered 404 for it. */
  async remove(key) {
    await this.fs.rm(`${this.fileFor(key)}.etag`, { force: true });
    await this.fs.rm(this.fileFor(key), { force: true });
    await this.fs.rm(`${this.fileFor(key)}.missing`, { force: true });
  }

  async put(key, bytes, meta = {}) {
    const file = this.fileFor(key);
    // The old identity goes first and the new one is written last: an entry whose identity file
    // is missing (a crash in between) has an unknown identity, never a wrong one.
    await this.fs.rm(`${file}.etag`, { force: true });
    await this.writeAtomically(file, bytes);
    // A file that is there now was no 404 after all (a refreshed load).
    await this.fs.rm(`${file}.missing`, { force: true });
    if (meta.identity) await this.writeAtomically(`${file}.etag`, meta.identity);
  }

  async putMissing(key) {
    await this.writeAtomically(`${this.fileFor(key)}.missing`, new Uint8Array(0));
  }

  async writeAtomically(file, bytes) {
    await this.fs.mkdir(this.path.dirname(file), { recursive: true });
    // Write elsewhere and rename: a crash or a concurrent reader never sees a partial file.
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    try {
      await this.fs.writeFile(tmp, bytes);
      await this.fs.rename(tmp, file);
    } catch (err) {
      await this.fs.rm(tmp, { force: true });
      throw err;
    }
  }
}

class CacheStorageCache {
  // 404s live in a cache of their own: Cache Storage ignores URL fragments, and a query suffix
  // could collide with a real URL.
  constructor(cache, missing) {
    this.kind = 'cache-storage';
    this.location = CACHE_STORAGE_NAME;
    this.cache = cache;
    this.missing = missing;
  }

  async get(key) {
    const response = await this.cache.match(key);
    if (!response || !response.body) return null;
    const size = Number(response.headers.get('content-length'));
    const chunks = streamChunks(response.body);
    const identity = response.headers.get(IDENTITY_HEADER) || undefined;
    return { size: Number.isFinite(size) && size >= 0 ? size : undefined, chunks, close: chunks.cancel, identity };
  }

  async isMissing(key) {
    return !!(await this.missing.match(key));
  }

  async putMissing(key) {
    await this.missing.put(key, new Response(new Uint8Array(0)));
  }

  async remove(key) {
    await this.cache.delete(key);
    await this.missing.delete(key);
  }

  async put(key, bytes, meta = {}) {
    // Cache Storage keeps its own copy; a view of the wasm heap must not be retained.
    const copy = bytes.slice();
    const headers = { 'content-length': String(copy.byteLength) };
    if (meta.identity) headers[IDENTITY_HEADER] = meta.identity;
    await this.cache.put(key, new Response(copy, { headers }));
    await this.missing.delete(key);
  }
}

/**
 * A ReadableStream as an async iterable of Uint8Array chunks, with cancel(): it ends a read that is
 * waiting on a stalled stream (the reader is taken at once, so the stream itself is locked).
 */
export function streamChunks(stream) {
  const reader = stream.getReader();
  const chunks = (async function* read() {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      try { reader.releaseLock(); } catch { /* a read may still be pending after cancel */ }
    }
  })();
  chunks.cancel = () => reader.cancel().catch(() => {});
  return chunks;
}
