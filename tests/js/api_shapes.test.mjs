// api_shapes.test.mjs: pure parts of the API: camelCase options -> the HF-named request JSON with
// defaults, result shapes like Python `transformers` pipelines, source descriptions, cache paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildOptions, buildRequests, resolveTask, Tensor } from '../../worker/tasks.mjs';
import { describeSource, fileSpecs, hfFileUrl } from '../../worker/sources.mjs';
import { openCache } from '../../worker/cache.mjs';
import { shaFromEtag } from '../../worker/fetch.mjs';
import { chooseBuild, threadSupport } from '../../worker/engine.mjs';

test('aliases resolve to their task', () => {
  assert.equal(resolveTask('sentiment-analysis').name, 'text-classification');
  assert.equal(resolveTask('ner').name, 'token-classification');
  assert.equal(resolveTask('sentence-embeddings').engine, 'feature-extraction');
  assert.throws(() => resolveTask('tokenize'), /use tokenizer\(\)/);
});

test('every option maps to its Hugging Face name; defaults are filled in', () => {
  assert.deepEqual(buildOptions('text-classification', {}), { top_k: 1, function_to_apply: 'default', truncation: false });
  assert.deepEqual(buildOptions('text-classification', { topK: null, functionToApply: 'sigmoid', textPair: 'b', truncation: true }),
    { top_k: null, function_to_apply: 'sigmoid', text_pair: 'b', truncation: true });
  assert.deepEqual(buildOptions('token-classification', { aggregationStrategy: 'first', ignoreLabels: [], stride: 16 }),
    { aggregation_strategy: 'first', ignore_labels: [], stride: 16 });
  assert.deepEqual(buildOptions('question-answering', { docStride: 64, maxAnswerLen: 30, maxSeqLen: 256, maxQuestionLen: 32, handleImpossibleAnswer: true, topK: 3, alignToWords: false }),
    { doc_stride: 64, max_answer_len: 30, max_seq_len: 256, max_question_len: 32, handle_impossible_answer: true, top_k: 3, align_to_words: false });
  assert.deepEqual(buildOptions('question-answering', {}),
    { top_k: 1, max_answer_len: 15, max_question_len: 64, handle_impossible_answer: false, align_to_words: true });
  assert.deepEqual(buildOptions('feature-extraction', {}), { pooling: 'none', normalize: false, truncation: false });
  assert.deepEqual(buildOptions('sentence-embeddings', {}), { pooling: 'mean', normalize: true, truncation: true });
  assert.deepEqual(buildOptions('fill-mask', { targets: 'paris' }), { targets: ['paris'], top_k: 5 });
  assert.deepEqual(buildOptions('tokenize', { textPair: 'b', maxLength: 8, truncation: true }),
    { text_pair: 'b', max_length: 8, truncation: true, add_special_tokens: true });
});

test('bad options name the option, the rule and the value', () => {
  assert.throws(() => buildOptions('fill-mask', { topK: 0 }), /fill-mask: topK must be a positive integer, got 0/);
  assert.throws(() => buildOptions('fill-mask', { topK: null }), /topK must be a positive integer, got null/);
  assert.throws(() => buildOptions('token-classification', { aggregationStrategy: 'mean' }), /one of "none", "simple", "first", "average", "max", got "mean"/);
  assert.throws(() => buildOptions('question-answering', { max_answer_len: 3 }), /did you mean maxAnswerLen/);
  assert.throws(() => buildOptions('feature-extraction', { pooling: 'max' }), /"none", "mean", "cls"/);
  assert.throws(() => buildOptions('text-classification', 'x'), /options must be an object/);
});

