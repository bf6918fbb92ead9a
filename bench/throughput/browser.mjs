#!/usr/bin/env node
// browser.mjs: sentence embeddings of 256 short sentences in headless Chromium, on a cross-origin
// isolated page (so that threads: 'auto' can take the pthreads build), through the JS API as users
// call it: one `await embed(sentence)` after another against one `await embed(sentences)` (padded
// batches, eb_run_batch), each with threads: 1 and with 'auto'. Rounds alternate the order of the
// four ways, so that load on the machine hits all alike; reports medians and ratios to one call per
// sentence with threads: 1. Checks first that every way gives the same vectors (bit for bit: the
// thread count and the batching change no bit). Nothing here is a test.
//
//   node bench/throughput/browser.mjs [--model models/search-minilm-l3/model.ebm] [--rounds 5] [--batch-size N] [--json out.json]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';
import { sentences } from './sentences.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const model = opt('model', 'models/search-minilm-l3/model.ebm');
const rounds = Number(opt('rounds', '5'));
const batchSize = opt('batch-size', null);
const jsonOut = opt('json', null);
const texts = sentences(256);

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, isolated: true, extraMounts: { '/m/': process.cwd() } })]);
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}web/?autoload=0`);
  const result = await page.evaluate(async ({ model, texts, rounds, batchSize }) => {
    const { pipeline, tokenizer } = await import('/worker/index.mjs');
    const url = `/m/${model}`;
    const opts = batchSize ? { batchSize: Number(batchSize) } : {};
    const engines = [];
    for (const threads of [1, 'auto']) engines.push({ threads, embed: await pipeline('sentence-embeddings', url, { threads }) });
    const tok = await tokenizer(url, { threads: 1 });
    const lengths = [];
    for (const t of texts) lengths.push((await tok(t)).input_ids.length);
    await tok.dispose();
    const ways = [];
    for (const e of engines) {
      ways.push({ name: `one call per sentence, threads: ${e.threads}`, run: async () => { const out = []; for (const t of texts) out.push((await e.embed(t)).data); return out; } });
      ways.push({ name: `one call, the array, threads: ${e.threads}`, run: async () => { const r = await e.embed(texts, opts); const d = r.dims[1]; return texts.map((_, i) => r.data.subarray(i * d, (i + 1) * d)); } });
    }
    // Same vectors every way, bit for bit.
    const ref = await ways[0].run();
    const same = [];
    for (const w of ways) {
      const got = await w.run();
      same.push(got.every((v, i) => v.length === ref[i].length && v.every((x, j) => x === ref[i][j])));
    }
    const times = ways.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < ways.length; j++) {
        const i = (j + r) % ways.length;
        await new Promise((resolve) => setTimeout(resolve, 20));
        const s = performance.now();
        await ways[i].run();
        times[i].push(performance.now() - s);
      }
    }
    const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
    const build = engines.map((e) => ({ threads: e.threads, build: e.embed.info.build.build, count: e.embed.info.build.threads, reason: e.embed.info.build.threadsReason }));
    for (const e of engines) await e.embed.dispose();
    return { build, lengths: [Math.min(...lengths), Math.max(...lengths), lengths.reduce((a, b) => a + b) / lengths.length], rows: ways.map((w, i) => ({ name: w.name, same: same[i], ms: times[i], median: med(times[i]) })) };
  }, { model, texts, rounds, batchSize });
  const [lo, hi, mean] = result.lengths;
  console.log(`Chromium ${browser.version()}, ${model}, 256 sentences of ${lo}-${hi} tokens (mean ${mean.toFixed(1)}), ${rounds} rounds, ` +
    `batchSize ${batchSize || 'default'}; load average ${loadBefore} before, ${load()} after`);
  for (const b of result.build) console.log(`threads: ${b.threads}: ${b.build}, ${b.count} thread(s); ${b.reason}`);
  const base = result.rows[0].median;
  console.log('\n| how | same vectors | median ms (256 sentences) | sentences/s | vs one call per sentence, threads: 1 |\n|---|:---:|---:|---:|---:|');
  for (const r of result.rows) {
    console.log(`| ${r.name} | ${r.same ? 'yes' : 'NO'} | ${r.median.toFixed(0)} | ${(256000 / r.median).toFixed(0)} | ${(base / r.median).toFixed(2)}x |`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ model, rounds, batchSize, loadBefore, ...result }, null, 1));
} finally {
  await browser.close();
  await server.close();
}
