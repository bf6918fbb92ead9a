#!/usr/bin/env node
// screenshots.mjs: the committed pictures of the demo page (docs/screenshots/): each task after a
// request, at desktop width and at phone width (375 px), served cross-origin isolated.
//
//   scripts/demo.sh --models-only && node tests/browser/screenshots.mjs [out_dir]
import { mkdirSync } from 'node:fs';

import { startServer } from '../../web/serve.mjs';
import { ROOT, skipReason, launchBrowser, waitModel, runTab } from './harness.mjs';

const out = process.argv[2] || `${ROOT}docs/screenshots/`;
const reason = await skipReason();
if (reason) {
  console.error(`screenshots: cannot run: ${reason}`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, isolated: true })]);
try {
  for (const [size, viewport] of [['desktop', { width: 1024, height: 860 }], ['phone', { width: 375, height: 812 }]]) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, isMobile: size === 'phone', hasTouch: size === 'phone', colorScheme: 'light' });
    const page = await context.newPage();
    await page.goto(`${server.url}web/`);
    for (const tab of ['classify', 'ner', 'qa', 'search']) {
      await page.click(`#tab-${tab}`);
      await waitModel(page, tab);
      const r = await runTab(page, tab);
      if (r.state !== 'done') throw new Error(`${tab}: ${r.error}`);
      // The results are what the picture is about: scroll them into view on a phone.
      if (size === 'phone') await page.locator(`#panel-${tab} .results`).scrollIntoViewIfNeeded();
      else await page.evaluate(() => window.scrollTo(0, 0));
      await page.mouse.move(0, 0);
      const file = `${out}${tab}-${size}.png`;
      await page.screenshot({ path: file, fullPage: size === 'desktop' });
      console.log(`screenshots: ${file}`);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
