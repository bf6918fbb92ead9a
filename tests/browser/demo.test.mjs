// demo.test.mjs: the demo page (web/) in real Chromium, cross-origin isolated (the threaded build):
// every tab against the JS API in Node, progress, a responsive main thread during a long request,
// errors, files from disk, a Hugging Face-layout repository, and a reload with the network off.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

import { startServer } from '../../web/serve.mjs';
import { ROOT, MODELS_DIR, demoModel, fixtureModel, skipReason, launchBrowser, withPage, waitModel, openTab, runTab, read } from './harness.mjs';
import { NodeReference, compare, expectBuild } from './expected.mjs';
import { pipeline } from '../../worker/index.mjs';

const reason = await skipReason();

if (reason) test('demo page in Chromium', { skip: reason }, () => {});
else describe('demo page in Chromium (cross-origin isolated)', () => {
  let browser;
  let server;
  let ref;
  let scratch;
  let clf;  // the classification demo model (index.json entry)
  let fixture;  // the random classification fixture, whose Hugging Face folder the page loads

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'edgebert-browser-'));
    clf = demoModel('text-classification');
    fixture = fixtureModel('text-classification');
    // A corrupt model: the first half of a valid one.
    const good = readFileSync(`${MODELS_DIR}${clf.file}`);
    writeFileSync(join(scratch, 'truncated.ebm'), good.subarray(0, good.length >> 1));
    writeFileSync(join(scratch, 'not-a-model.ebm'), Buffer.from('this is not an edgebert model\n'.repeat(10)));
    [browser, server] = await Promise.all([
      launchBrowser(),
      startServer({ port: 0, isolated: true, hfDir: dirname(`${ROOT}${fixture.source}`), extraMounts: { '/test-models/': scratch } }),
    ]);
    ref = new NodeReference();
    expectBuild('simd128-pthreads');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ref?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('every tab shows what the JS API gives in Node for the same model; tabs work by keyboard', () => withPage(browser, 'every-tab', async (page) => {
    await page.goto(`${server.url}web/`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    await waitModel(page, 'classify');
    // The classification tab runs edgebert's trained model: no random-model warning.
    assert.equal(clf.random, false);
    assert.equal(await page.isVisible('#panel-classify .model-warning'), false);

    // Keyboard: arrows move between tabs (and wrap), Home/End jump; the selected tab has focus.
    await page.focus('#tab-classify');
    const selected = () => page.evaluate(() => [document.querySelector('[role=tab][aria-selected=true]').id, document.activeElement.id,
      [...document.querySelectorAll('[role=tabpanel]')].filter((p) => !p.hidden).map((p) => p.id)]);
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await selected(), ['tab-ner', 'tab-ner', ['panel-ner']]);
    await page.keyboard.press('End');
    assert.deepEqual(await selected(), ['tab-search', 'tab-search', ['panel-search']]);
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await selected(), ['tab-classify', 'tab-classify', ['panel-classify']]);
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual(await selected(), ['tab-search', 'tab-search', ['panel-search']]);
    await page.keyboard.press('Home');

    let r = await runTab(page, 'classify');
    assert.equal(r.state, 'done', r.error);
    assert.ok(r.ms > 0);
    compare.classify(await read.classify(page), await ref.classify(await page.inputValue('#classify-text')));

    await openTab(page, 'ner');
    const nerText = await page.inputValue('#ner-text');
    r = await runTab(page, 'ner');
    assert.equal(r.state, 'done', r.error);
    const ents = await read.ner(page);
    compare.ner(ents, await ref.ner(nerText, 'first'), nerText);
    // The entities tab runs edgebert's trained model ('first' is its grouping): a person and a city.
    assert.equal(demoModel('token-classification').random, false);
    assert.equal(await page.isVisible('#panel-ner .model-warning'), false);
    assert.equal(await page.inputValue('#ner-agg'), 'first');
    assert.deepEqual(ents.rows.filter((e) => e.label === 'PER' || e.label === 'LOC').map((e) => [e.label, e.text]),
      [['PER', 'Angela Merkel'], ['LOC', 'Berlin']]);
    await page.selectOption('#ner-agg', 'average');
    r = await runTab(page, 'ner');
    const avg = await ref.ner(nerText, 'average');
    if (avg.length) compare.ner(await read.ner(page), avg, nerText);
    else assert.equal(await page.textContent('#panel-ner .results'), 'No entities found.');

    await openTab(page, 'qa');
    const question = await page.inputValue('#qa-question');
    const context = await page.inputValue('#qa-context');
    r = await runTab(page, 'qa');
    assert.equal(r.state, 'done', r.error);
    compare.qa(await read.qa(page), await ref.qa(question, context), context);

    await openTab(page, 'search');
    r = await runTab(page, 'search');
    assert.equal(r.state, 'done', r.error);
    const shown = await read.search(page);
    compare.search(shown, await ref.search(await page.inputValue('#search-query'), await page.inputValue('#search-passages')));
    // The search model is trained (the search student): the banking and football passages (1 and 3) rank last.
    assert.deepEqual(shown.slice(-2).map((s) => s.index).sort(), [1, 3]);
    assert.equal(await page.isVisible('#panel-search .model-warning'), false);
  }));

  test('progress events reach the bar: from 0 to the model size, never backwards', () => withPage(browser, 'progress', async (page) => {
    await page.goto(`${server.url}web/?autoload=0#search`);
    await page.waitForFunction(() => document.querySelector('#panel-search select[name=demo]').options.length > 0);
    await page.evaluate(() => {
      const bar = document.querySelector('#panel-search progress');
      window.barLog = [];
      // Each progress event arrives in its own task, so each callback sees one event's values.
      new MutationObserver(() => window.barLog.push([bar.hasAttribute('value') ? bar.value : null, bar.max])).observe(bar, { attributes: true });
    });
    await page.click('#panel-search button.load');
    await waitModel(page, 'search');
    const log = await page.evaluate(() => window.barLog);
    const size = demoModel('sentence-embeddings').size;  // the search tab's default model
    const sized = log.filter(([v, max]) => v !== null && max === size).map(([v]) => v);
    assert.ok(sized.length >= 2, `the bar got at least its first and last event: ${JSON.stringify(log)}`);
    assert.equal(sized[0], 0, 'first event at 0');
    assert.equal(sized[sized.length - 1], size, 'last event at the full size');
    assert.ok(sized.every((v, i) => i === 0 || v >= sized[i - 1]), 'never backwards');
    assert.match(await page.textContent('#panel-search .model-status'), /loaded in [\d.]+ ms/);
  }));

  test('the main thread keeps ticking during a long question-answering request', () => withPage(browser, 'responsive', async (page) => {
    await page.goto(`${server.url}web/#qa`);
    await waitModel(page, 'qa');
    const base = await page.inputValue('#qa-context');
    // A context long enough for many windows: doubled until the request takes >= 500 ms here.
    let repeats = 50;
    let r;
    let ticks;
    for (;;) {
      await page.fill('#qa-context', Array.from({ length: repeats }, () => base).join(' '));
      await page.evaluate(() => {
        window.ticks = [];
        window.ticker = setInterval(() => window.ticks.push(performance.now()), 10);
      });
      r = await runTab(page, 'qa', { timeout: 90000 });
      ticks = await page.evaluate(() => { clearInterval(window.ticker); return window.ticks; });
      assert.equal(r.state, 'done', r.error);
      if (r.ms >= 500 || repeats >= 1600) break;
      repeats *= 2;
    }
    assert.ok(r.ms >= 300, `the request must be long for this test to mean anything (took ${r.ms} ms)`);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
    const worst = Math.max(...gaps);
    // A 10 ms timer on a free main thread; up to 400 ms allows for a loaded 2-core machine, while
    // the engine on the main thread would block it for the whole request (r.ms, >= 300 ms; the
    // bound is at most a third of it so a blocked thread always fails).
    const bound = Math.min(400, r.ms / 3);
    assert.ok(worst < bound, `longest gap between ticks ${worst.toFixed(0)} ms during a ${r.ms.toFixed(0)} ms request (bound ${bound.toFixed(0)} ms)`);
    assert.ok(ticks.length >= r.ms / 50, `${ticks.length} ticks during ${r.ms.toFixed(0)} ms`);
  }));

  test('a corrupt model file shows a clear error, and the next valid load and request work', () => withPage(browser, 'corrupt', async (page) => {
    await page.goto(`${server.url}web/?autoload=0`);
    await page.selectOption('#panel-classify-kind', 'url');
    for (const [file, pattern] of [['truncated.ebm', /CorruptData: .*truncated/], ['not-a-model.ebm', /CorruptData: .*not an edgebert packed model/], ['missing.ebm', /HttpError: .*404/]]) {
      await page.fill('#panel-classify-url', `${server.url}test-models/${file}`);
      await page.click('#panel-classify button.load');
      await page.waitForFunction(() => document.querySelector('#panel-classify').dataset.model === 'error');
      const msg = await page.textContent('#panel-classify .error');
      assert.match(msg, /^Could not load the model: /);
      assert.match(msg, pattern, msg);
      assert.equal(await page.getAttribute('#panel-classify .error', 'role'), 'alert');
      assert.equal(await page.isDisabled('#panel-classify button[type=submit]'), true, 'no model, no request');
      await page.evaluate(() => { document.querySelector('#panel-classify').dataset.model = ''; });
    }
    await page.selectOption('#panel-classify-kind', 'demo');
    await page.click('#panel-classify button.load');
    await waitModel(page, 'classify');
    assert.equal(await page.textContent('#panel-classify .error'), '');
    const r = await runTab(page, 'classify');
    assert.equal(r.state, 'done', r.error);
    compare.classify(await read.classify(page), await ref.classify(await page.inputValue('#classify-text')));
  }));

  test('a Hugging Face checkpoint, from a repository URL or picked as files, is converted in the worker', () => withPage(browser, 'hf-files', async (page) => {
    await page.goto(`${server.url}web/?autoload=0`);
    const text = await page.inputValue('#classify-text');
    // The fixture packed by the CLI: the same converter, the same answers.
    const packed = await pipeline('text-classification', `${MODELS_DIR}${fixture.file}`, { cache: false });
    const want = await packed(text, { topK: null, truncation: true });
    await packed.dispose();
    // A repository in the Hub's URL layout (the server's /hf/ mirror of the fixture's folder).
    await page.selectOption('#panel-classify-kind', 'hf');
    const name = basename(fixture.source);
    await page.fill('#panel-classify-repo', `fixtures/${name}`);
    await page.fill('#panel-classify-baseUrl', `${server.url}hf`);
    await page.click('#panel-classify button.load');
    await waitModel(page, 'classify');
    let r = await runTab(page, 'classify');
    assert.equal(r.state, 'done', r.error);
    compare.classify(await read.classify(page), want);
    // Loaded again (here through the API in the page): the packed model the first load converted,
    // from Cache Storage, with the same answers.
    const again = await page.evaluate(async ([repo, baseUrl, t]) => {
      const api = await import('/worker/index.mjs');
      const p = await api.pipeline('text-classification', { repo, baseUrl });
      const out = { conversion: p.info.conversion, files: p.info.files.map((f) => [f.name, f.cached]), answer: await p(t, { topK: null, truncation: true }) };
      await p.dispose();
      return out;
    }, [`fixtures/${name}`, `${server.url}hf`, text]);
    assert.equal(again.conversion, 'cached');
    assert.deepEqual(again.files, [['model.ebm', true]]);
    assert.deepEqual(again.answer, want);
    // The same checkpoint's files picked from disk.
    await page.selectOption('#panel-classify-kind', 'files');
    const dir = `${ROOT}${fixture.source}/`;
    const files = readdirSync(dir).filter((f) => /\.(json|txt|safetensors)$/.test(f) && f !== 'expected.json');
    await page.setInputFiles('#panel-classify-files', files.map((f) => dir + f));
    await page.evaluate(() => { document.querySelector('#panel-classify .results').replaceChildren(); });
    await page.click('#panel-classify button.load');
    await page.waitForFunction(() => /checkpoint files/.test(document.querySelector('#panel-classify .model-status').textContent)
      || document.querySelector('#panel-classify .error').textContent);
    assert.equal(await page.textContent('#panel-classify .error'), '');
    r = await runTab(page, 'classify');
    assert.equal(r.state, 'done', r.error);
    compare.classify(await read.classify(page), want);
    // Dropped onto the panel (a real drop event with File objects): it switches to files and loads.
    await page.selectOption('#panel-classify-kind', 'demo');
    await page.evaluate(() => { document.querySelector('#panel-classify').dataset.model = ''; });
    await page.evaluate(async ([base, names]) => {
      const dt = new DataTransfer();
      for (const n of names) {
        const bytes = await (await fetch(`${base}resolve/main/${n}`)).arrayBuffer();
        dt.items.add(new File([bytes], n));
      }
      document.querySelector('#panel-classify').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [`${server.url}hf/fixtures/${name}/`, files]);
    await waitModel(page, 'classify');
    assert.equal(await page.inputValue('#panel-classify-kind'), 'files');
    for (const f of files) assert.ok((await page.textContent('#panel-classify .picked')).includes(f), f);
    r = await runTab(page, 'classify');
    assert.equal(r.state, 'done', r.error);
    compare.classify(await read.classify(page), want);
    // The files were only lent to the API's cache for the load.
    const left = await page.evaluate(async () => (await (await caches.open('edgebert-v1')).keys()).map((k) => k.url).filter((u) => u.includes('__dropped__')));
    assert.deepEqual(left, []);
    // An incomplete checkpoint names what is missing.
    await page.setInputFiles('#panel-classify-files', [dir + 'config.json']);
    await page.click('#panel-classify button.load');
    await page.waitForFunction(() => document.querySelector('#panel-classify .error').textContent !== '');
    assert.match(await page.textContent('#panel-classify .error'), /missing model\.safetensors, tokenizer\.json or vocab\.txt/);
  }));

  test('a reload with the network off still works (service worker + the API cache)', async () => {
    // A server of its own: it is shut down for the offline part.
    const own = await startServer({ port: 0, isolated: true });
    try {
      await withPage(browser, 'offline', async (page, context) => {
        await page.goto(`${own.url}web/#search`);
        await page.waitForFunction(() => document.querySelector('#offline-info').dataset.state === 'ready');
        await waitModel(page, 'search');
        await page.waitForFunction(() => !!navigator.serviceWorker.controller);
        const query = await page.inputValue('#search-query');
        const passages = await page.inputValue('#search-passages');
        await own.close();
        await context.setOffline(true);
        const seen = own.requests.length;
        await page.reload();
        await waitModel(page, 'search');
        assert.equal(own.requests.length, seen, 'nothing reached the server');
        assert.match(await page.textContent('#panel-search .progress-text'), /from cache/);
        assert.equal(await page.getAttribute('#build-info', 'data-build'), 'simd128-pthreads');
        const r = await runTab(page, 'search');
        assert.equal(r.state, 'done', r.error);
        compare.search(await read.search(page), await ref.search(query, passages));
        // The shell cache holds the page and the runtime, not the models (the API's cache has those).
        const shell = await page.evaluate(async () => (await (await caches.open('edgebert-demo-shell-v1')).keys()).map((k) => new URL(k.url).pathname));
        assert.ok(shell.includes('/build/wasm/wasm/edgebert-threads.wasm') && shell.includes('/web/app.mjs'), shell.join(' '));
        assert.deepEqual(shell.filter((u) => /\.(ebm|safetensors)$/.test(u)), []);
        const models = await page.evaluate(async () => (await (await caches.open('edgebert-v1')).keys()).map((k) => new URL(k.url).pathname));
        assert.deepEqual(models, [`/build/demo/models/${demoModel('sentence-embeddings').file}`]);
      });
    } finally {
      await own.close();
    }
  });

  test('cross-origin isolated: the threaded build runs, and the page says why', () => withPage(browser, 'threads', async (page) => {
    await page.goto(`${server.url}web/?autoload=0`);
    await page.waitForFunction(() => document.querySelector('#build-info').dataset.build !== '');
    assert.equal(await page.getAttribute('#build-info', 'data-build'), 'simd128-pthreads');
    // The threaded build runs the relaxed-SIMD kernel where the engine runs it exactly (each worker
    // wires it), as the single-thread build does: the page names the one that runs.
    const single = await page.evaluate(async () => (await (await import('/worker/index.mjs')).getBuildInfo({ threads: 1 })).relaxed_simd);
    const kernel = single ? 'relaxed-SIMD kernel' : 'SIMD128 kernel';
    assert.match(await page.textContent('#build-info'), new RegExp(`^threaded build .*cross-origin isolated.*; int8 GEMMs: ${kernel}$`));
    // The title says why that kernel runs (or why not).
    assert.match(await page.getAttribute('#build-info', 'title'), single ? /^relaxed SIMD kernel: probe and GEMM check passed$/ : /\S/);
  }));
});
