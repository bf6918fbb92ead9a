// loading.test.mjs: model sources (repository layout, .ebm URL/path/Blob/bytes), streamed progress,
// integrity (404, truncated, sha256), the Node cache folder (second load with the server stopped)
// and memory ownership on failures, against a local HTTP server on 127.0.0.1 and the fake engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { createRuntime, pipeline, tokenizer } from '../../worker/index.mjs';
import { fakePackedModel } from './fake_edgebert.mjs';
import { checkProgress, fakeInline, fakeWorker, repoFiles, sha256Hex, startServer, tempDir, tinySafetensors } from './helpers.mjs';

const REPO = 'edgebert-test/tiny-bert';

async function serveRepo(t, fileOptions, tweak = () => {}) {
  const files = await repoFiles(fileOptions);
  tweak(files);
  const server = await startServer({ repos: { [REPO]: files } });
  t.after(() => server.close());
  return { server, files, source: { repo: REPO, revision: 'main', baseUrl: server.baseUrl } };
}

test('repository without tokenizer.json: falls back to vocab.txt (+ configs), progress is monotone and ends at the total', async (t) => {
  const { server, files, source } = await serveRepo(t, { withTokenizerJson: false }, (f) => {
    // A 1 MB model sent in 8 slices 40 ms apart, so there are events between start and end.
    f.set('model.safetensors', { body: tinySafetensors(1 << 18), trickle: { chunk: 1 << 17, delayMs: 40 } });
  });
  const events = [];
  const clf = await pipeline('text-classification', source, { ...fakeInline(), cache: false, onProgress: (p) => events.push(p) });
  try {
    assert.equal(clf.info.model.tokenizer_source, 'vocab.txt');
    assert.deepEqual(clf.info.model.files, ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
    const last = checkProgress(assert, events);
    const expectedTotal = ['config.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']
      .reduce((n, f) => n + files.get(f).body.length, 0);
    assert.equal(last.overall.total, expectedTotal);
    // The total is known from the first event on (all headers are read before counting bytes).
    assert.ok(events.every((e) => e.overall.total === expectedTotal));
    // Every file reports its own start and end.
    for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) {
      const mine = events.filter((e) => e.file === f);
      assert.equal(mine[0].loaded, 0);
      assert.equal(mine[mine.length - 1].loaded, files.get(f).body.length);
    }
    assert.ok(server.requests.includes(`/${REPO}/resolve/main/tokenizer.json`), 'tokenizer.json is tried first');
    const model = events.filter((e) => e.file === 'model.safetensors');
    assert.ok(model.length >= 4, `expected intermediate progress events for the model, got ${model.length}`);
    assert.ok(model.some((e) => e.loaded > 0 && e.loaded < e.total));
  } finally {
    await clf.dispose();
  }
});

test('repository with tokenizer.json uses it (no vocab.txt request)', async (t) => {
  const { server, source } = await serveRepo(t, { withTokenizerJson: true });
  const tk = await tokenizer(source, { ...fakeInline(), cache: false });
  try {
    assert.equal(tk.info.model.tokenizer_source, 'tokenizer.json');
    assert.ok(!server.requests.some((p) => p.endsWith('/vocab.txt')));
    const out = await tk('hello world');
    assert.deepEqual(out.tokens, ['hello', 'world']);
    assert.deepEqual(out.offset_mapping, [[0, 5], [6, 11]]);
    assert.deepEqual(out.request, { text: 'hello world', add_special_tokens: true, truncation: false });
  } finally {
    await tk.dispose();
  }
});

test('model.safetensors missing: HttpError naming the file and its URL', async (t) => {
  const { server, source } = await serveRepo(t, { withModel: false });
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cache: false }), (e) => {
    assert.equal(e.code, 'HttpError');
    assert.match(e.message, /model\.safetensors not found \(HTTP 404\)/);
    assert.ok(e.message.includes(`${server.baseUrl}/${REPO}/resolve/main/model.safetensors`), e.message);
    return true;
  });
});

test('neither tokenizer.json nor vocab.txt: the error says a repository needs one of them', async (t) => {
  const { source } = await serveRepo(t, { withTokenizerJson: false }, (f) => f.delete('vocab.txt'));
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cache: false }),
    (e) => e.code === 'HttpError' && /vocab\.txt not found \(HTTP 404\).*needs tokenizer\.json or vocab\.txt/.test(e.message));
});

