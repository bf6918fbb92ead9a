// batch.test.mjs: array inputs run as padded batches in one engine call (eb_run_batch), and tensors
// cross from the engine as float32, transferred to the caller. Against the real engine: every
// task's array result equals its inputs run one by one, bit for bit (tests/engine_batch_test.cc
// says why no tolerance is needed), for the default, small and large batch sizes; a bad input fails
// the call naming it and the pipeline keeps working; feature-extraction data arrive as
// Float32Arrays with their own buffers, which the worker lists for transfer.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { createRuntime, getBuildInfo, pipeline, Tensor } from '../../worker/index.mjs';
import { createService } from '../../worker/service.mjs';
import { DEFAULT_BATCH_SIZE } from '../../worker/tasks.mjs';

const ROOT = new URL('../../', import.meta.url);
const FIXTURES = new URL('tests/fixtures/pipelines/', ROOT);
const modelPath = (name) => new URL(`models/${name}/model.ebm`, ROOT).pathname;

async function skipReason() {
  if (!existsSync(new URL('build/wasm/wasm/edgebert.mjs', ROOT))) return 'build/wasm not built';
  const info = await getBuildInfo({ device: 'inline' });
  if (!info.abi) return 'engine ABI not built';
  return null;
}

// Texts written for this test: short and long, empty-ish, accents, numbers, repeated lengths.
const WORDS = ('the river flows north past Basel Köln and Düsseldorf to the sea a quick brown fox jumps over ' +
  'the lazy dog Wolfgang lives in Berlin naïve über straße 42 3.14 , . ?').split(' ');
function texts(seed, n, minWords, maxWords) {
  let s = seed;
  const next = () => { s = (s * 1103515245 + 12345) % 2147483648; return s; };
  return Array.from({ length: n }, () => {
    const k = minWords + (next() % (maxWords - minWords + 1));
    return Array.from({ length: k }, () => WORDS[next() % WORDS.length]).join(' ');
  });
}
const EDGE = ['', ' ', '.', 'a', '\t\n', '\u200b', 'Köln', 'The film was a delight from start to finish.'];

/** The array call equals the inputs one by one: results compared as plain data. */
async function expectBatchEqualsSingle(pipe, inputs, options = {}, batchSizes = [undefined, 1, 3, 64]) {
  const plain = (r) => (r instanceof Tensor ? { dims: r.dims, data: Array.from(r.data) } : r);
  const alone = [];
  for (const input of inputs) alone.push(plain(await pipe(input, options)));
  for (const batchSize of batchSizes) {
    const got = await pipe(inputs, batchSize === undefined ? options : { ...options, batchSize });
    assert.equal(got.length, inputs.length);
    got.forEach((r, i) => assert.deepEqual(plain(r), alone[i], `batchSize ${batchSize}, input ${i}: ${JSON.stringify(inputs[i])}`));
  }
}

