#!/usr/bin/env node
// batch.mjs: throughput of array inputs (padded batches, eb_run_batch) and the cost of tensors
// crossing from the engine, through the JS API in one Node process (a worker_threads engine, as
// pipeline() runs by default). Reports ratios of medians measured in alternating rounds, so that a
// busy machine slows both sides alike; nothing here is a test.
//
//   node bench/throughput/batch.mjs [--rounds 5] [--before DIR] [--sizes 1,4,8,16,32,64] [--model X.ebm] [--only a|b]
//
// (a) 256 sentences (8-20 words, made up by sentences.mjs from a word list) through sentence-embeddings with
//     models/search-minilm-l3: one call per sentence against one call with the array, plus the
//     array at each batch size of --sizes; with the engine in a worker, then inline (no messages).
// (b) feature-extraction without pooling at 128 tokens, before and after: (b1) this build inline,
//     with eb_run_batch hidden (the runtime then takes the JSON path, eb_run) and not; (b2) this
//     tree against DIR (default /work/main, a checkout with its own build/wasm: the code before
//     this change), both through workers, in this process.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { sentences } from './sentences.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const flag = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const ROUNDS = Number(flag('--rounds', '5'));
const BEFORE = flag('--before', '/work/main');
const SIZES = flag('--sizes', '1,4,8,16,32,64').split(',').map(Number);
const MODEL = resolve(flag('--model', resolve(ROOT, 'models/search-minilm-l3/model.ebm')));
const ONLY = flag('--only', 'ab');  // 'a', 'b' or both

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const api = await import(pathToFileURL(resolve(ROOT, 'worker/index.mjs')).href);
const { DEFAULT_BATCH_SIZE } = await import(pathToFileURL(resolve(ROOT, 'worker/tasks.mjs')).href);
const texts = sentences(256);
console.log(`# edgebert batch throughput: node ${process.version}, ${cpus().length} cores (${cpus()[0].model}), ` +
  `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${ROUNDS} rounds`);

// ---- (a) sentence embeddings, 256 sentences: in a worker (pipeline()'s default), then inline ----
for (const device of ONLY.includes('a') ? ['worker', 'inline'] : []) {
  const embed = await api.pipeline('sentence-embeddings', MODEL, { device });
  const tok = await api.tokenizer(MODEL);
  const lengths = [];
  for (const t of texts) lengths.push((await tok(t)).input_ids.length);
  console.log(`\n## (a) ${device}: sentence-embeddings, ${MODEL.split('/').slice(-2).join('/')}, 256 sentences of ${Math.min(...lengths)}-${Math.max(...lengths)} tokens (mean ${(lengths.reduce((a, b) => a + b) / lengths.length).toFixed(1)}); gemm ${embed.info.build.gemm_kernel}`);
  // Warm-up (tiering, buffers).
  await embed(texts.slice(0, 32));
  for (const t of texts.slice(0, 32)) await embed(t);
  const oneByOne = [];
  const batched = new Map(SIZES.map((b) => [b, []]));
  const byDefault = [];
  for (let r = 0; r < ROUNDS; ++r) {
    const order = r % 2 ? ['array', 'single'] : ['single', 'array'];
    for (const what of order) {
      if (what === 'single') {
        oneByOne.push(await time(async () => { for (const t of texts) await embed(t); }));
      } else {
        byDefault.push(await time(() => embed(texts)));
        for (const b of SIZES) batched.get(b).push(await time(() => embed(texts, { batchSize: b })));
      }
    }
  }
  const single = median(oneByOne);
  console.log('\n| how | median ms (256 sentences) | sentences/s | vs one by one |\n| --- | ---: | ---: | ---: |');
  console.log(`| one call per sentence | ${single.toFixed(0)} | ${(256000 / single).toFixed(0)} | 1.00x |`);
  const row = (name, xs) => console.log(`| ${name} | ${median(xs).toFixed(0)} | ${(256000 / median(xs)).toFixed(0)} | ${(single / median(xs)).toFixed(2)}x |`);
  row(`one call, array, default batchSize (${DEFAULT_BATCH_SIZE})`, byDefault);
  for (const b of SIZES) row(`one call, array, batchSize ${b}`, batched.get(b));
  // The same embeddings either way.
  const all = await embed(texts);
  const first = await embed(texts[0]);
  const same = all.data.subarray(0, first.data.length).every((v, i) => v === first.data[i]);
  console.log(`\nbatched row 0 equals the sentence alone bit for bit: ${same}`);
  await embed.dispose();
  await tok.dispose();
}

