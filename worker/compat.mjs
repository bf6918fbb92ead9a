// compat.mjs: what code written for transformers.js expects, on the caller's side: the `env`
// settings, model ids ('org/name' means the Hub, a local folder means that folder), snake_case
// option names, transformers.js's progress fields, and a clear error for options with no meaning here.

import { EdgebertError } from './errors.mjs';
import { describeSource, HF_FILE_NAMES } from './sources.mjs';

const isNode = () => typeof process === 'object' && !!process.versions && !!process.versions.node;
const REPO_RE = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/**
 * transformers.js's `env`, with its meaning. Changes apply to later pipeline() calls.
 * wasmPaths: where edgebert.mjs/.wasm are (a folder URL ending in '/'), instead of next to this module.
 */
export const env = {
  allowRemoteModels: true,
  allowLocalModels: isNode(),
  localModelPath: '/models/',
  remoteHost: 'https://huggingface.co/',
  remotePathTemplate: '{model}/resolve/{revision}/',
  cacheDir: null,
  useBrowserCache: true,
  useFSCache: true,
  wasmPaths: null,
};

// transformers.js pipeline option -> ours; null: understood and checked below.
const LOAD_ALIASES = {
  progress_callback: 'onProgress',
  cache_dir: 'cacheDir',
  revision: null,
  local_files_only: null,
  dtype: null,
  quantized: null,
  device: null,
  config: null,
  subfolder: null,
  model_file_name: null,
  session_options: null,
  use_external_data_format: null,
};

/**
 * Pipeline options in transformers.js's spelling -> ours, plus the per-call source settings:
 * { options, revision, localFilesOnly }. Options with no meaning here are an InvalidArgument or
 * Unsupported error that says why.
 */
export function adaptLoadOptions(what, options) {
  if (options === null || typeof options !== 'object') return { options, revision: undefined, localFilesOnly: false };
  const out = {};
  let revision;
  let localFilesOnly = false;
  for (const [k, v] of Object.entries(options)) {
    if (!(k in LOAD_ALIASES)) {
      out[k] = v;
      continue;
    }
    if (LOAD_ALIASES[k]) {
      if (out[LOAD_ALIASES[k]] === undefined) out[LOAD_ALIASES[k]] = v;
      continue;
    }
    switch (k) {
      case 'revision':
        if (typeof v !== 'string' || v === '') throw new EdgebertError('InvalidArgument', `${what}: revision must be a non-empty string, got ${JSON.stringify(v)}`);
        revision = v;
        break;
      case 'local_files_only':
        localFilesOnly = v === true;
        break;
      case 'dtype':
        out.quantization = dtypeToQuantization(what, v);
        break;
      case 'quantized':  // transformers.js v2
        out.quantization = v === false ? 'fp32' : 'int8';
        break;
      case 'device':
        out.device = deviceOption(what, v);
        if (out.device === undefined) delete out.device;
        break;
      default:
        throw new EdgebertError('Unsupported', `${what}: option ${JSON.stringify(k)} has no meaning in edgebert: ` + ({
          config: 'the model\'s config.json is always read from the model itself',
          subfolder: 'a checkpoint is read from the repository root; give the folder or repository that holds config.json',
          model_file_name: 'edgebert reads model.safetensors (or a packed .ebm) only, not ONNX files',
          session_options: 'there is no ONNX Runtime session; the engine is edgebert\'s own',
          use_external_data_format: 'edgebert reads model.safetensors, not ONNX external data',
        })[k]);
    }
  }
  return { options: out, revision, localFilesOnly };
}

function dtypeToQuantization(what, v) {
  if (v === 'fp32') return 'fp32';
  if (v === 'q8' || v === 'int8' || v === 'uint8') return 'int8';
  throw new EdgebertError('Unsupported', `${what}: dtype ${JSON.stringify(v)} is not available: edgebert quantizes the ` +
    "checkpoint's weights itself, to int8 (dtype 'q8', the default) or not at all (dtype 'fp32'); fp16, q4 and bnb4 have no kernels here");
}

