// classify_path.test.mjs: text-classification runs through eb_run_classify (labels and scores as
// numbers, no JSON response) where the build has it. Against the real engine: the same results as
// eb_run_batch's JSON, bit for bit (a float32 score read from the heap is the double the JSON's
// shortest round-trip text parses to), for every option, pairs, truncation and batched arrays;
// the same errors; and through the pipeline API, the same answers as a module without the export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { instantiateEdgebert } from '../../worker/wasm_loader.mjs';
import { Engine } from '../../worker/engine.mjs';
import { createRuntime, pipeline } from '../../worker/index.mjs';

const ROOT = new URL('../../', import.meta.url);
const BUILD = new URL('build/wasm/wasm/', ROOT);
const built = existsSync(new URL('edgebert.mjs', BUILD));
const MODELS = ['models/sentiment-minilm-l3/model.ebm', 'models/entities-minilm-l3/model.ebm'].map((p) => new URL(p, ROOT));
const skip = !built ? 'build/wasm not built' : false;

async function engineWith(modelUrl) {
  const { default: factory } = await import(new URL('edgebert.mjs', BUILD));
  const mod = await instantiateEdgebert({ factory, wasm: fileURLToPath(new URL('edgebert.wasm', BUILD)) });
  const engine = new Engine(mod);
  const bytes = await readFile(modelUrl);
  const ptr = engine.malloc(bytes.length);
  engine.heap().set(bytes, ptr);
  const handle = engine.loadModel(ptr, bytes.length);
  const info = engine.modelInfo(handle);
  const labels = Object.keys(info.labels).map((_, i) => info.labels[i]);
  return { engine, handle, labels };
}

const LONG = Array.from({ length: 700 }, (_, i) => ['the', 'film', 'was', 'a', 'quiet', 'delight', 'Köln', '42'][i % 8]).join(' ');
const req = (text, o = {}) => ({ text, top_k: 1, function_to_apply: 'default', truncation: false, ...o });

test('eb_run_classify gives eb_run_batch\'s results bit for bit: options, pairs, truncation, arrays', { skip }, async () => {
  const { engine, handle, labels } = await engineWith(MODELS[0]);
  assert.equal(engine.has('eb_run_classify'), true);
  const cases = [
    [req('a quiet delight')],
    [req('')],
    [req('not good at all', { top_k: null })],
    [req('not good at all', { top_k: 5 })],
    [req('fine', { function_to_apply: 'sigmoid', top_k: null })],
    [req('fine', { function_to_apply: 'softmax' })],
    [req('fine', { function_to_apply: 'none', top_k: 2 })],
    [req('the first part', { text_pair: 'and the second naïve part' })],
    [req(LONG, { truncation: true, top_k: null })],
    Array.from({ length: 11 }, (_, i) => req(LONG.split(' ').slice(0, 3 + 17 * i).join(' '), { top_k: i % 3 === 0 ? null : 1 })),
  ];
  for (const requests of cases) {
    for (const batchSize of [1, 3, 8]) {
      const viaJson = engine.runBatch(handle, 'text-classification', requests, batchSize);
      const viaNumbers = engine.classify(handle, requests, batchSize, labels);
      assert.deepEqual(viaNumbers, viaJson, `${requests.length} request(s), batch size ${batchSize}`);
      for (const list of viaNumbers) for (const { score } of list) assert.equal(score, Math.fround(score));
    }
  }
});

test('eb_run_classify fails as eb_run_batch does, naming the input, and the engine keeps serving', { skip }, async () => {
  const { engine, handle, labels } = await engineWith(MODELS[0]);
  const bad = [
    [req(LONG)],                                   // too long without truncation: OutOfRange
    [req('x', { top_k: 0 })],                      // InvalidArgument
    [req('x', { function_to_apply: 'relu' })],
    [req('x', { unknown_key: 1 })],
    [req('fine'), req(LONG), req('fine')],         // "input 1: ..."
    [{ text: 42 }],
  ];
  const failure = (f) => { try { f(); } catch (err) { return { code: err.code, message: err.message }; } return null; };
  for (const requests of bad) {
    const a = failure(() => engine.runBatch(handle, 'text-classification', requests, 8));
    const b = failure(() => engine.classify(handle, requests, 8, labels));
    assert.ok(a && b, `${JSON.stringify(requests).slice(0, 80)} must fail`);
    assert.deepEqual(b, a);
  }
  assert.deepEqual(engine.classify(handle, [req('still fine')], 8, labels), engine.runBatch(handle, 'text-classification', [req('still fine')], 8));
  // A model whose head cannot classify texts: the same refusal.
  const ner = await engineWith(MODELS[1]);
  const a = failure(() => ner.engine.runBatch(ner.handle, 'text-classification', [req('Berlin')], 8));
  const b = failure(() => ner.engine.classify(ner.handle, [req('Berlin')], 8, ner.labels));
  assert.ok(a && /cannot run 'text-classification'/.test(a.message));
  assert.deepEqual(b, a);
});

test('the pipeline answers the same with and without eb_run_classify (inline and in a worker)', { skip }, async () => {
  const { default: factory } = await import(new URL('edgebert.mjs', BUILD));
  // The same build with eb_run_classify hidden: the service falls back to eb_run_batch's JSON.
  const withoutClassify = async (arg) => {
    const mod = await factory(arg);
    Object.defineProperty(mod, '_eb_run_classify', { get: () => undefined, set: () => {} });
    return mod;
  };
  const wasmUrl = new URL('edgebert.wasm', BUILD).href;
  const source = fileURLToPath(MODELS[0]);
  const inputs = [['a quiet delight'], ['awful', { topK: null }], [['one', 'two two', LONG.slice(0, 300)], { topK: 2, batchSize: 2 }],
    ['first', { textPair: 'second' }], [LONG, { truncation: true }]];
  const answers = async (runtimeOptions) => {
    const runtime = await createRuntime(runtimeOptions);
    try {
      const clf = await pipeline('text-classification', source, { runtime });
      const out = [];
      for (const args of inputs) out.push(await clf(...args));
      await assert.rejects(clf(LONG), (e) => e.code === 'OutOfRange' && /truncation/.test(e.message));
      out.push(await clf('after an error'));
      return out;
    } finally {
      await runtime.close();
    }
  };
  const reference = await answers({ device: 'inline', moduleFactory: withoutClassify, wasmUrl });
  assert.deepEqual(await answers({ device: 'inline', moduleFactory: factory, wasmUrl }), reference);
  assert.deepEqual(await answers({ device: 'worker', threads: 1 }), reference);
});