test('result shapes follow the Python pipelines', () => {
  const label = (l) => ({ label: l, score: 0.5 });
  // text-classification: one string -> list; list input with default topK -> one dict per input
  let r = buildRequests('text-classification', ['a']);
  assert.deepEqual(r.shape([[label('x')]]), [label('x')]);
  r = buildRequests('text-classification', [['a', 'b']]);
  assert.deepEqual(r.requests.map((q) => q.text), ['a', 'b']);
  assert.deepEqual(r.shape([[label('x')], [label('y')]]), [label('x'), label('y')]);
  r = buildRequests('text-classification', [['a', 'b'], { topK: 2 }]);
  assert.deepEqual(r.shape([[label('x'), label('z')], [label('y'), label('z')]]), [[label('x'), label('z')], [label('y'), label('z')]]);
  // question-answering: topK 1 -> the answer object; topK > 1 -> a list
  const ans = { score: 0.9, start: 0, end: 3, answer: 'abc' };
  r = buildRequests('question-answering', ['q?', 'ctx']);
  assert.deepEqual(r.requests[0].question, 'q?');
  assert.deepEqual(r.shape([[ans]]), ans);
  r = buildRequests('question-answering', [{ question: 'q?', context: 'ctx' }, { topK: 2 }]);
  assert.deepEqual(r.shape([[ans, ans]]), [ans, ans]);
  r = buildRequests('question-answering', [[{ question: 'a', context: 'b' }, { question: 'c', context: 'd' }]]);
  assert.deepEqual(r.shape([[ans], [ans]]), [ans, ans]);
  assert.throws(() => buildRequests('question-answering', ['q?']), /context must be a string/);
  // fill-mask: one mask -> list of candidates; two masks -> one list per mask
  const cand = { score: 0.1, token: 7, token_str: 'x', sequence: 'a x' };
  r = buildRequests('fill-mask', ['a [MASK]']);
  assert.deepEqual(r.shape([[[cand]]]), [cand]);
  assert.deepEqual(r.shape([[[cand], [cand]]]), [[cand], [cand]]);
  // feature-extraction: a Tensor with tolist()
  r = buildRequests('feature-extraction', ['ab']);
  const t = r.shape([{ dims: [1, 2, 2], data: new Float32Array([1, 2, 3, 4]) }]);
  assert.ok(t instanceof Tensor);
  assert.deepEqual(t.tolist(), [[[1, 2], [3, 4]]]);
  assert.throws(() => buildRequests('text-classification', [[]]), /input array is empty/);
});