function deviceOption(what, v) {
  if (v === 'worker' || v === 'inline') return v;
  // transformers.js's CPU devices: edgebert's one engine is WebAssembly on the CPU anyway.
  if (v === 'wasm' || v === 'cpu' || v === 'auto') return undefined;
  throw new EdgebertError('Unsupported', `${what}: device ${JSON.stringify(v)} is not available: edgebert runs on the CPU in ` +
    "WebAssembly (SIMD, int8) only, with no WebGPU/GPU backend; use device 'wasm' (or edgebert's 'worker' / 'inline', where it runs)");
}

const CALL_ALIASES = {
  top_k: 'topK', function_to_apply: 'functionToApply', aggregation_strategy: 'aggregationStrategy', ignore_labels: 'ignoreLabels',
  doc_stride: 'docStride', max_answer_len: 'maxAnswerLen', max_seq_len: 'maxSeqLen', max_question_len: 'maxQuestionLen',
  handle_impossible_answer: 'handleImpossibleAnswer', align_to_words: 'alignToWords', text_pair: 'textPair',
  add_special_tokens: 'addSpecialTokens', max_length: 'maxLength', batch_size: 'batchSize',
};

/** A call's options object with transformers.js/Python names -> camelCase (the camelCase one wins when both are given). */
export function adaptCallOptions(options) {
  if (!options || typeof options !== 'object' || Array.isArray(options)) return options;
  if (!Object.keys(options).some((k) => k in CALL_ALIASES)) return options;
  const out = {};
  for (const [k, v] of Object.entries(options)) if (!(k in CALL_ALIASES)) out[k] = v;
  for (const [k, v] of Object.entries(options)) if (k in CALL_ALIASES && out[CALL_ALIASES[k]] === undefined) out[CALL_ALIASES[k]] = v;
  return out;
}

/**
 * Our progress events plus transformers.js's fields: { status: 'progress', name, file, progress
 * (percent), loaded, total }, then { status: 'done', name, file } per file and { status: 'ready', name, task }.
 */
export function progressAdapter(onProgress, name) {
  if (typeof onProgress !== 'function') return { onProgress, ready: () => {} };
  const done = new Set();
  let last = null;
  // Every event keeps our fields (file, loaded, total, cached, overall): 'done' and 'ready' repeat
  // the latest figures, so code reading either shape works.
  const adapted = (p) => {
    last = p;
    const total = p.total;
    onProgress({ ...p, status: 'progress', name, progress: total ? (100 * p.loaded) / total : 0 });
    if (total !== undefined && p.loaded === total && !done.has(p.file)) {
      done.add(p.file);
      onProgress({ ...p, status: 'done', name, progress: 100 });
    }
  };
  return { onProgress: adapted, ready: (task) => { if (last) onProgress({ ...last, status: 'ready', name, task, model: name, progress: 100 }); } };
}

/**
 * Any `source` -> a description (sources.mjs), deciding what a bare string means the way
 * transformers.js does: a URL or 'hf:' is that; './x', '../x', '/x' are local paths; otherwise an
 * existing local file or folder, then env.localModelPath + id (when env.allowLocalModels), then
 * the Hub ('org/name', when env.allowRemoteModels). A folder is a Hugging Face checkpoint.
 * @returns {Promise<{description: object, tried: string[]}>} tried: the local places looked at
 *   before choosing the Hub, for the error message when the Hub fails too
 */
