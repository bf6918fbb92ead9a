#!/usr/bin/env node
// latency.mjs: steady latency of edgebert's models in headless Chromium at a given input length
// (default 128 tokens), every model in the same page and the same run, in interleaved rounds so
// that a busy machine slows all of them alike. The page runs the JS API inline (no worker) with
// the single-thread build; times are performance.now() around each pipeline call, tokenizer and
// post-processing included. Prints a Markdown table and writes JSON with --json FILE.
//
//   node bench/trained/latency.mjs [--tokens 128] [--runs 20] [--json out.json] name=task=path.ebm ...
// Without model arguments: the shipped models (models/*/model.ebm) and, where present, their
// teachers packed in build/train/models/ (sst2_teacher.ebm) and all-MiniLM-L6-v2 (build/demo/models).
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const flag = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv.splice(i, 2)[1] : dflt; };
const TOKENS = Number(flag('--tokens', '128'));
const RUNS = Number(flag('--runs', '20'));
const JSON_OUT = flag('--json', null);

let specs = argv.map((a) => { const [name, task, file] = a.split('='); return { name, task, file: resolve(file) }; });
if (!specs.length) {
  const candidates = [
    ['sst2 teacher (BERT 6L)', 'text-classification', 'build/train/models/sst2_teacher.ebm'],
    ['sentiment-minilm-l3 (student)', 'text-classification', 'models/sentiment-minilm-l3/model.ebm'],
    ['ner teacher (BERT 6L)', 'token-classification', 'build/train/models/ner_teacher.ebm'],
    ['entities-minilm-l3 (student)', 'token-classification', 'models/entities-minilm-l3/model.ebm'],
    ['qa-minilm-l6 (teacher)', 'question-answering', 'models/qa-minilm-l6/model.ebm'],
    ['all-MiniLM-L6-v2 (teacher)', 'sentence-embeddings', 'build/demo/models/all-MiniLM-L6-v2.ebm'],
    ['search-minilm-l3 (student)', 'sentence-embeddings', 'models/search-minilm-l3/model.ebm'],
  ];
  specs = candidates.filter(([, , f]) => existsSync(resolve(ROOT, f))).map(([name, task, f]) => ({ name, task, file: resolve(ROOT, f) }));
}
// Each model's folder is served under its own prefix.
const mounts = {};
specs.forEach((s, i) => { mounts[`/bench${i}/`] = dirname(s.file); s.url = `/bench${i}/${basename(s.file)}`; });
const server = await startServer({ port: 0, isolated: false, extraMounts: mounts });
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page:', e.message));
  await page.goto(`${server.url}web/?autoload=0`);
  const result = await page.evaluate(async ({ specs, TOKENS, RUNS }) => {
    const api = await import('/worker/index.mjs');
    const words = 'the quick brown fox jumps over the lazy dog while people in paris watch a film about science and music'.split(' ');
    const pipes = [];
    for (const s of specs) {
      const t0 = performance.now();
      const p = await api.pipeline(s.task, new URL(s.url, location.href).href, { device: 'inline', threads: 1, cache: false });
      const tok = await api.tokenizer(new URL(s.url, location.href).href, { device: 'inline', cache: false });
      // A text of exactly TOKENS tokens with [CLS] and [SEP] (QA: question + context together).
      let n = 1, text = 'hello';
      while ((await tok(text)).input_ids.length < TOKENS) text += ` ${words[n++ % words.length]}`;
      while ((await tok(text)).input_ids.length > TOKENS) text = text.slice(0, text.lastIndexOf(' '));
      const q = 'who watches the film?';
      const call = s.task === 'question-answering' ? () => p(q, text.split(' ').slice(8).join(' ')) : () => p(text);
      await call(); await call();  // warm-up
      pipes.push({ s, call, loadMs: performance.now() - t0, ms: [], tokens: (await tok(text)).input_ids.length });
    }
    for (let r = 0; r < RUNS; r++) {
      for (const p of pipes) {
        const t = performance.now();
        await p.call();
        p.ms.push(performance.now() - t);
      }
    }
    const info = await api.getBuildInfo({ device: 'inline' }).catch(() => ({}));
    return { build: info, rows: pipes.map((p) => ({ name: p.s.name, task: p.s.task, tokens: p.tokens, ms: p.ms })) };
  }, { specs: specs.map(({ name, task, url }) => ({ name, task, url })), TOKENS, RUNS });
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  console.log(`Chromium ${browser.version()}, ${TOKENS} tokens, ${RUNS} interleaved rounds, single thread, kernel: ${result.build.gemmKernel || result.build.gemm_kernel || '?'}`);
  console.log('| model | task | tokens | median ms | min ms |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of result.rows) {
    r.median = median(r.ms);
    r.min = Math.min(...r.ms);
    console.log(`| ${r.name} | ${r.task} | ${r.tokens} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)} |`);
  }
  // Paired per round: the first model of each task is the baseline (the teacher when both are
  // given); the median over rounds of baseline time / this model's time.
  const first = {};
  for (const r of result.rows) first[r.task] = first[r.task] || r;
  console.log('\n| model | against | speed-up (median of per-round ratios) |');
  console.log('|---|---|---:|');
  for (const r of result.rows) {
    const b = first[r.task];
    if (b === r) continue;
    r.speedup = median(r.ms.map((ms, i) => b.ms[i] / ms));
    r.against = b.name;
    console.log(`| ${r.name} | ${b.name} | ${r.speedup.toFixed(2)}x |`);
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ chromium: browser.version(), tokens: TOKENS, runs: RUNS, ...result }, null, 2));
} finally {
  await browser.close();
  await server.close();
}
