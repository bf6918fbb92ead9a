#!/usr/bin/env node
// measure.mjs: load time of each demo model and per-task latency in Chromium, with the threaded
// build (page cross-origin isolated) and the single-thread build (not isolated). Times are the
// page's own (performance.now() around pipeline() and around each request, worker round trip
// included). Prints a Markdown table.
//
//   scripts/demo.sh --models-only && node tests/browser/measure.mjs [--runs N]
import { startServer } from '../../web/serve.mjs';
import { TASK_OF_TAB, demoModel, skipReason, launchBrowser, waitModel, runTab } from './harness.mjs';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const reason = await skipReason();
if (reason) {
  console.error(`measure: cannot run: ${reason}`);
  process.exit(1);
}

// What each tab sends (the page's default inputs).
const INPUT = { classify: '1 sentence', ner: '1 sentence', qa: 'question + 1 sentence', search: 'query + 5 passages = 6 embeddings' };
const TABS = Object.fromEntries(Object.entries(INPUT).map(([tab, input]) => {
  const m = demoModel(TASK_OF_TAB[tab]);
  return [tab, `${m.id}${m.random ? ' (random)' : ''}: ${input}`];
}));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

const browser = await launchBrowser();
const rows = [];
try {
  for (const isolated of [true, false]) {
    const server = await startServer({ port: 0, isolated });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}web/?autoload=0`);
    await page.waitForFunction(() => document.querySelector('#build-info').dataset.build !== '');
    const build = await page.getAttribute('#build-info', 'data-build');
    for (const tab of Object.keys(TABS)) {
      await page.click(`#tab-${tab}`);
      await page.waitForFunction((t) => document.querySelector(`#panel-${t} select[name=demo]`).options.length > 0, tab);
      const loads = [];
      for (let i = 0; i < 2; i++) {  // the first from the server, the second from the API's cache
        await page.evaluate((t) => { document.querySelector(`#panel-${t}`).dataset.model = ''; }, tab);
        await page.click(`#panel-${tab} button.load`);
        await waitModel(page, tab);
        loads.push(Number(await page.getAttribute(`#panel-${tab} .model-status`, 'data-load-ms')));
      }
      await runTab(page, tab);  // warm-up
      const ms = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await runTab(page, tab);
        if (r.state !== 'done') throw new Error(`${tab}: ${r.error}`);
        ms.push(r.ms);
      }
      rows.push({ build, tab, load: loads[0], cachedLoad: loads[1], median: median(ms), min: Math.min(...ms) });
    }
    await context.close();
    await server.close();
  }
} finally {
  await browser.close();
}

const ua = (await import('node:child_process')).execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
console.log(`Chromium: ${ua}; ${RUNS} requests per task after one warm-up; load = first load (server on 127.0.0.1) / second load (API cache)\n`);
console.log('| build | task: model, input | load ms (network / cache) | request ms median (min) |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.build} | ${r.tab}: ${TABS[r.tab]} | ${r.load.toFixed(0)} / ${r.cachedLoad.toFixed(0)} | ${r.median.toFixed(1)} (${r.min.toFixed(1)}) |`);
}