export async function resolveSource(source, { revision, localFilesOnly = false, what = 'pipeline' } = {}) {
  if (typeof source !== 'string' || /^(hf|https?|blob|data|file):/i.test(source)) {
    const d = describeSource(source);
    if (d.kind === 'path') return { description: await localDescription(d.path, d), tried: [] };
    if (d.kind === 'hf' && revision !== undefined && typeof source === 'string' && !source.includes('@')) d.revision = revision;
    return { description: d, tried: [] };
  }
  // A packed model file name ('models/m.ebm') is a path or page-relative URL, as it always was.
  const explicitPath = /^(\.{1,2}[\\/]|\/|~|[A-Za-z]:[\\/])/.test(source) || source === '.' || source === '..' || /\.ebm$/i.test(source);
  if (explicitPath || (!REPO_RE.test(source) && isNode())) {
    const d = describeSource(source);  // a path in Node, a URL against the page elsewhere
    return { description: d.kind === 'path' ? await localDescription(d.path, d) : d, tried: [] };
  }
  const tried = [];
  if (isNode()) {
    const here = await statPath(source);
    tried.push(here.where);
    if (here.kind) return { description: await localDescription(source, { kind: 'path', path: source }), tried: [] };
    if (env.allowLocalModels && env.localModelPath) {
      const { join } = await import('node:path');
      const p = join(String(env.localModelPath), source);
      const there = await statPath(p);
      tried.push(there.where);
      if (there.kind) return { description: await localDescription(p, { kind: 'path', path: p }), tried: [] };
    }
  } else if (env.allowLocalModels && env.localModelPath) {
    const base = new URL(String(env.localModelPath).replace(/\/?$/, '/'), globalThis.location && globalThis.location.href).href;
    const url = `${base}${source}/config.json`;
    tried.push(url);
    const found = await fetch(url, { method: 'HEAD' }).then((r) => r.ok, () => false);
    if (found) return { description: { kind: 'hf', repo: source, revision: 'main', baseUrl: base.replace(/\/$/, ''), pathTemplate: '{model}/' }, tried: [] };
  }
  if (!env.allowRemoteModels || localFilesOnly) {
    throw new EdgebertError('NotFound', `${what}: model ${JSON.stringify(source)} is not a local file or folder (tried ${tried.join(', ') || 'nothing: env.allowLocalModels is false'}) ` +
      `and remote models are off (${localFilesOnly ? 'local_files_only' : 'env.allowRemoteModels is false'})`);
  }
  if (!REPO_RE.test(source)) {
    throw new EdgebertError('InvalidArgument', `${what}: ${JSON.stringify(source)} is not a local file or folder (tried ${tried.join(', ')}) nor a Hub id ('org/name')`);
  }
  const host = String(env.remoteHost || 'https://huggingface.co/').replace(/\/+$/, '');
  const description = describeSource({ repo: source, revision: revision || 'main', baseUrl: host });
  const template = String(env.remotePathTemplate || '{model}/resolve/{revision}/');
  if (template !== '{model}/resolve/{revision}/') description.pathTemplate = template;
  return { description, tried };
}

/**
 * The model a pipeline uses when none is given: edgebert's own trained models (models/ in the
 * edgebert repository, with their cards; docs/MODELS.md). They are 19-24 MB each, so the npm
 * package (under 1 MB) does not carry them.
 */
export const DEFAULT_MODELS = Object.freeze({
  'text-classification': 'sentiment-minilm-l3',
  'token-classification': 'entities-minilm-l3',
  'question-answering': 'qa-minilm-l6',
  'feature-extraction': 'search-minilm-l3',
  'sentence-embeddings': 'search-minilm-l3',
});

// import.meta.url is undefined in some runtimes (workerd before 2026-11-17): no package-relative place there.
const HERE = typeof import.meta.url === 'string' && import.meta.url !== '' ? import.meta.url : undefined;

/**
 * Where the default model of a task is: env.localModelPath + '<name>/model.ebm' (when
 * env.allowLocalModels), then models/<name>/model.ebm beside this package (a clone of the
 * repository, or a page served from one). A NotFound error names each place tried and how to
 * put the model there.
 * @param {string} task the task's canonical name (tasks.mjs resolveTask)
 * @returns {Promise<string>} a path (Node, Deno, Bun) or a URL
 */
