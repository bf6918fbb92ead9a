// compat.test.mjs: code written for transformers.js runs unchanged but for its import (env, model
// ids, snake_case options, progress fields, one [n, hidden] Tensor with its helpers), local
// checkpoint folders load, and what has no meaning here is a clear error. Real engine, tiny
// fixture checkpoints (tests/fixtures/models) read from disk or served in the Hub's layout.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../worker/tensor.mjs';
import { closeSharedRuntimes, env, getBuildInfo, pipeline } from '../../worker/index.mjs';
import { resolveSource } from '../../worker/compat.mjs';
import { hfFileUrl } from '../../worker/sources.mjs';
import { startServer, tempDir } from './helpers.mjs';

const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const built = existsSync(new URL('../../build/wasm/wasm/edgebert.wasm', import.meta.url));
const skip = built ? false : 'no wasm build (scripts/build.sh wasm)';
const FILES = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json'];
const ENV0 = { ...env };

test('Tensor: dims, data, size, tolist, slice, mean, normalize and iteration, as transformers.js', () => {
  const t = new Tensor([2, 3, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  assert.equal(t.size, 12);
  assert.deepEqual(t.tolist(), [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
  assert.deepEqual(t.slice(1).tolist(), [[7, 8], [9, 10], [11, 12]]);
  assert.deepEqual(t.slice(null, [1, 3], 0).tolist(), [[3, 5], [9, 11]]);
  assert.deepEqual(t.slice(-1, -1).tolist(), [11, 12]);
  assert.deepEqual(t.mean(1).tolist(), [[3, 4], [9, 10]]);
  assert.deepEqual(t.mean(1, true).dims, [2, 1, 2]);
  assert.deepEqual(t.mean().tolist(), 6.5);
  const n = new Tensor([2, 2], new Float32Array([3, 4, 0, 2])).normalize(2, 1);
  assert.deepEqual(n.tolist(), [[0.6000000238418579, 0.800000011920929], [0, 1]]);
  const [a, b] = new Tensor([2, 2], new Float32Array([1, 2, 3, 4]));
  assert.deepEqual([a.dims, a.tolist(), b.tolist()], [[2], [1, 2], [3, 4]]);
  assert.throws(() => t.slice(2), /index 2 out of range for dimension 0 of size 2/);
  assert.throws(() => t.mean(3), /dimension 3 out of range/);
});

test('what a string source means: Hub ids, paths, packed files, hf:', async () => {
  Object.assign(env, ENV0, { remoteHost: 'http://127.0.0.1:9/', localModelPath: '/nonexistent/' });
  try {
    const r = await resolveSource('Xenova/some-model', { revision: 'v2' });
    assert.deepEqual(r.description, { kind: 'hf', repo: 'Xenova/some-model', revision: 'v2', baseUrl: 'http://127.0.0.1:9' });
    assert.deepEqual(r.tried, [`${process.cwd()}/Xenova/some-model`, '/nonexistent/Xenova/some-model']);
    assert.deepEqual((await resolveSource('models/m.ebm')).description, { kind: 'path', path: 'models/m.ebm' });
    assert.deepEqual((await resolveSource('./m')).description, { kind: 'path', path: './m' });
    assert.deepEqual((await resolveSource('hf:org/name')).description, { kind: 'hf', repo: 'org/name', revision: 'main', baseUrl: 'https://huggingface.co' });
    env.remotePathTemplate = '{model}/raw/{revision}/';
    const t = await resolveSource('org/name');
    assert.equal(t.description.pathTemplate, '{model}/raw/{revision}/');
    assert.equal(hfFileUrl(t.description, 'config.json'), 'http://127.0.0.1:9/org/name/raw/main/config.json');
  } finally {
    Object.assign(env, ENV0);
  }
});

if (skip) test('transformers.js compatibility with the real engine', { skip }, () => {});
else describe('transformers.js compatibility with the real engine', () => {
  let server;
  let bytesResult;

  before(async () => {
    const repos = {};
    for (const name of ['distilbert_seqcls', 'distilbert_base']) {
      const files = new Map();
      for (const f of FILES) files.set(f, { body: await readFile(`${MODELS}${name}/${f}`) });
      repos[`Xenova/${name}`] = files;
    }
    server = await startServer({ repos });
    // The reference: the same checkpoint given as bytes.
    const files = {};
    for (const f of FILES) files[f] = await readFile(`${MODELS}distilbert_seqcls/${f}`);
    const clf = await pipeline('text-classification', { files }, { cache: false });
    bytesResult = await clf('I love transformers!', { topK: 2 });
    await clf.dispose();
  });
  after(async () => {
    Object.assign(env, ENV0);
    await closeSharedRuntimes();
    await server?.close();
  });

  // A transformers.js script; only its import line differs (it was '@huggingface/transformers').
  async function transformersJsScript({ classifierId, extractorId, events }) {
    const classifier = await pipeline('sentiment-analysis', classifierId, { progress_callback: (p) => events.push(p), dtype: 'q8', device: 'wasm' });
    const label = await classifier('I love transformers!', { top_k: 2 });
    const extractor = await pipeline('feature-extraction', extractorId, { revision: 'main' });
    const embeddings = await extractor(['Hello world.', 'Another sentence here.', 'A third'], { pooling: 'mean', normalize: true });
    const single = await extractor('Hello world.', { pooling: 'mean', normalize: true });
    await classifier.dispose();
    await extractor.dispose();
    return { label, embeddings, single };
  }

  test('env.localModelPath + a bare id: the local folder, same answer as the bytes', async (t) => {
    Object.assign(env, ENV0, { localModelPath: MODELS, allowRemoteModels: false });
    const events = [];
    const { label, embeddings, single } = await transformersJsScript({ classifierId: 'distilbert_seqcls', extractorId: 'distilbert_base', events });
    assert.deepEqual(label, bytesResult);
    const hidden = JSON.parse(await readFile(`${MODELS}distilbert_base/config.json`, 'utf8')).dim;
    assert.ok(embeddings instanceof Tensor);
    assert.deepEqual(embeddings.dims, [3, hidden]);
    assert.deepEqual(embeddings.slice(0).tolist(), single.slice(0).tolist());
    assert.deepEqual(embeddings.tolist()[0], single.tolist()[0]);
    const norms = embeddings.tolist().map((row) => Math.hypot(...row));
    for (const n of norms) assert.ok(Math.abs(n - 1) < 1e-5, `norm ${n}`);
    // Progress with transformers.js's fields, per file, ending in 'done' for each and 'ready'.
    const progress = events.filter((e) => e.status === 'progress');
    assert.ok(progress.length >= FILES.length);
    for (const e of progress) {
      assert.equal(e.name, 'distilbert_seqcls');
      assert.ok(FILES.includes(e.file), e.file);
      assert.equal(typeof e.loaded, 'number');
      assert.equal(typeof e.total, 'number');
      assert.ok(e.progress >= 0 && e.progress <= 100);
    }
    assert.deepEqual(new Set(events.filter((e) => e.status === 'done').map((e) => e.file)), new Set(FILES));
    assert.equal(events[events.length - 1].status, 'ready');
    t.diagnostic(`${events.length} progress events`);
  });

  test("'org/name' means the Hub (env.remoteHost), same answers", async () => {
    Object.assign(env, ENV0, { remoteHost: `${server.baseUrl}/`, allowLocalModels: false, cacheDir: null, useFSCache: false });
    const events = [];
    const { label, embeddings } = await transformersJsScript({ classifierId: 'Xenova/distilbert_seqcls', extractorId: 'Xenova/distilbert_base', events });
    assert.deepEqual(label, bytesResult);
    assert.equal(embeddings.dims[0], 3);
    assert.ok(server.requests.includes('/Xenova/distilbert_seqcls/resolve/main/config.json'));
  });

  test('a folder path loads as a Hugging Face checkpoint; a folder without one says what it lacks', async (t) => {
    Object.assign(env, ENV0);
    // cache: false: converted from the folder's files even when an earlier load cached the result.
    const clf = await pipeline('text-classification', `${MODELS}distilbert_seqcls`, { cache: false });
    assert.deepEqual(await clf('I love transformers!', { topK: 2 }), bytesResult);
    assert.match(clf.info.files.map((f) => f.name).join(','), /config\.json/);
    assert.equal(clf.info.conversion, 'converted');
    await clf.dispose();
    const dir = await tempDir(t);
    await mkdir(`${dir}/empty`);
    await writeFile(`${dir}/empty/notes.txt`, 'x');
    await assert.rejects(pipeline('text-classification', `${dir}/empty`),
      (e) => e.code === 'NotFound' && /is a folder, read as a Hugging Face checkpoint, but it has no config\.json, model\.safetensors, tokenizer\.json or vocab\.txt \(it holds notes\.txt\)/.test(e.message));
  });

  test("no model: edgebert's own model for the task, env.localModelPath first; a folder holding model.ebm loads it", async (t) => {
    Object.assign(env, ENV0);
    const shipped = (name) => fileURLToPath(new URL(`../../models/${name}/model.ebm`, import.meta.url));
    if (!existsSync(shipped('sentiment-minilm-l3'))) return t.skip('models/ is not in this checkout');
    // Beside the package (a clone of the repository): models/<name>/model.ebm.
    const clf = await pipeline('sentiment-analysis');
    assert.equal(clf.info.model.architecture, 'DistilBertForSequenceClassification');
    assert.equal((await clf('What a wonderful, moving film.'))[0].label, 'POSITIVE');
    await clf.dispose();
    const ner = await pipeline('ner');
    assert.deepEqual((await ner('Satya Nadella lives in Seattle.', { aggregation_strategy: 'first' })).map((e) => [e.entity_group, e.start, e.end]),
      [['PER', 0, 13], ['LOC', 23, 30]]);
    await ner.dispose();
    // env.localModelPath comes first: a sentiment model placed there under the entity model's name
    // is what pipeline('ner') finds (and refuses, since it cannot tag tokens).
    const dir = await tempDir(t);
    await mkdir(`${dir}/entities-minilm-l3`);
    await writeFile(`${dir}/entities-minilm-l3/model.ebm`, await readFile(shipped('sentiment-minilm-l3')));
    Object.assign(env, { localModelPath: `${dir}/` });
    await assert.rejects(pipeline('ner'), (e) => e.code === 'Unsupported' && /cannot do token-classification/.test(e.message));
    // The same folder given as a path: a packed model's folder loads its model.ebm.
    const again = await pipeline('text-classification', `${dir}/entities-minilm-l3`);
    assert.equal(again.info.model.architecture, 'DistilBertForSequenceClassification');
    await again.dispose();
    // A task edgebert ships no model for says so.
    await assert.rejects(pipeline('fill-mask'), (e) => e.code === 'InvalidArgument' && /fill-mask has no default model/.test(e.message));
    Object.assign(env, ENV0);
  });

  test('a bare name that is neither local nor on the Hub says what was tried', async () => {
    Object.assign(env, ENV0, { remoteHost: `${server.baseUrl}/`, localModelPath: MODELS, useFSCache: false });
    await assert.rejects(pipeline('text-classification', 'nobody/nothing'),
      (e) => e.code === 'HttpError' && e.message.includes(`"nobody/nothing" is not a local file or folder (tried ${process.cwd()}/nobody/nothing, ${MODELS}nobody/nothing)`) &&
        /config\.json not found \(HTTP 404\)/.test(e.message));
    Object.assign(env, { allowRemoteModels: false });
    await assert.rejects(pipeline('text-classification', 'nothing'),
      (e) => e.code === 'NotFound' && /"nothing" is not a local file or folder \(tried .*\) and remote models are off \(env.allowRemoteModels is false\)/.test(e.message));
  });

  test('env.wasmPaths names where the engine files are', async (t) => {
    const dir = await tempDir(t);
    try {
      env.wasmPaths = new URL('../../build/wasm/wasm/', import.meta.url).href;
      assert.equal((await getBuildInfo({ device: 'inline' })).build, 'simd128-single-thread');
      env.wasmPaths = `file://${dir}/`;
      await assert.rejects(getBuildInfo({ device: 'inline' }),
        (e) => e.code === 'NotFound' && e.message.includes(`${dir}/edgebert.mjs`));
    } finally {
      Object.assign(env, ENV0);
    }
  });

  test('options with no meaning here are errors that say why', async () => {
    Object.assign(env, ENV0);
    const src = `${MODELS}distilbert_seqcls`;
    await assert.rejects(pipeline('text-classification', src, { dtype: 'fp16' }),
      (e) => e.code === 'Unsupported' && /dtype "fp16" is not available: edgebert quantizes .* int8.*fp32/.test(e.message));
    await assert.rejects(pipeline('text-classification', src, { device: 'webgpu' }),
      (e) => e.code === 'Unsupported' && /device "webgpu" is not available: edgebert runs on the CPU in WebAssembly/.test(e.message));
    await assert.rejects(pipeline('text-classification', src, { model_file_name: 'model_quantized' }),
      (e) => e.code === 'Unsupported' && /not ONNX files/.test(e.message));
    // dtype 'fp32' is the exact path.
    const clf = await pipeline('text-classification', src, { dtype: 'fp32' });
    assert.equal((await clf('I love transformers!')).length, 1);
    await clf.dispose();
  });
});

