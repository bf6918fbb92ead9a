// sources.mjs: what `source` may be (packed .ebm by URL/path/Blob/bytes, or a Hugging Face-style
// repository) - normalised on the caller's side into a cloneable description, and turned into the
// list of files to fetch on the worker's side.

import { EdgebertError } from './errors.mjs';
import { nodeFileChunks, streamChunks } from './cache.mjs';

export const HF_BASE_URL = 'https://huggingface.co';
const REPO_RE = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;
const isNode = () => typeof process === 'object' && !!process.versions && !!process.versions.node;

/**
 * Caller side: any accepted `source` -> a structured-cloneable description.
 *   'hf:org/name@rev' | {repo, revision?, baseUrl?}      -> {kind: 'hf', repo, revision, baseUrl}
 *   'https://.../m.ebm' | URL | {url, sha256?}           -> {kind: 'url', url, sha256?}
 *   '/path/m.ebm' | 'file:' URL (Node)                   -> {kind: 'path', path}
 *   Blob | File                                          -> {kind: 'blob', blob, name}
 *   ArrayBuffer | TypedArray (packed model bytes)        -> {kind: 'bytes', bytes}
 *   {files: {'config.json': Blob|bytes, ...}}            -> {kind: 'hf-files', files} (a checkpoint's
 *     files, e.g. dropped on a page: config.json, model.safetensors, tokenizer.json or vocab.txt,
 *     optionally tokenizer_config.json and special_tokens_map.json; converted in the worker)
 */
export function describeSource(source) {
  if (typeof source === 'string') {
    if (source.startsWith('hf:')) return parseHfString(source);
    if (/^(https?|blob|data):/i.test(source)) return { kind: 'url', url: source };
    if (/^file:/i.test(source)) return { kind: 'path', path: fileUrlToPath(source) };
    if (isNode()) return { kind: 'path', path: source };
    const base = globalThis.location && globalThis.location.href;
    if (!base) throw new EdgebertError('InvalidArgument', `source ${JSON.stringify(source)} is relative and there is no page URL to resolve it against; give an absolute URL`);
    return { kind: 'url', url: new URL(source, base).href };
  }
  if (source instanceof URL) return describeSource(source.href);
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { kind: 'blob', blob: source, name: typeof source.name === 'string' && source.name ? source.name : 'model.ebm' };
  }
  if (source instanceof ArrayBuffer) return { kind: 'bytes', bytes: new Uint8Array(source) };
  if (ArrayBuffer.isView(source)) return { kind: 'bytes', bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength) };
  if (source && typeof source === 'object') {
    if (source.files && typeof source.files === 'object') return hfFilesSource(source.files);
    if (typeof source.repo === 'string') {
      return hfSource(source.repo, source.revision, source.baseUrl);
    }
    if (typeof source.url === 'string' || source.url instanceof URL) {
      const d = describeSource(String(source.url));
      if (source.sha256 !== undefined) {
        if (!/^[0-9a-f]{64}$/i.test(source.sha256)) throw new EdgebertError('InvalidArgument', `sha256 must be 64 hex digits, got ${JSON.stringify(source.sha256)}`);
        d.sha256 = source.sha256.toLowerCase();
      }
      return d;
    }
  }
  throw new EdgebertError('InvalidArgument',
    'source must be a URL or path of a packed .ebm model, a File/Blob, packed model bytes, ' +
    `'hf:org/name@revision' or { repo, revision?, baseUrl? }; got ${describeValue(source)}`);
}

export const HF_FILE_NAMES = ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

function hfFilesSource(files) {
  const out = {};
  for (const [name, value] of Object.entries(files)) {
    if (!HF_FILE_NAMES.includes(name)) {
      throw new EdgebertError('InvalidArgument', `unexpected checkpoint file ${JSON.stringify(name)}; expected ${HF_FILE_NAMES.join(', ')}`);
    }
    if (typeof Blob !== 'undefined' && value instanceof Blob) out[name] = value;
    else if (value instanceof ArrayBuffer) out[name] = new Uint8Array(value);
    else if (ArrayBuffer.isView(value)) out[name] = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else throw new EdgebertError('InvalidArgument', `checkpoint file ${name} must be a Blob/File or bytes, got ${describeValue(value)}`);
  }
  const missing = ['config.json', 'model.safetensors'].filter((n) => !out[n]);
  if (!out['tokenizer.json'] && !out['vocab.txt']) missing.push('tokenizer.json or vocab.txt');
  if (missing.length) throw new EdgebertError('InvalidArgument', `the checkpoint files lack ${missing.join(', ')}`);
  return { kind: 'hf-files', files: out };
}

function parseHfString(s) {
  const m = /^hf:([^@]+)(?:@(.+))?$/.exec(s);
  if (!m) throw new EdgebertError('InvalidArgument', `bad Hugging Face source ${JSON.stringify(s)}: expected 'hf:org/name' or 'hf:org/name@revision'`);
  return hfSource(m[1], m[2], undefined);
}