export async function defaultModelSource(task, what = 'pipeline') {
  const name = DEFAULT_MODELS[task];
  if (!name) {
    throw new EdgebertError('InvalidArgument', `${what}: ${task} has no default model (edgebert ships models for ` +
      `${[...new Set(Object.keys(DEFAULT_MODELS))].join(', ')}); give a model: a Hub id, a folder, a URL or a .ebm file`);
  }
  const places = [];
  if (env.allowLocalModels && env.localModelPath) {
    if (isNode()) {
      const { join } = await import('node:path');
      places.push(join(String(env.localModelPath), name, 'model.ebm'));
    } else {
      const base = globalThis.location && globalThis.location.href;
      try { places.push(new URL(`${String(env.localModelPath).replace(/\/?$/, '/')}${name}/model.ebm`, base).href); } catch { /* no page URL */ }
    }
  }
  if (HERE) {
    const url = new URL(`../models/${name}/model.ebm`, HERE);
    if (isNode() && url.protocol === 'file:') {
      const { fileURLToPath } = await import('node:url');
      places.push(fileURLToPath(url));
    } else if (!isNode()) {
      places.push(url.href);
    }
  }
  const tried = [];
  for (const place of places) {
    if (isNode()) {
      const s = await statPath(place);
      tried.push(s.where);
      if (s.kind === 'file') return place;
    } else {
      tried.push(place);
      if (await fetch(place, { method: 'HEAD' }).then((r) => r.ok, () => false)) return place;
    }
  }
  throw new EdgebertError('NotFound', `${what}: the default model for ${task} is edgebert's ${name} ` +
    `(models/${name}/model.ebm in the edgebert repository, with its model card; the npm package does not carry models), ` +
    `and it is not at ${tried.join(', ') || 'any place this runtime can look (env.allowLocalModels is false)'}. ` +
    `Copy the folder models/${name}/ into env.localModelPath (now ${JSON.stringify(env.localModelPath)}), or give a model`);
}

async function statPath(p) {
  const { resolve } = await import('node:path');
  const where = resolve(p);
  try {
    const { stat } = await import('node:fs/promises');
    const s = await stat(p);
    return { where, kind: s.isDirectory() ? 'dir' : 'file' };
  } catch (err) {
    // Absent, or not readable here (Deno without --allow-read for it): not a local model.
    return { where: err && err.code === 'ENOENT' ? where : `${where} (${err && (err.code || err.name)})`, kind: null };
  }
}

/** A path: a packed model file as it is; a folder: the Hugging Face checkpoint files it holds. */
async function localDescription(path, asFile) {
  if (!isNode()) return asFile;
  const { stat, readdir } = await import('node:fs/promises');
  let s;
  try {
    s = await stat(path);
  } catch {
    return asFile;  // the load reports the missing file with its own message
  }
  if (!s.isDirectory()) return asFile;
  const { join } = await import('node:path');
  const names = await readdir(path).catch((err) => {
    throw new EdgebertError('IoError', `cannot list the folder ${path}: ${err && err.message}`);
  });
  const files = {};
  for (const n of HF_FILE_NAMES) if (names.includes(n)) files[n] = { path: join(path, n) };
  const missing = ['config.json', 'model.safetensors'].filter((n) => !files[n]);
  if (!files['tokenizer.json'] && !files['vocab.txt']) missing.push('tokenizer.json or vocab.txt');
  // A folder of a packed model (models/<name>/ as edgebert ships them): its model.ebm.
  if (missing.length === 3 && names.includes('model.ebm')) return describeSource(join(path, 'model.ebm'));
  if (missing.length) {
    const ebm = names.filter((n) => n.endsWith('.ebm'));
    throw new EdgebertError('NotFound', `${path} is a folder, read as a Hugging Face checkpoint, but it has no ${missing.join(', ')}` +
      (ebm.length ? `; for a packed model give the file itself (${join(path, ebm[0])})` : '') +
      ` (it holds ${names.length ? names.slice(0, 10).join(', ') + (names.length > 10 ? ', ...' : '') : 'nothing'})`);
  }
  return { kind: 'hf-files', files, dir: path };
}
