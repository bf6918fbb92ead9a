// single_thread.test.mjs: the demo page served WITHOUT COOP/COEP: not cross-origin isolated, so
// the API must pick the single-thread build, say why, and still answer like Node.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../../web/serve.mjs';
import { skipReason, launchBrowser, withPage, waitModel, openTab, runTab, read } from './harness.mjs';
import { NodeReference, compare, expectBuild } from './expected.mjs';

const reason = await skipReason();

if (reason) test('demo page in Chromium, single thread', { skip: reason }, () => {});
else describe('demo page in Chromium (not isolated: single-thread build)', () => {
  let browser;
  let server;
  let ref;
  before(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, isolated: false })]);
    ref = new NodeReference();
    expectBuild('simd128-single-thread');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ref?.close();
  });

  test('the single-thread build runs, the page says why, and the answers match Node', () => withPage(browser, 'single-thread', async (page) => {
    await page.goto(`${server.url}web/`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    await page.waitForFunction(() => document.querySelector('#build-info').dataset.build !== '');
    assert.equal(await page.getAttribute('#build-info', 'data-build'), 'simd128-single-thread');
    assert.match(await page.textContent('#build-info'), /^single-thread build .*(SharedArrayBuffer is not available|not cross-origin isolated)/);
    // Which int8 GEMM kernel runs, and why, is on the page (the relaxed one where this Chromium and CPU run it).
    const gemm = await page.getAttribute('#build-info', 'data-gemm');
    assert.match(await page.textContent('#build-info'), gemm === 'relaxed' ? /; int8 GEMMs: relaxed-SIMD kernel$/ : /; int8 GEMMs: SIMD128 kernel$/);
    assert.match(await page.getAttribute('#build-info', 'title'), gemm === 'relaxed' ? /probe and GEMM check passed/ : /relaxed|no relaxed SIMD/);
    await waitModel(page, 'classify');
    let r = await runTab(page, 'classify');
    assert.equal(r.state, 'done', r.error);
    compare.classify(await read.classify(page), await ref.classify(await page.inputValue('#classify-text')));
    await openTab(page, 'search');
    r = await runTab(page, 'search');
    assert.equal(r.state, 'done', r.error);
    compare.search(await read.search(page), await ref.search(await page.inputValue('#search-query'), await page.inputValue('#search-passages')));
  }));

  test('phone width (375 px): nothing overflows sideways', () => withPage(browser, 'phone', async (page) => {
    await page.goto(`${server.url}web/#ner`);
    await waitModel(page, 'ner');
    const r = await runTab(page, 'ner');
    assert.equal(r.state, 'done', r.error);
    for (const tab of ['ner', 'classify', 'qa', 'search']) {
      const box = await page.locator(`#tab-${tab}`).boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 375, `tab ${tab} is on screen: ${JSON.stringify(box)}`);
      await page.click(`#tab-${tab}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `${tab}: the page is ${width} px wide at a 375 px viewport`);
    }
  }, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true }));
});