test('sources: every accepted form and the Hugging Face URL layout', () => {
  assert.deepEqual(describeSource('hf:org/name@v1.0'), { kind: 'hf', repo: 'org/name', revision: 'v1.0', baseUrl: 'https://huggingface.co' });
  assert.deepEqual(describeSource('hf:bert-base-uncased'), { kind: 'hf', repo: 'bert-base-uncased', revision: 'main', baseUrl: 'https://huggingface.co' });
  assert.deepEqual(describeSource({ repo: 'a/b', baseUrl: 'http://127.0.0.1:9/' }), { kind: 'hf', repo: 'a/b', revision: 'main', baseUrl: 'http://127.0.0.1:9' });
  assert.deepEqual(describeSource('https://x.test/m.ebm'), { kind: 'url', url: 'https://x.test/m.ebm' });
  assert.deepEqual(describeSource(new URL('file:///tmp/a%20b.ebm')), { kind: 'path', path: '/tmp/a b.ebm' });
  assert.deepEqual(describeSource('models/m.ebm'), { kind: 'path', path: 'models/m.ebm' });
  assert.equal(describeSource({ url: 'https://x.test/m.ebm', sha256: 'A'.repeat(64) }).sha256, 'a'.repeat(64));
  assert.equal(describeSource(new Blob(['x'])).kind, 'blob');
  assert.equal(describeSource(new Uint8Array(3)).kind, 'bytes');
  assert.throws(() => describeSource('hf:../etc'), /bad repository name/);
  assert.throws(() => describeSource({ repo: 'a/b', baseUrl: 'ftp://x' }), /baseUrl must be an http\(s\) URL/);
  assert.throws(() => describeSource({ url: 'https://x', sha256: 'nothex' }), /64 hex digits/);
  const d = describeSource('hf:org/name@refs/pr/1');
  assert.equal(hfFileUrl(d, 'config.json'), 'https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/config.json');
  const specs = fileSpecs(describeSource('hf:org/name'));
  assert.deepEqual(specs.map((s) => s.name), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
  assert.deepEqual(specs[1].fallback.map((s) => s.name), ['vocab.txt']);
});

test('the ETag/x-linked-etag is used as sha256 only when it is one', () => {
  const h = (o) => new Headers(o);
  const sha = 'ab'.repeat(32);
  assert.equal(shaFromEtag(h({ 'x-linked-etag': `"${sha}"`, etag: '"abc"' })), sha);
  assert.equal(shaFromEtag(h({ etag: `W/"${sha.toUpperCase()}"` })), sha);
  assert.equal(shaFromEtag(h({ etag: '"0123abcd"' })), undefined);  // a git blob sha1: not a content sha256
  assert.equal(shaFromEtag(h({})), undefined);
});

test('cache paths stay inside the cache folder', async () => {
  const cache = await openCache({ cacheDir: '/tmp/edgebert-cache-paths' });
  assert.equal(cache.fileFor('https://huggingface.co/org/name/resolve/main/model.safetensors'),
    '/tmp/edgebert-cache-paths/https/huggingface.co/org/name/resolve/main/model.safetensors');
  // The URL parser resolves dot segments (also %2E%2E) before we see them: nothing climbs out.
  assert.equal(cache.fileFor('http://127.0.0.1:8080/a/%2E%2E/%2E%2E/etc/passwd'),
    '/tmp/edgebert-cache-paths/http/127.0.0.1_8080/etc/passwd');
  assert.equal(cache.fileFor('https://h/a/..%2F..%2Fx'), '/tmp/edgebert-cache-paths/https/h/a/..%2F..%2Fx');
  assert.equal(cache.fileFor('https://h/m.ebm?x=1'), '/tmp/edgebert-cache-paths/https/h/m.ebm%3Fx%3D1');
  assert.equal(await openCache({ cache: false }), null);
});

test('threads: the pthreads build where it can run, else single-thread; an unmet explicit count is an error', () => {
  const given = { available: true };
  const none = { available: false, why: 'no pthreads build was given (threadsGlueUrl/threadsWasmUrl)' };
  const isolated = threadSupport({ SharedArrayBuffer, crossOriginIsolated: true, Worker: class {} });
  const notIsolated = threadSupport({ SharedArrayBuffer, crossOriginIsolated: false, Worker: class {} });
  assert.deepEqual(isolated, { ok: true, reason: '' });
  assert.match(notIsolated.reason, /not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  assert.match(threadSupport({ crossOriginIsolated: true, Worker: class {} }).reason, /SharedArrayBuffer/);
  assert.match(threadSupport({ SharedArrayBuffer, crossOriginIsolated: true }).reason, /cannot start Web Workers/);
  assert.match(threadSupport().reason, /Node runs the single-thread build/);

  assert.equal(chooseBuild('auto', given, isolated).build, 'simd128-pthreads');
  assert.equal(chooseBuild(4, given, isolated).build, 'simd128-pthreads');
  assert.equal(chooseBuild(1, given, isolated).build, 'simd128-single-thread');
  const auto = chooseBuild('auto', given, notIsolated);
  assert.equal(auto.build, 'simd128-single-thread');
  assert.match(auto.reason, /'auto' chose the single-thread build: the page is not cross-origin isolated/);
  assert.match(chooseBuild('auto', none, isolated).reason, /no pthreads build was given/);
  assert.throws(() => chooseBuild(4, given, notIsolated), (e) => e.code === 'Unsupported' && /threads: 4 requested, but the pthreads build cannot run: the page is not cross-origin isolated/.test(e.message));
  assert.throws(() => chooseBuild(2, none, isolated), (e) => e.code === 'Unsupported' && /no pthreads build was given/.test(e.message));
  assert.throws(() => chooseBuild(0), (e) => e.code === 'InvalidArgument');
  assert.throws(() => chooseBuild('many'), (e) => e.code === 'InvalidArgument');
});