// A text of exactly 126 word tokens + [CLS] + [SEP].
async function text128() {
  const tok = await api.tokenizer(MODEL);
  const words = sentences(40, 11).join(' ').split(' ');
  let text = words.slice(0, 126).join(' ');
  let n = (await tok(text)).input_ids.length;
  for (let k = 126; n > 128 && k > 0; --k) { text = words.slice(0, k).join(' '); n = (await tok(text)).input_ids.length; }
  await tok.dispose();
  return { text, n };
}

// Alternating rounds of fe(text) and fe(text, {pooling: 'mean'}) on two pipelines.
async function compare(title, feBefore, feAfter, text, n) {
  for (let i = 0; i < 3; ++i) { await feAfter(text); await feBefore(text); }
  const a = [], b = [], pa = [], pb = [];
  for (let r = 0; r < ROUNDS * 2; ++r) {
    const pair = r % 2 ? [[feAfter, a], [feBefore, b]] : [[feBefore, b], [feAfter, a]];
    for (const [fe, xs] of pair) xs.push(await time(() => fe(text)));
    const pooled = r % 2 ? [[feAfter, pa], [feBefore, pb]] : [[feBefore, pb], [feAfter, pa]];
    for (const [fe, xs] of pooled) xs.push(await time(() => fe(text, { pooling: 'mean' })));
  }
  const x = await feAfter(text);
  const y = await feBefore(text);
  const maxDiff = x.data.reduce((m, v, i) => Math.max(m, Math.abs(v - y.data[i])), 0);
  console.log(`\n## ${title}: feature-extraction, ${n} tokens, search-minilm-l3 (dims ${JSON.stringify(x.dims)})`);
  console.log('\n| call | before ms (median) | after ms (median) | after / before |\n| --- | ---: | ---: | ---: |');
  console.log(`| pooling none (${x.size} floats) | ${median(b).toFixed(1)} | ${median(a).toFixed(1)} | ${(median(a) / median(b)).toFixed(3)} |`);
  console.log(`| pooling mean (384 floats) | ${median(pb).toFixed(1)} | ${median(pa).toFixed(1)} | ${(median(pa) / median(pb)).toFixed(3)} |`);
  console.log(`\nmax |after - before| over the hidden state: ${maxDiff}`);
}

// ---- (b1) the same build in this process, inline: eb_run (JSON numbers) vs eb_run_batch (float32) ----
if (ONLY.includes('b')) {
  const { text, n } = await text128();
  const factory = (await import(pathToFileURL(resolve(ROOT, 'build/wasm/wasm/edgebert.mjs')).href)).default;
  const wasmUrl = pathToFileURL(resolve(ROOT, 'build/wasm/wasm/edgebert.wasm')).href;
  // The JSON path the runtime takes with a build that has no eb_run_batch.
  const jsonOnly = async (arg) => { const m = await factory(arg); delete m._eb_run_batch; return m; };
  const feBefore = await api.pipeline('feature-extraction', MODEL, { device: 'inline', moduleFactory: jsonOnly, wasmUrl });
  const feAfter = await api.pipeline('feature-extraction', MODEL, { device: 'inline', moduleFactory: factory, wasmUrl });
  await compare('(b1) inline, this build: JSON numbers (eb_run) before, float32 (eb_run_batch) after', feBefore, feAfter, text, n);
  await feBefore.dispose();
  await feAfter.dispose();
}

// ---- (b2) feature-extraction without pooling, 128 tokens: before (another checkout) vs after, workers ----
if (ONLY.includes('b')) {
  const beforeIndex = resolve(BEFORE, 'worker/index.mjs');
  if (!existsSync(beforeIndex) || !existsSync(resolve(BEFORE, 'build/wasm/wasm/edgebert.mjs'))) {
    console.log(`\n## (b) skipped: ${BEFORE} has no worker/index.mjs or build/wasm`);
  } else {
    const before = await import(pathToFileURL(beforeIndex).href);
    const { text, n } = await text128();
    const feAfter = await api.pipeline('feature-extraction', MODEL);
    const feBefore = await before.pipeline('feature-extraction', MODEL);
    await compare(`(b2) workers: ${BEFORE} before, this tree after`, feBefore, feAfter, text, n);
    await feAfter.dispose();
    await feBefore.dispose();
    await before.closeSharedRuntimes();
  }
}
await api.closeSharedRuntimes();
console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
