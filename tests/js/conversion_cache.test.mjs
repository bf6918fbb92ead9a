// conversion_cache.test.mjs: a checkpoint (a repository, a folder, files given as bytes) is
// converted to int8 once; its packed result is cached under a key made of the source, the revision,
// the engine version and every file's identity (ETag, sha256, or a local file's size/mtime/inode),
// and the next load of the same files reads it instead of converting. Fake engine (its conversion
// is recognisable), except the last test, which runs the real one on a fixture checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { getBuildInfo, pipeline } from '../../worker/index.mjs';
import { checkProgress, fakeInline, repoFiles, startServer, tempDir, tinySafetensors } from './helpers.mjs';

const REPO = 'edgebert-test/tiny-bert';

async function listFiles(dir, prefix = '') {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = join(prefix, e.name);
    if (e.isDirectory()) out.push(...await listFiles(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

/** The converted entries in a cache folder (<dir>/https/edgebert.invalid/converted/<hash>.ebm). */
const convertedIn = async (cacheDir) => (await listFiles(join(cacheDir, 'https', 'edgebert.invalid', 'converted')))
  .filter((f) => f.endsWith('.ebm')).map((f) => join(cacheDir, 'https', 'edgebert.invalid', 'converted', f));

/** A repository served with ETags (the body's length and a version tag, as a static server would). */
async function etagRepo() {
  const files = await repoFiles({ withTokenizerJson: false });
  for (const [name, f] of files) f.headers = { etag: `"${name}-v1-${f.body.length}"` };
  return files;
}

const load = async (source, opts) => {
  const events = [];
  const clf = await pipeline('text-classification', source, { ...fakeInline(), ...opts, onProgress: (p) => events.push(p) });
  const { conversion, files, model } = clf.info;
  const answer = await clf('hello', { topK: 2 });
  await clf.dispose();
  return { conversion, files: files.map((f) => [f.name, f.cached]), events, answer, labels: model.labels };
};

test('a repository: the first load converts and stores, the second reads the packed model (no conversion)', async (t) => {
  const cacheDir = await tempDir(t);
  const server = await startServer({ repos: { [REPO]: await etagRepo() } });
  t.after(() => server.close());
  const source = { repo: REPO, revision: 'main', baseUrl: server.baseUrl };

  const first = await load(source, { cacheDir });
  assert.equal(first.conversion, 'converted');
  assert.ok(first.files.every(([, cached]) => !cached));
  const entries = await convertedIn(cacheDir);
  assert.equal(entries.length, 1, (await listFiles(cacheDir)).join('\n'));

  const second = await load(source, { cacheDir });
  assert.equal(second.conversion, 'cached');
  assert.deepEqual(second.files, [['model.ebm', true]]);
  // Observable in the progress events too: one file, model.ebm, from the cache.
  checkProgress(assert, second.events);
  assert.ok(second.events.every((e) => e.file === 'model.ebm' && e.cached));
  assert.equal(second.events.at(-1).overall.total, (await stat(entries[0])).size);
  assert.deepEqual(second.answer, first.answer);
});

test('the ETags key the lookup: same ETags hit without reading a body, a changed ETag misses', async (t) => {
  const cacheDir = await tempDir(t);
  const files = await etagRepo();
  const server = await startServer({ repos: { [REPO]: files } });
  t.after(() => server.close());
  const source = { repo: REPO, revision: 'main', baseUrl: server.baseUrl };
  const rawCache = join(cacheDir, 'http');
  assert.equal((await load(source, { cacheDir })).conversion, 'converted');

  // The checkpoint's own files no longer cached: the server is asked, its ETags match, the packed
  // model is read and no checkpoint body is kept (nothing in the raw cache but the 404 of
  // tokenizer.json, remembered as it is answered).
  await rm(rawCache, { recursive: true });
  server.requests.length = 0;
  const hit = await load(source, { cacheDir });
  assert.equal(hit.conversion, 'cached');
  assert.ok(server.requests.some((p) => p.endsWith('/model.safetensors')), server.requests.join('\n'));
  assert.deepEqual((await listFiles(rawCache)).filter((f) => !f.endsWith('.missing')), []);

  // model.safetensors changes on the server (new bytes, new ETag): a miss, converted again.
  files.set('model.safetensors', { body: tinySafetensors(6), headers: { etag: '"model.safetensors-v2"' } });
  const changed = await load(source, { cacheDir });
  assert.equal(changed.conversion, 'converted');
  assert.equal((await convertedIn(cacheDir)).length, 2);
  // ... and that conversion is what the next load finds (the ETag was stored with the raw copy).
  assert.equal((await load(source, { cacheDir })).conversion, 'cached');

  // Another revision is another key.
  const other = await startServer({ repos: { [REPO]: files }, revision: 'v2' });
  t.after(() => other.close());
  assert.equal((await load({ repo: REPO, revision: 'v2', baseUrl: other.baseUrl }, { cacheDir })).conversion, 'converted');
});

test('without ETags the sha256 of the bytes keys it; changed content misses', async (t) => {
  const cacheDir = await tempDir(t);
  const files = await repoFiles({ withTokenizerJson: false });
  const server = await startServer({ repos: { [REPO]: files } });
  t.after(() => server.close());
  const source = { repo: REPO, revision: 'main', baseUrl: server.baseUrl };
  assert.equal((await load(source, { cacheDir })).conversion, 'converted');
  // The identities were stored with the raw copies: the next load needs none of their bytes.
  assert.equal((await load(source, { cacheDir })).conversion, 'cached');
  await rm(join(cacheDir, 'http'), { recursive: true });
  // Downloaded again, same bytes: the same sha256, a hit (the conversion is saved).
  assert.equal((await load(source, { cacheDir })).conversion, 'cached');
  await rm(join(cacheDir, 'http'), { recursive: true });
  files.set('model.safetensors', { body: tinySafetensors(5) });
  assert.equal((await load(source, { cacheDir })).conversion, 'converted');
});

test('a folder and files given as bytes: cached by identity; a changed file misses', async (t) => {
  const cacheDir = await tempDir(t);
  const dir = await tempDir(t, 'edgebert-ckpt-');
  for (const [name, f] of await repoFiles({ withTokenizerJson: false })) await writeFile(join(dir, name), f.body);
  assert.equal((await load(dir, { cacheDir })).conversion, 'converted');
  assert.equal((await load(dir, { cacheDir })).conversion, 'cached');
  // Rewritten with other bytes (a new size and modification time): a miss.
  await writeFile(join(dir, 'model.safetensors'), tinySafetensors(8));
  assert.equal((await load(dir, { cacheDir })).conversion, 'converted');
  assert.equal((await load(dir, { cacheDir })).conversion, 'cached');

  const bytes = {};
  for (const [name, f] of await repoFiles({ withTokenizerJson: false })) bytes[name] = new Uint8Array(f.body);
  assert.equal((await load({ files: bytes }, { cacheDir })).conversion, 'converted');
  assert.equal((await load({ files: { ...bytes } }, { cacheDir })).conversion, 'cached');
  const config = JSON.parse(new TextDecoder().decode(bytes['config.json']));
  config.id2label = { 0: 'no', 1: 'yes' };
  const changed = await load({ files: { ...bytes, 'config.json': new TextEncoder().encode(JSON.stringify(config)) } }, { cacheDir });
  assert.equal(changed.conversion, 'converted');
  assert.deepEqual(changed.labels, { 0: 'no', 1: 'yes' });
});

test('cache: false converts anew and replaces the entry; a later load hits it', async (t) => {
  const cacheDir = await tempDir(t);
  const server = await startServer({ repos: { [REPO]: await etagRepo() } });
  t.after(() => server.close());
  const source = { repo: REPO, revision: 'main', baseUrl: server.baseUrl };
  assert.equal((await load(source, { cacheDir })).conversion, 'converted');
  const [entry] = await convertedIn(cacheDir);
  await writeFile(entry, 'stale but never read');
  const refreshed = await load(source, { cacheDir, cache: false });
  assert.equal(refreshed.conversion, 'converted');
  assert.ok(refreshed.files.every(([, cached]) => !cached));
  assert.match(await readFile(entry, 'latin1'), /^FAKEEBM1/);
  assert.equal((await load(source, { cacheDir })).conversion, 'cached');
});

test('a corrupt cache entry is removed and the checkpoint converted again in the same load', async (t) => {
  const cacheDir = await tempDir(t);
  const server = await startServer({ repos: { [REPO]: await etagRepo() } });
  t.after(() => server.close());
  const source = { repo: REPO, revision: 'main', baseUrl: server.baseUrl };
  const first = await load(source, { cacheDir });
  const [entry] = await convertedIn(cacheDir);
  await writeFile(entry, 'FAKEEBM1{not json');  // the engine refuses it: CorruptData
  const again = await load(source, { cacheDir });
  assert.equal(again.conversion, 'converted');
  assert.deepEqual(again.answer, first.answer);
  assert.match(await readFile(entry, 'latin1'), /^FAKEEBM1\{"model_type"/);  // replaced by the new conversion
  assert.equal((await load(source, { cacheDir })).conversion, 'cached');
  // An empty entry (a disk that lost it) too.
  await writeFile(entry, '');
  assert.equal((await load(source, { cacheDir })).conversion, 'converted');
});

test('nothing the engine refuses is cached', async (t) => {
  const cacheDir = await tempDir(t);
  const files = await etagRepo();
  const bad = Buffer.from(tinySafetensors());
  bad.writeBigUInt64LE(1000n);  // a header longer than the file: CorruptData from the conversion
  files.set('model.safetensors', { body: bad, headers: { etag: '"bad"' } });
  const server = await startServer({ repos: { [REPO]: files } });
  t.after(() => server.close());
  await assert.rejects(load({ repo: REPO, revision: 'main', baseUrl: server.baseUrl }, { cacheDir }), (e) => e.code === 'CorruptData');
  assert.deepEqual(await convertedIn(cacheDir), []);
  assert.ok(!(await listFiles(cacheDir)).some((f) => f.endsWith('model.safetensors')));
});

const MODELS = new URL('../fixtures/models/', import.meta.url);
const realReason = !existsSync(new URL('../../build/wasm/wasm/edgebert.mjs', import.meta.url))
  ? 'build/wasm/wasm/edgebert.mjs is missing (scripts/build.sh wasm)'
  : !existsSync(new URL('distilbert_seqcls/config.json', MODELS)) ? 'tests/fixtures/models/distilbert_seqcls is missing'
    : !(await getBuildInfo({ device: 'inline' })).abi ? 'the engine ABI is not built' : null;

test('real engine: the cached packed model gives the same answers as the conversion, bit for bit', { skip: realReason || false }, async (t) => {
  const cacheDir = await tempDir(t);
  const dir = await tempDir(t, 'edgebert-ckpt-');
  await cp(new URL('distilbert_seqcls/', MODELS), dir, { recursive: true });
  const run = async () => {
    const clf = await pipeline('text-classification', dir, { device: 'inline', cacheDir });
    const out = { conversion: clf.info.conversion, ms: clf.info.conversionMs, answer: await clf('I love this.', { topK: null, functionToApply: 'none' }) };
    await clf.dispose();
    return out;
  };
  const first = await run();
  const second = await run();
  assert.equal(first.conversion, 'converted');
  assert.ok(first.ms >= 0);
  assert.equal(second.conversion, 'cached');
  assert.equal(second.ms, undefined);
  assert.deepEqual(second.answer, first.answer);
  assert.equal((await convertedIn(cacheDir)).length, 1);
});