const reason = await skipReason();
if (reason) test('batches', { skip: reason }, () => {});
else describe('batches and binary tensors (real engine, worker)', () => {
  let runtime;
  let manifest;
  const pipes = [];
  async function fixture(task, checkpoint, quantization = 'int8') {
    const files = {};
    for (const [name, rel] of Object.entries(manifest[checkpoint])) files[name] = await readFile(new URL(`models/${rel}`, FIXTURES));
    const p = await pipeline(task, { files }, { runtime, quantization });
    pipes.push(p);
    return p;
  }
  async function shipped(task, name) {
    const p = await pipeline(task, modelPath(name), { runtime });
    pipes.push(p);
    return p;
  }
  before(async () => {
    manifest = JSON.parse(await readFile(new URL('models/manifest.json', FIXTURES), 'utf8'));
    runtime = await createRuntime({ device: 'worker' });
  });
  after(async () => {
    for (const p of pipes) await p.dispose();
    await runtime?.close();
  });

  test('text-classification (shipped sentiment model): array = one by one', async () => {
    const clf = await shipped('sentiment-analysis', 'sentiment-minilm-l3');
    // An explicit topK: lists for arrays as for one text (the default gives one {label, score} per input).
    await expectBatchEqualsSingle(clf, [...texts(1, 30, 0, 40), ...EDGE], { truncation: true, topK: 1 });
    await expectBatchEqualsSingle(clf, texts(2, 9, 1, 12), { topK: null }, [undefined, 2]);
  });

  test('token-classification (fixture, fp32 and int8, windows with stride): array = one by one', async () => {
    for (const q of ['fp32', 'int8']) {
      const ner = await fixture('ner', 'ner_cased', q);
      await expectBatchEqualsSingle(ner, [...texts(3, 12, 0, 30), ...EDGE], { aggregationStrategy: 'simple' });
      const windows = await fixture('ner', 'ner_cased_w24', q);
      await expectBatchEqualsSingle(windows, texts(4, 6, 1, 80), { aggregationStrategy: 'first', stride: 4 }, [undefined, 2]);
    }
  });

  test('question-answering (shipped model): an array of {question, context} = one by one', async () => {
    const qa = await shipped('question-answering', 'qa-minilm-l6');
    const questions = texts(5, 8, 1, 6).map((q) => `${q}?`);
    const contexts = texts(6, 8, 0, 300);
    const items = questions.map((question, i) => ({ question, context: contexts[i] }));
    items.push({ question: 'Where does Wolfgang live?', context: 'My name is Wolfgang and I live in Berlin.' });
    const plainAlone = [];
    for (const it of items) plainAlone.push(await qa(it, { topK: 2 }));
    for (const batchSize of [undefined, 1, 4]) {
      const got = await qa(items, batchSize === undefined ? { topK: 2 } : { topK: 2, batch_size: batchSize });
      assert.deepEqual(got, plainAlone, `batchSize ${batchSize}`);
    }
    assert.deepEqual(await qa([items.at(-1)]), [await qa(items.at(-1).question, items.at(-1).context)]);
  });

  test('feature-extraction without pooling: one [1, tokens, hidden] Tensor per input, = one by one', async () => {
    const fe = await shipped('feature-extraction', 'search-minilm-l3');
    const inputs = [...texts(7, 14, 0, 60), ...EDGE];
    await expectBatchEqualsSingle(fe, inputs);
    const out = await fe(inputs);
    out.forEach((t, i) => {
      assert.equal(t.dims.length, 3);
      assert.equal(t.data.length, t.size);
      assert.ok(t.data instanceof Float32Array);
      assert.equal(t.data.byteOffset, 0, `input ${i}: its own buffer`);
      assert.equal(t.data.buffer.byteLength, t.data.byteLength, `input ${i}: its own buffer`);
    });
  });

  test('sentence-embeddings: one [n, hidden] Tensor whose rows equal the texts alone', async () => {
    const embed = await shipped('sentence-embeddings', 'search-minilm-l3');
    const inputs = [...texts(8, 40, 8, 20), ...EDGE];
    for (const batchSize of [undefined, 1, 5, 256]) {
      const all = await embed(inputs, batchSize === undefined ? {} : { batchSize });
      assert.deepEqual(all.dims, [inputs.length, 384]);
      for (const i of [0, 1, 17, inputs.length - 1]) {
        const one = await embed(inputs[i]);
        assert.deepEqual(Array.from(all.data.subarray(i * 384, (i + 1) * 384)), Array.from(one.data), `batchSize ${batchSize}, input ${i}`);
      }
    }
  });

  test('fill-mask (fixture): array = one by one, with one and several masks', async () => {
    const fm = await fixture('fill-mask', 'fm');
    const inputs = texts(9, 10, 0, 20).map((t, i) => (i % 3 === 2 ? `[MASK] ${t} [MASK]` : `${t} [MASK] .`));
    await expectBatchEqualsSingle(fm, inputs, { topK: 3 });
  });

  test('one bad input fails the call naming it; the pipeline keeps working', async () => {
    const clf = await fixture('text-classification', 'tc_single3');
    const inputs = texts(10, 6, 1, 8);
    inputs[4] = texts(11, 1, 300, 300)[0];  // beyond the model's 128 positions, no truncation
    await assert.rejects(clf(inputs), (e) => e.code === 'OutOfRange' && /failed: input 4: the input is \d+ tokens but the model takes at most 128/.test(e.message));
    // Past the first engine call of a large array (the worker cuts calls at 1024 inputs): the index is the caller's.
    const many = texts(12, 1100, 1, 6);
    many[1050] = inputs[4];
    await assert.rejects(clf(many), (e) => e.code === 'OutOfRange' && /failed: input 1050: the input is/.test(e.message));
    many[1050] = 'fine again';
    const all = await clf(many, { batchSize: 32 });
    assert.equal(all.length, 1100);
    assert.deepEqual(all[1050], (await clf('fine again'))[0]);
    for (const bad of [0, 257, 1.5, '8', null, NaN]) {
      await assert.rejects(clf(['a', 'b'], { batchSize: bad }),
        (e) => e.code === 'InvalidArgument' && /batchSize must be an integer from 1 to 256, got /.test(e.message), String(bad));
    }
    await assert.rejects(clf(['a'], { batch_size: 0 }), /batchSize must be an integer from 1 to 256, got 0/);
    assert.deepEqual(await clf(['a', 'b'], { batch_size: 2 }), [(await clf('a'))[0], (await clf('b'))[0]]);
  });
});

test('the service lists each feature-extraction result buffer for transfer (worker -> page)', { skip: reason || false }, async () => {
  const svc = createService();
  const at = (f) => new URL(`build/wasm/wasm/${f}`, ROOT).href;
  await svc.init({ options: { glueUrl: at('edgebert.mjs'), wasmUrl: at('edgebert.wasm'), threads: 1 } });
  const ctx = { signal: new AbortController().signal, progress: () => {} };
  const { result: loaded } = await svc.load({ source: { kind: 'path', path: modelPath('search-minilm-l3') }, options: {} }, ctx);
  const requests = texts(13, 20, 0, 30).map((text) => ({ text, pooling: 'none', normalize: false, truncation: false }));
  const { result, transfer } = await svc.run({ model: loaded.model, task: 'feature-extraction', requests, batchSize: DEFAULT_BATCH_SIZE });
  assert.equal(result.length, requests.length);
  assert.equal(transfer.length, requests.length);
  result.forEach((r, i) => {
    assert.ok(r.data instanceof Float32Array);
    assert.equal(transfer[i], r.data.buffer);
    assert.equal(r.data.length, r.dims.reduce((a, b) => a * b, 1));
  });
  await svc.dispose({ model: loaded.model });
});
