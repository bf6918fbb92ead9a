// browser.mjs: the full-model comparison (engines.mjs) in headless Chromium, the environment the
// library is for: both engines in one page, one thread each (ORT's numThreads 1, edgebert's
// single-threaded build). Serves the repository with web/serve.mjs (cross-origin isolated, as ORT's
// threaded wasm build wants), drives Debian's Chromium with playwright-core.
//
//   node bench/ort/browser.mjs [--seq 16,128,384] [--runs 10] [--no-check] [--json]
// Needs what run.sh prepares (bench/models/distilbert-base/{model.ebm,onnx/}, build/wasm).
import { fileURLToPath } from 'node:url';
import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const query = new URLSearchParams({ seq: opt('--seq', '16,128,384'), runs: opt('--runs', '10'),
  check: args.includes('--no-check') ? '0' : '1' });

const server = await startServer({ port: 0, isolated: true,
  extraMounts: { '/bench/': fileURLToPath(new URL('..', import.meta.url)) } });
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
  await page.goto(`${server.url}bench/ort/browser.html?${query}`);
  await page.waitForFunction(() => window.__bench, null, { timeout: 20 * 60 * 1000, polling: 500 });
  const result = await page.evaluate(() => window.__bench);
  if (result.error) process.exitCode = 1;
  if (args.includes('--json')) console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await server.close();
}