test('truncated download (fewer bytes than Content-Length, then close): IntegrityError, nothing cached, nothing leaked', async (t) => {
  const cacheDir = await tempDir(t);
  const { source, files } = await serveRepo(t, {}, (f) => { f.get('model.safetensors').truncateTo = 20; });
  const runtime = await createRuntime(fakeInline());
  t.after(() => runtime.close());
  const probe = await pipeline('text-classification', fakePackedModel(), { runtime });
  const before = await probe('__stats__');
  await assert.rejects(pipeline('text-classification', source, { runtime, cacheDir }), (e) => {
    assert.equal(e.code, 'IntegrityError');
    // The client may drop the bytes that came with the close, so "after N" is at most 20.
    const m = /truncated download: model\.safetensors from (\S+) ended after (\d+) of (\d+) bytes/.exec(e.message);
    assert.ok(m, e.message);
    assert.ok(m[1].endsWith(`/${REPO}/resolve/main/model.safetensors`));
    assert.ok(Number(m[2]) <= 20);
    assert.equal(Number(m[3]), files.get('model.safetensors').body.length);
    return true;
  });
  const after = await probe('__stats__');
  assert.equal(after.live_bytes, before.live_bytes, 'heap buffers of the failed load must be freed');
  const cached = await listFiles(cacheDir);
  assert.ok(!cached.some((f) => f.endsWith('model.safetensors')), `a truncated file was cached: ${cached}`);
  assert.ok(!cached.some((f) => f.includes('.tmp-')), 'no temp files left');
});

test('sha256 from x-linked-etag is checked: a mismatch is an IntegrityError, a match loads', async (t) => {
  const body = tinySafetensors();
  const good = sha256Hex(body);
  const bad = sha256Hex(Buffer.from('something else'));
  {
    const { source } = await serveRepo(t, {}, (f) => { f.get('model.safetensors').headers = { 'x-linked-etag': `"${bad}"` }; });
    await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cache: false }),
      (e) => e.code === 'IntegrityError' && e.message.includes(`expected ${bad}, got ${good}`));
  }
  {
    const { source } = await serveRepo(t, {}, (f) => { f.get('model.safetensors').headers = { etag: `"${good}"` }; });
    const clf = await pipeline('text-classification', source, { ...fakeInline(), cache: false });
    await clf.dispose();
  }
});

test('the second load is served from the cache folder with the server stopped', async (t) => {
  const cacheDir = await tempDir(t);
  const files = await repoFiles({ withTokenizerJson: false });
  const server = await startServer({ repos: { [REPO]: files } });
  const source = { repo: REPO, revision: 'main', baseUrl: server.baseUrl };
  const first = await pipeline('text-classification', source, { ...fakeInline(), cacheDir });
  assert.ok(first.info.files.every((f) => !f.cached));
  await first.dispose();
  await server.close();

  const events = [];
  const second = await pipeline('text-classification', source, { ...fakeInline(), cacheDir, onProgress: (p) => events.push(p) });
  try {
    // The packed model the first load converted (tests/js/conversion_cache.test.mjs has the rest).
    assert.deepEqual(second.info.files.map((f) => [f.name, f.cached]), [['model.ebm', true]]);
    assert.equal(second.info.conversion, 'cached');
    assert.equal(second.info.model.tokenizer_source, 'vocab.txt');
    checkProgress(assert, events);
    assert.ok(events.every((e) => e.cached));
  } finally {
    await second.dispose();
  }
  // Without it, the checkpoint's files come from the cache folder.
  await rm(join(cacheDir, 'https', 'edgebert.invalid'), { recursive: true });
  const third = await pipeline('text-classification', source, { ...fakeInline(), cacheDir });
  try {
    assert.deepEqual(third.info.files.map((f) => [f.name, f.cached]),
      [['config.json', true], ['vocab.txt', true], ['tokenizer_config.json', true], ['special_tokens_map.json', true], ['model.safetensors', true]]);
    assert.equal(third.info.conversion, 'converted');
  } finally {
    await third.dispose();
  }
  // Layout: <cacheDir>/http/127.0.0.1_<port>/<org>/<name>/resolve/main/<file>
  const cached = await listFiles(cacheDir);
  const port = new URL(server.baseUrl).port;
  assert.ok(cached.includes(join('http', `127.0.0.1_${port}`, 'edgebert-test', 'tiny-bert', 'resolve', 'main', 'model.safetensors')), cached.join('\n'));
  // A stopped server without a cache entry is a NetworkError naming the URL.
  await assert.rejects(pipeline('text-classification', source, { ...fakeInline(), cache: false }),
    (e) => e.code === 'NetworkError' && e.message.includes(`${server.baseUrl}/${REPO}/resolve/main/config.json`));
});