function hfSource(repo, revision = 'main', baseUrl = HF_BASE_URL) {
  if (!REPO_RE.test(repo)) throw new EdgebertError('InvalidArgument', `bad repository name ${JSON.stringify(repo)}: expected 'org/name' or 'name'`);
  if (typeof revision !== 'string' || revision === '') throw new EdgebertError('InvalidArgument', `revision must be a non-empty string, got ${JSON.stringify(revision)}`);
  const base = String(baseUrl).replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(base)) throw new EdgebertError('InvalidArgument', `baseUrl must be an http(s) URL, got ${JSON.stringify(String(baseUrl))}`);
  return { kind: 'hf', repo, revision, baseUrl: base };
}

/** The URL of one file of a repository, in the Hub's layout. */
export function hfFileUrl({ repo, revision, baseUrl, pathTemplate }, file) {
  if (pathTemplate) {
    // transformers.js's env.remotePathTemplate, e.g. '{model}/resolve/{revision}/' (the Hub's) or '{model}/'.
    const path = pathTemplate.replaceAll('{model}', repo).replaceAll('{revision}', encodeURIComponent(revision));
    return `${baseUrl}/${path.replace(/^\/+/, '').replace(/\/?$/, '/')}${file}`;
  }
  return `${baseUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** A readable name for a source in messages. */
export function sourceLabel(d) {
  switch (d.kind) {
    case 'hf': return `${d.repo}@${d.revision} (${d.baseUrl})`;
    case 'url': return d.url;
    case 'path': return d.path;
    case 'blob': return `Blob ${d.name}`;
    case 'hf-files': return d.dir ? `checkpoint folder ${d.dir}` : `checkpoint files (${Object.keys(d.files).join(', ')})`;
    default: return 'model bytes';
  }
}

/**
 * Worker side: the files to fetch for a packed model (one file) or a repository (several).
 * @returns {import('./fetch.mjs').FileSpec[]}
 */
export function fileSpecs(d) {
  switch (d.kind) {
    case 'url':
      return [{ name: basename(new URL(d.url).pathname) || 'model.ebm', url: d.url, sha256: d.sha256 }];
    case 'path':
      return [{ name: basename(d.path), open: () => nodeFileChunks(d.path).catch((err) => { throw localFileError(d.path, err); }), sha256: d.sha256 }];
    case 'blob':
      return [{ name: d.name, open: async () => ({ size: d.blob.size, chunks: streamChunks(d.blob.stream()) }) }];
    case 'bytes':
      return [{ name: 'model.ebm', open: async () => ({ size: d.bytes.byteLength, chunks: (async function* one() { yield d.bytes; })() }) }];
    case 'hf-files':
      return Object.entries(d.files).map(([name, v]) => ({
        name,
        // { path }: a file of a local checkpoint folder (compat.mjs found it there). Its identity
        // (which keys the converted model in the cache) is what a web server's ETag is made of:
        // size, modification time and inode. Blobs and bytes have none: their sha256 is used.
        open: async () => (v && typeof v.path === 'string' && !ArrayBuffer.isView(v)
          ? nodeFileChunks(v.path).then((f) => ({ ...f, identity: `file:${f.size}:${f.stat.mtimeMs}:${f.stat.ino}` }),
            (err) => { throw localFileError(v.path, err); })
          : typeof Blob !== 'undefined' && v instanceof Blob
          ? { size: v.size, chunks: streamChunks(v.stream()) }
          : { size: v.byteLength, chunks: (async function* one() { yield v; })() }),
      }));
    case 'hf': {
      const f = (name, extra) => ({ name, url: hfFileUrl(d, name), ...extra });
      return [
        f('config.json'),
        // tokenizer.json when the repository has one; older BERT repositories only have vocab.txt.
        f('tokenizer.json', { fallback: [f('vocab.txt', { note: 'tokenizer.json is missing too; a repository needs tokenizer.json or vocab.txt' })] }),
        f('tokenizer_config.json', { optional: true }),
        f('special_tokens_map.json', { optional: true }),
        f('model.safetensors'),
      ];
    }
    default:
      throw new EdgebertError('InvalidArgument', `unknown source kind ${JSON.stringify(d.kind)}`);
  }
}

function localFileError(path, err) {
  if (err && err.code === 'ENOENT') return new EdgebertError('NotFound', `model file not found: ${path}`);
  if (err && err.code === 'EISDIR') return new EdgebertError('InvalidArgument', `${path} is a folder: give a packed .ebm file, or a folder holding config.json, model.safetensors and tokenizer.json or vocab.txt`);
  return new EdgebertError('IoError', `cannot read ${path}: ${err && err.message}`);
}

function basename(p) {
  const parts = String(p).split(/[\\/]/);
  return parts[parts.length - 1];
}

function fileUrlToPath(u) {
  return decodeURIComponent(new URL(u).pathname);
}

function describeValue(v) {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object with keys ${JSON.stringify(Object.keys(v))}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}
