// threads.test.mjs: the pthreads build's thread pool (src/util/thread_pool.h) in Chromium, on a
// cross-origin isolated page. Each model's engine has a pool of its own, so three models in one
// runtime of 2 threads want more pool threads than the build preallocates (4): the late ones start
// when the engine's thread next yields, and ParallelFor never waits for a thread that has not
// started. So: three models in one 2-thread runtime, called at the same time, over long and short
// texts, must answer exactly as a single-thread runtime does (the thread count changes no bit),
// keep answering after one of them is disposed, and 'auto' must report that it measures.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../web/serve.mjs';
import { skipReason, launchBrowser, withPage } from './harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const reason = await skipReason();

if (reason) test('pthreads build thread pool in Chromium', { skip: reason }, () => {});
else describe('pthreads build thread pool in Chromium', () => {
  let browser;
  let server;
  before(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, isolated: true, extraMounts: { '/repo/': ROOT } })]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('three models in one 2-thread runtime, called at once: the single-thread answers, bit for bit', () => withPage(browser, 'threads-pool', async (page) => {
    await page.goto(`${server.url}web/?autoload=0`);
    const r = await page.evaluate(async () => {
      const { pipeline, createRuntime, getBuildInfo } = await import('/worker/index.mjs');
      const models = [['text-classification', '/repo/models/sentiment-minilm-l3/model.ebm'],
        ['token-classification', '/repo/models/entities-minilm-l3/model.ebm'],
        ['feature-extraction', '/repo/models/search-minilm-l3/model.ebm']];
      const words = 'Angela Merkel met Satya Nadella in Paris after a long flight and the talks went well'.split(' ');
      const texts = [300, 7, 120].map((n) => Array.from({ length: n }, (_, i) => words[i % words.length]).join(' '));
      // Results as text: label/score/entity JSON, feature-extraction floats as their bit patterns.
      const asText = (out) => (out && out.data ? Array.from(new Uint32Array(Float32Array.from(out.data).buffer)).join(',') : JSON.stringify(out));
      const runtimes = [await createRuntime({ threads: 1 }), await createRuntime({ threads: 2 })];
      const pipes = [];
      for (const rt of runtimes) pipes.push(await Promise.all(models.map(([task, url]) => pipeline(task, url, { runtime: rt }))));
      const out = { build: pipes[1][0].info.build, rounds: 0, differing: [], afterDispose: null };
      for (const text of texts) {
        const want = [];
        for (const p of pipes[0]) want.push(asText(await p(text)));
        for (let round = 0; round < 2; round++) {
          const got = await Promise.all(pipes[1].map((p) => p(text)));  // all three at once
          got.forEach((g, i) => { if (asText(g) !== want[i]) out.differing.push(`${models[i][0]}, ${text.split(' ').length} words, round ${round}`); });
          out.rounds++;
        }
      }
      await pipes[1][1].dispose();
      out.afterDispose = asText(await pipes[1][0](texts[0])) === asText(await pipes[0][0](texts[0]));
      for (const p of [...pipes[0], pipes[1][0], pipes[1][2]]) await p.dispose();
      out.auto = await getBuildInfo({ threads: 'auto' });
      return out;
    });
    assert.equal(r.build.build, 'simd128-pthreads');
    assert.equal(r.build.threads, 2);
    assert.equal(r.rounds, 6);
    assert.deepEqual(r.differing, []);
    assert.equal(r.afterDispose, true);
    if (r.auto.build === 'simd128-pthreads' && r.auto.threads > 1) {
      assert.equal(r.auto.threads_measured, true, r.auto.threadsReason);
      assert.match(r.auto.threadsReason, /whichever measured faster/);
    } else {
      assert.equal(r.auto.threads_measured, false, r.auto.threadsReason);  // one core: nothing to measure
    }
  }));
});
