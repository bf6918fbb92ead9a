#!/usr/bin/env node
// browser.mjs: what the conversion cache saves, in headless Chromium through the JS API (its Web
// Worker, single-thread build): a DistilBERT-base checkpoint served as a Hugging Face repository
// (web/serve.mjs --hf-dir layout, no ETags, so the files' sha256 keys the converted model) loaded
// twice in a fresh browser profile: the first load downloads, hashes, converts and stores; the
// second reads the packed model from Cache Storage. For scale, the same model packed beforehand
// (model.ebm) loaded by URL, downloaded and then from the cache. Answers are checked equal.
//
//   node bench/conversion/browser.mjs [--rounds 3] [--model build/tjs/models/distilbert-base-seqcls] [--json out.json]
// The folder needs config.json, model.safetensors, tokenizer files and model.ebm (bench/tjs/run.sh
// makes build/tjs/models/distilbert-base-seqcls).
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const flag = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const ROUNDS = Number(flag('--rounds', '3'));
const MODEL = resolve(ROOT, flag('--model', 'build/tjs/models/distilbert-base-seqcls'));
const JSON_OUT = flag('--json', null);
if (!existsSync(`${MODEL}/model.safetensors`) || !existsSync(`${MODEL}/model.ebm`)) {
  console.error(`${MODEL} needs model.safetensors and model.ebm: run bench/tjs/run.sh (or make_models.py + edgebert convert)`);
  process.exit(2);
}
const name = basename(MODEL);
const server = await startServer({ port: 0, isolated: false, hfDir: dirname(MODEL), extraMounts: { '/ebm/': MODEL } });
const rounds = [];
const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
let chromium;
try {
  for (let r = 0; r < ROUNDS; r++) {
    const browser = await launchBrowser();  // a fresh profile: empty Cache Storage
    chromium = browser.version();
    try {
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error('page:', e.message));
      await page.goto(`${server.url}web/?autoload=0`);
      const out = await page.evaluate(async ({ name }) => {
        const api = await import('/worker/index.mjs');
        const text = 'the little cafe at the corner of the square opened early on saturday';
        const time = async (source) => {
          const t0 = performance.now();
          const p = await api.pipeline('text-classification', source, { threads: 1 });
          const ms = performance.now() - t0;
          const answer = await p(text, { topK: null });
          const { conversion, conversionMs, files } = p.info;
          await p.dispose();
          return { ms, conversion, conversionMs, files: files.map((f) => `${f.name}${f.cached ? ' (cached)' : ''}`), answer };
        };
        await api.getBuildInfo({ threads: 1 });  // the runtime starts before the timings
        const repo = { repo: `bench/${name}`, revision: 'main', baseUrl: `${location.origin}/hf` };
        const first = await time(repo);
        const second = await time(repo);
        const ebmUrl = `${location.origin}/ebm/model.ebm`;
        const ebmFirst = await time(ebmUrl);
        const ebmSecond = await time(ebmUrl);
        return { first, second, ebmFirst, ebmSecond };
      }, { name });
      const same = JSON.stringify(out.first.answer) === JSON.stringify(out.second.answer)
        && JSON.stringify(out.first.answer) === JSON.stringify(out.ebmSecond.answer);
      rounds.push({ ...out, same });
      console.error(`round ${r + 1}: checkpoint first ${out.first.ms.toFixed(0)} ms (${out.first.conversion}, engine ${out.first.conversionMs?.toFixed(0)} ms), ` +
        `second ${out.second.ms.toFixed(0)} ms (${out.second.conversion}); model.ebm first ${out.ebmFirst.ms.toFixed(0)} ms, second ${out.ebmSecond.ms.toFixed(0)} ms; answers equal: ${same}`);
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const m = (f) => median(rounds.map(f));
console.log(`Chromium ${chromium}, ${name}, ${ROUNDS} fresh profiles, load average before ${loadBefore}; pipeline() to ready, ms (median; min-max)`);
console.log('| load | ms | of which conversion in the engine | files read |');
console.log('|---|---:|---:|---|');
const row = (label, f, conv) => {
  const xs = rounds.map(f);
  console.log(`| ${label} | ${m(f).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}) | ${conv} |`);
};
row('checkpoint, first load (download, sha256, convert, store)', (x) => x.first.ms, `${m((x) => x.first.conversionMs).toFixed(0)} | ${rounds[0].first.files.join(', ')}`);
row('checkpoint, second load (converted model from Cache Storage)', (x) => x.second.ms, `- | ${rounds[0].second.files.join(', ')}`);
row('model.ebm by URL, first load (download)', (x) => x.ebmFirst.ms, '- | model.ebm');
row('model.ebm by URL, second load (Cache Storage)', (x) => x.ebmSecond.ms, '- | model.ebm (cached)');
console.log(`answers equal in every round: ${rounds.every((x) => x.same)}`);
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ chromium, model: name, loadBefore, rounds }, null, 1));
