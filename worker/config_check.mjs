// config_check.mjs: a first look at a checkpoint's config.json in JS, before its weights are
// downloaded, so a config the engine would refuse (10^6 layers, a vocabulary of 2^40) fails
// without fetching gigabytes. The engine validates the config fully afterwards (src/model/config.cc);
// these limits mirror its limits and only refuse what it would refuse anyway.

import { EdgebertError } from './errors.mjs';
import { WASM_MAX_FILE_BYTES } from './fetch.mjs';

// [BERT key, DistilBERT key, the engine's limit] (src/model/config.cc: kMaxDim, kMaxLayers, ...).
const FIELDS = [
  ['num_hidden_layers', 'n_layers', 256],
  ['hidden_size', 'dim', 1 << 16],
  ['num_attention_heads', 'n_heads', 1 << 16],
  ['intermediate_size', 'hidden_dim', 1 << 18],
  ['vocab_size', 'vocab_size', 1 << 22],
  ['max_position_embeddings', 'max_position_embeddings', 1 << 16],
  ['type_vocab_size', 'type_vocab_size', 1 << 16],
];

/**
 * Throws CorruptData (not JSON, not an object) or InvalidArgument (a size field out of range, or a
 * shape whose weights cannot fit in the wasm heap even at 2 bytes per parameter). Absent fields
 * are left to the engine, which names them.
 * @param {Uint8Array} bytes the contents of config.json
 */
export function checkConfigJson(bytes) {
  let config;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new EdgebertError('CorruptData', `config.json is not valid JSON: ${err.message}`, { file: 'config.json' });
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new EdgebertError('CorruptData', 'config.json must be a JSON object', { file: 'config.json' });
  }
  const distil = config.model_type === 'distilbert';
  const dims = {};
  for (const [bertKey, distilKey, limit] of FIELDS) {
    const key = distil ? distilKey : bertKey;
    if (!Object.prototype.hasOwnProperty.call(config, key)) continue;
    const v = config[key];
    if (!Number.isInteger(v) || v < 1 || v > limit) {
      throw new EdgebertError('InvalidArgument',
        `config.json: '${key}' is ${typeof v === 'number' ? String(v) : JSON.stringify(v)}; expected an integer in 1..${limit} ` +
        '(checked before downloading the weights)', { file: 'config.json', field: key, value: v, limit });
    }
    dims[bertKey] = v;
  }
  // A lower bound on the weights: embeddings + per layer Q, K, V, O (h x h) and the two FFN
  // matrices (h x i), at 2 bytes a parameter (F16/BF16, the smallest safetensors dtype we read).
  const h = dims.hidden_size;
  if (h !== undefined) {
    const layers = dims.num_hidden_layers || 0;
    const inter = dims.intermediate_size || 0;
    const params = ((dims.vocab_size || 0) + (dims.max_position_embeddings || 0)) * h + layers * (4 * h * h + 2 * h * inter);
    if (2 * params > WASM_MAX_FILE_BYTES) {
      throw new EdgebertError('InvalidArgument',
        `config.json describes a model of at least ${params} parameters (${2 * params} bytes at 2 bytes each), ` +
        `more than a 32-bit wasm heap can hold (${WASM_MAX_FILE_BYTES} bytes)`, { file: 'config.json', params });
    }
  }
}
