#!/usr/bin/env node
// threads.mjs: 2 threads against 1 in headless Chromium, on a cross-origin-isolated page (the
// pthreads build can run): text classification at 16, 128 and 384 tokens, three pipelines in one
// page (threads: 1 = the single-thread build, threads: 2 = the pthreads build, and the default
// 'auto'), called in interleaved rounds so that load on the machine hits all alike. Reports the
// medians and the median of the per-round ratios (1 thread / N threads: > 1 means faster), and
// checks first that all three give the same answer.
//
//   node bench/threads/threads.mjs [--model models/sentiment-minilm-l3/model.ebm] [--tokens 16,128,384] [--rounds 40] [--json out.json]
import { writeFileSync } from 'node:fs';

import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const model = opt('model', 'models/sentiment-minilm-l3/model.ebm');
const tokens = opt('tokens', '16,128,384').split(',').map(Number);
const rounds = Number(opt('rounds', '40'));
const jsonOut = opt('json', null);

const [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, isolated: true, extraMounts: { '/m/': process.cwd() } })]);
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}web/?autoload=0`);
  const result = await page.evaluate(async ({ model, tokens, rounds }) => {
    const { pipeline, tokenizer } = await import('/worker/index.mjs');
    const url = `/m/${model}`;
    const configs = [['1 thread', 1], ['2 threads', 2], ["'auto'", 'auto']];
    const pipes = [];
    for (const [, threads] of configs) pipes.push(await pipeline('text-classification', url, { threads }));
    const tok = await tokenizer(url, { threads: 1 });
    const words = 'the film was a quiet delight with warm performances and a story that kept me watching until the end'.split(' ');
    const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
    const out = { builds: pipes.map((p) => ({ build: p.info.build.build, threads: p.info.build.threads, reason: p.info.build.threadsReason, gemm: p.info.build.gemm_kernel })), sizes: [] };
    for (const target of tokens) {
      let n = target, text, ids;
      for (let tries = 0; tries < 600; tries++) {
        text = Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');
        ids = (await tok(text)).input_ids;
        if (ids.length === target) break;
        n += ids.length < target ? 1 : -1;
      }
      const answers = await Promise.all(pipes.map((p) => p(text)));
      const same = answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0]));
      for (let w = 0; w < 5; w++) for (const p of pipes) await p(text);
      const times = pipes.map(() => []);
      for (let r = 0; r < rounds; r++) {
        // Rotate the order each round: no configuration always runs first.
        for (let j = 0; j < pipes.length; j++) {
          const i = (j + r) % pipes.length;
          // The pool's workers poll for up to 0.2 ms after a pass before they sleep
          // (src/util/thread_pool.h): let the previous runtime's threads go quiet, so that each
          // call has the cores a page with one runtime would give it.
          await new Promise((resolve) => setTimeout(resolve, 10));
          const s = performance.now();
          await pipes[i](text);
          times[i].push(performance.now() - s);
        }
      }
      const ratio = (i) => med(times[0].map((t, r) => t / times[i][r]));
      out.sizes.push({ tokens: ids.length, same, ms: times.map(med), speedup2: ratio(1), speedupAuto: ratio(2) });
    }
    for (const p of pipes) await p.dispose();
    await tok.dispose();
    return out;
  }, { model, tokens, rounds });
  for (const [i, b] of result.builds.entries()) console.log(`${['threads: 1', 'threads: 2', "threads: 'auto'"][i]}: ${b.build}, ${b.threads} thread(s), ${b.gemm}; ${b.reason}`);
  console.log('| tokens | same answers | 1 thread (median ms) | 2 threads (median ms) | \'auto\' (median ms) | 2 threads speed-up (median of per-round ratios) | \'auto\' speed-up |');
  console.log('|---:|:---:|---:|---:|---:|---:|---:|');
  for (const s of result.sizes) {
    console.log(`| ${s.tokens} | ${s.same ? 'yes' : 'NO'} | ${s.ms[0].toFixed(1)} | ${s.ms[1].toFixed(1)} | ${s.ms[2].toFixed(1)} | ${s.speedup2.toFixed(2)}x | ${s.speedupAuto.toFixed(2)}x |`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ model, rounds, ...result }, null, 2));
  if (result.sizes.some((s) => !s.same)) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
