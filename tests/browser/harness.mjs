// harness.mjs: shared pieces of the browser tests: Debian's Chromium driven by playwright-core,
// the demo server (web/serve.mjs) started in-process, and the same models run through the JS API
// in Node to say what the page must show.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MODELS_DIR = `${ROOT}build/demo/models/`;
export const FAILURES_DIR = `${ROOT}build/browser-failures/`;
export const CHROMIUM = process.env.EDGEBERT_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-quic', '--disable-sync'];
export const TASK_OF_TAB = { classify: 'text-classification', ner: 'token-classification', qa: 'question-answering', search: 'sentence-embeddings' };

/**
 * The demo model the page offers first for a task, from build/demo/models/index.json (written by
 * scripts/demo.sh): { id, file, task, title, random, size, source? } (source: the Hugging Face
 * folder it was packed from, relative to the repository).
 */
export function demoModel(task) {
  const { models } = JSON.parse(readFileSync(`${MODELS_DIR}index.json`, 'utf8'));
  const m = models.find((x) => x.task === task && !x.test);
  if (!m) throw new Error(`no demo model for ${task} in build/demo/models/index.json`);
  return m;
}

/** The random fixture packed for a task (its Hugging Face folder is `source`), offered or not. */
export function fixtureModel(task) {
  const { models } = JSON.parse(readFileSync(`${MODELS_DIR}index.json`, 'utf8'));
  const m = models.find((x) => x.task === task && x.source);
  if (!m) throw new Error(`no fixture model for ${task} in build/demo/models/index.json`);
  return m;
}

/** Why the browser tests cannot run here, or null. */
export async function skipReason() {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set EDGEBERT_CHROMIUM)`;
  try {
    await import('playwright-core');
  } catch {
    return 'npm package playwright-core is not installed (npm ci)';
  }
  for (const f of ['edgebert.mjs', 'edgebert.wasm']) {
    if (!existsSync(`${ROOT}build/wasm/wasm/${f}`)) return `build/wasm/wasm/${f} is missing (scripts/build.sh wasm)`;
  }
  const make = 'scripts/demo.sh --models-only';
  if (!existsSync(`${MODELS_DIR}index.json`)) return `build/demo/models/index.json is missing (${make})`;
  for (const task of Object.values(TASK_OF_TAB)) {
    let m;
    try {
      m = demoModel(task);
    } catch (err) {
      return `${err.message} (${make})`;
    }
    if (!existsSync(`${MODELS_DIR}${m.file}`)) return `build/demo/models/${m.file} is missing (${make})`;
  }
  return null;
}

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A fresh context and page (empty storage, own service worker) for one test; a screenshot of the
 * page goes to build/browser-failures/ when the body throws. Console errors are collected.
 */
export async function withPage(browser, name, body, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  try {
    return await body(page, context, logs);
  } catch (err) {
    mkdirSync(FAILURES_DIR, { recursive: true });
    const file = `${FAILURES_DIR}${name.replace(/[^\w.-]+/g, '_')}.png`;
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    err.message += `\n(screenshot: ${file}; page console:\n  ${logs.join('\n  ') || '(empty)'})`;
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

/** Waits for the panel's model to settle; returns 'ready' or throws with the page's error text. */
export async function waitModel(page, tab, { timeout = 60000 } = {}) {
  const sel = `#panel-${tab}`;
  await page.waitForFunction((s) => {
    const p = document.querySelector(s);
    return p && (p.dataset.model === 'ready' || p.dataset.model === 'error');
  }, sel, { timeout });
  const state = await page.getAttribute(sel, 'data-model');
  if (state !== 'ready') throw new Error(`model did not load in tab ${tab}: ${await page.textContent(`${sel} .error`)}`);
}

/** Opens a tab (by click) and waits for its model. */
export async function openTab(page, tab) {
  await page.click(`#tab-${tab}`);
  await waitModel(page, tab);
}

/** Submits the tab's form and waits for this request's result; returns {state, error, ms}. */
export async function runTab(page, tab, { timeout = 60000 } = {}) {
  const results = `#panel-${tab} .results`;
  const before = Number((await page.getAttribute(results, 'data-seq')) || 0);
  await page.click(`#panel-${tab} button[type="submit"]`);
  await page.waitForFunction(([s, n]) => Number(document.querySelector(s).dataset.seq || 0) > n, [results, before], { timeout });
  return {
    state: await page.getAttribute(results, 'data-state'),
    error: await page.textContent(`#panel-${tab} .error`),
    ms: Number(await page.getAttribute(`#panel-${tab} .timing`, 'data-ms')),
  };
}

/** What the page shows, read back from the DOM (data-* attributes carry the exact numbers). */
export const read = {
  classify: (page) => page.$$eval('#panel-classify .labels li', (lis) => lis.map((li) => ({ label: li.dataset.label, score: Number(li.dataset.score), shown: li.querySelector('.score').textContent }))),
  ner: (page) => page.evaluate(() => ({
    rows: [...document.querySelectorAll('#panel-ner .entities tbody tr')].map((tr) => ({
      label: tr.dataset.label, start: Number(tr.dataset.start), end: Number(tr.dataset.end), score: Number(tr.dataset.score), text: tr.cells[0].textContent })),
    marks: [...document.querySelectorAll('#panel-ner .highlighted mark')].map((m) => ({
      label: m.dataset.label, start: Number(m.dataset.start), end: Number(m.dataset.end), text: m.firstChild.textContent })),
  })),
  qa: (page) => page.evaluate(() => {
    const a = document.querySelector('#panel-qa .answer');
    const m = document.querySelector('#panel-qa .highlighted mark');
    return a && { start: Number(a.dataset.start), end: Number(a.dataset.end), score: Number(a.dataset.score), answer: a.querySelector('q').textContent, marked: m && m.textContent };
  }),
  search: (page) => page.$$eval('#panel-search .ranked li', (lis) => lis.map((li) => ({ index: Number(li.dataset.index), score: Number(li.dataset.score), text: li.querySelector('.passage').textContent }))),
};
