// abi_limits.test.mjs: the C ABI's size checks in the release module (issue 16, docs/LIMITS.md):
// eb_config_check on config.json alone, eb_malloc near 4 GiB, (pointer, length) ranges outside
// the heap, and the sinusoidal config that corrupted wasm memory (F1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { instantiateEdgebert } from '../../worker/wasm_loader.mjs';

const buildDir = new URL('../../build/wasm/wasm/', import.meta.url);
const { default: factory } = await import(new URL('edgebert.mjs', buildDir));
const mod = await instantiateEdgebert({ factory, wasm: fileURLToPath(new URL('edgebert.wasm', buildDir)) });

function lastError() {
  return mod.UTF8ToString(mod._eb_last_error());
}

/** Copies bytes (a string is UTF-8 encoded) into an eb_malloc'd buffer: [ptr, len]. */
function put(bytes) {
  const u8 = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const ptr = mod._eb_malloc(u8.length + 1);
  mod.HEAPU8.set(u8, ptr);
  mod.HEAPU8[ptr + u8.length] = 0;
  return [ptr, u8.length];
}

function cString(s) {
  return put(s)[0];
}

function distilConfig({ dim = 16, layers = 2, positions = 24, sinusoidal = false, vocab = 100 }) {
  return JSON.stringify({
    model_type: 'distilbert', architectures: ['DistilBertForSequenceClassification'], dim, n_layers: layers,
    n_heads: 2, hidden_dim: 32, vocab_size: vocab, max_position_embeddings: positions, sinusoidal_pos_embds: sinusoidal,
  });
}

/** eb_config_check: [status, parsed JSON or null]. */
function configCheck(text) {
  const [ptr, len] = put(text);
  const out = mod._eb_malloc(4);
  const status = mod._eb_config_check(ptr, len, out);
  const jsonPtr = mod.HEAPU32[out >> 2];
  const json = status === 0 ? JSON.parse(mod.UTF8ToString(jsonPtr)) : null;
  if (jsonPtr) mod._eb_free(jsonPtr);
  mod._eb_free(out);
  mod._eb_free(ptr);
  return [status, json];
}

test('eb_config_check describes a valid config and estimates its size', () => {
  const [status, info] = configCheck(JSON.stringify({
    model_type: 'distilbert', architectures: ['DistilBertModel'], dim: 768, n_layers: 6, n_heads: 12,
    hidden_dim: 3072, vocab_size: 30522, max_position_embeddings: 512,
  }));
  assert.equal(status, 0, lastError());
  assert.equal(info.model_type, 'distilbert');
  assert.equal(info.head, 'base model');
  assert.equal(info.layers, 6);
  assert.equal(info.parameters, 66362880);
  assert.equal(info.fp32_bytes, 4 * 66362880);
  assert.ok(info.int8_bytes > 66e6 && info.int8_bytes < 70e6, String(info.int8_bytes));
});

test('eb_config_check refuses from config.json alone what a load would refuse, naming the field', () => {
  let [status] = configCheck(distilConfig({ layers: 1000000 }));
  assert.equal(status, 1);
  assert.equal(lastError(), "config.json: 'n_layers' is 1000000; expected 1..256");
  [status] = configCheck(distilConfig({ dim: 65536, positions: 65536, sinusoidal: true }));
  assert.equal(status, 1);
  assert.match(lastError(), /^config\.json: max_position_embeddings x dim = 65536 x 65536/);
  [status] = configCheck('{"model_type": ');
  assert.equal(status, 3);
  assert.match(lastError(), /^config\.json: JSON parse error at byte 15 \(line 1, column 16\)/);
});

test('eb_malloc refuses sizes it cannot round up to 64 bytes instead of returning a short buffer', () => {
  assert.equal(mod._eb_malloc(0xffffffff), 0);
  assert.equal(mod._eb_malloc(0xffffffc1), 0);
  const p = mod._eb_malloc(0);
  assert.notEqual(p, 0);
  mod._eb_free(p);
});

test('file ranges outside the wasm heap are an error naming the file, not a read past memory', () => {
  const [cfg, cfgLen] = put(distilConfig({}));
  const heap = mod.HEAPU8.length;
  const files = cString(JSON.stringify({
    'config.json': { ptr: cfg, len: cfgLen },
    'model.safetensors': { ptr: heap - 16, len: 1 << 20 },
  }));
  const out = mod._eb_malloc(8);
  assert.equal(mod._eb_convert_hf(files, out, out + 4), 1);
  assert.match(lastError(), /^eb_convert_hf: file 'model\.safetensors' at ptr \d+ with len 1048576 lies outside the \d+-byte wasm heap$/);
  assert.equal(mod._eb_model_load(cfg, 0x7fffffff, out), 1);
  assert.match(lastError(), /outside the wasm heap/);
  for (const p of [out, files, cfg]) mod._eb_free(p);
});

// F1: each field within its own limit, the position table they imply 2^34 bytes, which wrapped to
// 0 in wasm32's size_t; the table was then written over memory from a null pointer.
test('the wrapping sinusoidal config is refused before anything is allocated', () => {
  const [cfg, cfgLen] = put(distilConfig({ dim: 65536, positions: 65536, sinusoidal: true, vocab: 1 }));
  // The one tensor the loader reads before the position table: word embeddings (1, 65536).
  const header = new TextEncoder().encode(JSON.stringify({
    'distilbert.embeddings.word_embeddings.weight': { dtype: 'F32', shape: [1, 65536], data_offsets: [0, 4 * 65536] },
  }));
  const st = new Uint8Array(8 + header.length + 4 * 65536);
  new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
  st.set(header, 8);
  st.fill(0x3c, 8 + header.length);  // 0x3c3c3c3c = 0.0115 each
  const [stPtr, stLen] = put(st);
  const files = cString(JSON.stringify({
    'config.json': { ptr: cfg, len: cfgLen }, 'model.safetensors': { ptr: stPtr, len: stLen },
  }));
  const handle = mod._eb_malloc(4);
  assert.equal(mod._eb_model_load_hf(files, cString('int8'), handle), 1);
  assert.match(lastError(), /^config\.json: max_position_embeddings x dim = 65536 x 65536 = 4294967296 exceeds the limit/);
  assert.equal(mod._eb_version() > 0, true, 'the module still answers');
  for (const p of [handle, files, stPtr, cfg]) mod._eb_free(p);
});

test('Engine._text reads engine strings as the glue does: ASCII, non-ASCII, long and empty ones', async () => {
  const { Engine } = await import('../../worker/engine.mjs');
  const engine = new Engine(mod);
  for (const s of ['', '[[{"label":"POSITIVE","score":0.9987654685974121}]]', 'naïve café 東京 🙂', 'x'.repeat(1023), 'y'.repeat(1024),
    'z'.repeat(5000), `${'a'.repeat(1500)}é`]) {
    const ptr = cString(s);
    try {
      assert.equal(engine._text(ptr), s);
      assert.equal(engine._text(ptr), mod.UTF8ToString(ptr));
    } finally {
      mod._eb_free(ptr);
    }
  }
});