test('EDGEBERT_CACHE_DIR is the default cache folder in Node, also for a worker started before it was set', async (t) => {
  const cacheDir = await tempDir(t);
  const server = await startServer({ plain: new Map([['m.ebm', { body: Buffer.from(fakePackedModel()) }]]) });
  t.after(() => server.close());
  const runtime = await createRuntime(fakeWorker());  // its process.env is a copy taken now
  t.after(() => runtime.close());
  const saved = process.env.EDGEBERT_CACHE_DIR;
  process.env.EDGEBERT_CACHE_DIR = cacheDir;
  try {
    const first = await pipeline('text-classification', `${server.baseUrl}/m.ebm`, { runtime });
    assert.equal(first.info.files[0].cached, false);
    await first.dispose();
    const second = await pipeline('text-classification', `${server.baseUrl}/m.ebm`, fakeInline());
    assert.equal(second.info.files[0].cached, true);
    await second.dispose();
  } finally {
    process.env.EDGEBERT_CACHE_DIR = saved;
  }
  assert.ok((await listFiles(cacheDir)).some((f) => f.endsWith('m.ebm')));
});

test('packed .ebm from a URL, a path, a Blob and bytes; engine status errors surface with their code', async (t) => {
  const dir = await tempDir(t);
  const good = Buffer.from(fakePackedModel());
  const server = await startServer({ plain: new Map([
    ['good.ebm', { body: good, chunked: true }],  // no Content-Length: gathered, then copied once
    ['corrupt.ebm', { body: Buffer.from('GGUF not ours') }],
    ['future.ebm', { body: Buffer.from(fakePackedModel({ format_version: 2 })) }],
  ]) });
  t.after(() => server.close());
  const path = join(dir, 'model.ebm');
  await writeFile(path, good);
  const sources = [`${server.baseUrl}/good.ebm`, path, new Blob([good]), new Uint8Array(good), { url: `${server.baseUrl}/good.ebm`, sha256: sha256Hex(good) }];
  for (const opts of [fakeInline, fakeWorker]) {
    for (const source of sources) {
      const clf = await pipeline('text-classification', source, { ...opts(), cache: false });
      assert.equal(clf.info.model.architecture, 'BertForSequenceClassification');
      assert.equal(clf.info.files[0].size, good.length);
      await clf.dispose();
    }
  }
  await assert.rejects(pipeline('text-classification', `${server.baseUrl}/corrupt.ebm`, { ...fakeInline(), cache: false }),
    (e) => e.code === 'CorruptData' && /cannot load .*corrupt\.ebm: not an edgebert model/.test(e.message));
  await assert.rejects(pipeline('text-classification', `${server.baseUrl}/future.ebm`, { ...fakeInline(), cache: false }),
    (e) => e.code === 'Unsupported' && /format version 2/.test(e.message));
  await assert.rejects(pipeline('text-classification', { url: `${server.baseUrl}/good.ebm`, sha256: '0'.repeat(64) }, { ...fakeInline(), cache: false }),
    (e) => e.code === 'IntegrityError' && /sha256 mismatch for good\.ebm/.test(e.message));
  await assert.rejects(pipeline('text-classification', join(dir, 'missing.ebm'), fakeInline()),
    (e) => e.code === 'NotFound' && e.message.includes('missing.ebm'));
  await assert.rejects(pipeline('text-classification', 42, fakeInline()), (e) => e.code === 'InvalidArgument' && /source must be/.test(e.message));
});

test('aborting during a download cancels it and frees its heap buffers (worker_threads)', async (t) => {
  const { source } = await serveRepo(t, {}, (f) => { f.get('model.safetensors').stallAfter = 10; });
  const runtime = await createRuntime(fakeWorker());
  t.after(() => runtime.close());
  const probe = await pipeline('text-classification', fakePackedModel(), { runtime });
  const before = await probe('__stats__');
  const ac = new AbortController();
  const events = [];
  const loading = pipeline('text-classification', source, {
    runtime, cache: false, signal: ac.signal,
    // The server stalls after 10 bytes of model.safetensors: abort while the worker waits for more.
    onProgress: (p) => { events.push(p); if (p.file === 'model.safetensors' && p.loaded === 0) setTimeout(() => ac.abort(), 50); },
  });
  await assert.rejects(loading, (e) => e.code === 'Cancelled' && /model\.safetensors/.test(e.message));
  const after = await probe('__stats__');
  assert.equal(after.live_bytes, before.live_bytes);
});

test('a repository source also loads in a worker_threads Worker, with progress forwarded', async (t) => {
  const { source } = await serveRepo(t, { withTokenizerJson: true });
  const events = [];
  const emb = await pipeline('feature-extraction', source, { ...fakeWorker(), cache: false, onProgress: (p) => events.push(p) });
  try {
    checkProgress(assert, events);
    const out = await emb('abc');
    assert.deepEqual(out.dims, [1, 3, 2]);
    assert.ok(out.data instanceof Float32Array);
    assert.deepEqual(out.tolist(), [[[0, 0.5], [1, 1.5], [2, 2.5]]]);
  } finally {
    await emb.dispose();
  }
});

async function listFiles(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.path ?? e.parentPath, e.name).slice(dir.length + 1));
}
