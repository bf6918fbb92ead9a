#!/usr/bin/env node
// overhead.mjs: how much of a short text-classification request is spent outside the encoder
// (tokenizer, head and post-processing, JSON, worker messaging), in headless Chromium. In one page,
// in interleaved rounds: the JS API's pipeline call (in its Web Worker, as users run it) and the
// bare encoder forward (eb_enc_run, the same .ebm and the same token ids, on a second instance of
// the same single-thread build in the page). outside = 1 - encoder / pipeline, per round; the
// median is reported, with both medians.
//
// Timing: performance.now() in a page that is not cross-origin isolated is coarsened to 0.1 ms
// (Chromium), as large as the share being measured at 16 tokens; so the page is served
// cross-origin isolated by default (5 us; the pipeline still runs the single-thread build, threads:
// 1), and --calls N times N calls of each kind back to back per round (default 1: each call as
// cold as a single call after the other side ran). The resolution seen in the page is printed.
//
//   node bench/overhead/overhead.mjs [--model build/demo/models/sentiment-minilm-l3.ebm] [--tokens 16,128] [--rounds 200]
//                                    [--calls 1] [--not-isolated] [--json out.json]
//
// Needs the wasm build and Debian's chromium (driven by npm playwright-core, as the browser tests).
import { writeFileSync } from 'node:fs';

import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const model = opt('model', 'models/sentiment-minilm-l3/model.ebm');
const tokens = opt('tokens', '16,128').split(',').map(Number);
const rounds = Number(opt('rounds', '200'));
const calls = Number(opt('calls', '1'));
const isolated = !args.includes('--not-isolated');
const jsonOut = opt('json', null);

const [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, isolated, extraMounts: { '/m/': process.cwd() } })]);
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}web/?autoload=0`);
  const result = await page.evaluate(async ({ model, tokens, rounds, calls }) => {
    const { pipeline, tokenizer, getBuildInfo } = await import('/worker/index.mjs');
    const { instantiateEdgebert } = await import('/worker/wasm_loader.mjs');
    const { default: factory } = await import('/build/wasm/wasm/edgebert.mjs');
    const url = `/m/${model}`;
    const clf = await pipeline('text-classification', url, { threads: 1 });
    const tok = await tokenizer(url, { threads: 1 });
    const M = await instantiateEdgebert({ factory, wasm: new URL('/build/wasm/wasm/edgebert.wasm', location.href) });
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const buf = M._eb_enc_buffer_alloc(bytes.length);
    M.HEAPU8.set(bytes, buf);
    const slot = M._eb_malloc(8);
    if (M._eb_enc_model_load(buf, bytes.length, slot) !== 0) throw new Error(M.UTF8ToString(M._eb_last_error()));
    const handle = M.HEAPU32[slot >> 2], rs = M._eb_enc_runstate_new();
    const words = 'the film was a quiet delight with warm performances and a story that kept me watching until the end'.split(' ');
    // The smallest step performance.now() takes here.
    let resolution = Infinity;
    for (let i = 0, last = performance.now(); i < 200000 && resolution > 0.001; i++) {
      const t = performance.now();
      if (t > last) { resolution = Math.min(resolution, t - last); last = t; }
    }
    const out = { build: await getBuildInfo({ threads: 1 }), gemm: M.edgebertGemm, isolated: crossOriginIsolated, resolution, sizes: [] };
    const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
    for (const target of tokens) {
      // A text of exactly `target` tokens with [CLS] and [SEP].
      let n = target, text, ids;
      for (;;) {
        text = Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');
        ids = (await tok(text)).input_ids;
        if (ids.length === target || n <= 1) break;
        n += ids.length < target ? 1 : -1;
      }
      const p = M._eb_malloc(4 * ids.length), outs = M._eb_malloc(20), dims = M._eb_malloc(20);
      M.HEAP32.set(ids, p >> 2);
      const encoder = () => {
        if (M._eb_enc_run(handle, rs, 1, ids.length, p, 0, 0, outs, dims) !== 0) throw new Error(M.UTF8ToString(M._eb_last_error()));
      };
      for (let w = 0; w < 20; w++) { await clf(text); encoder(); }
      const tp = [], te = [], tt = [], frac = [];
      for (let r = 0; r < rounds; r++) {
        let s = performance.now();
        for (let c = 0; c < calls; c++) await clf(text);
        const a = (performance.now() - s) / calls;
        s = performance.now();
        for (let c = 0; c < calls; c++) encoder();
        const b = (performance.now() - s) / calls;
        s = performance.now();
        for (let c = 0; c < calls; c++) await tok(text);  // the same trip to the worker and the tokenizer, no encoder
        tt.push((performance.now() - s) / calls);
        tp.push(a); te.push(b); frac.push(1 - b / a);
      }
      M._eb_free(p);
      out.sizes.push({ tokens: ids.length, pipeline_ms: med(tp), encoder_ms: med(te), tokenize_call_ms: med(tt), outside: med(frac) });
    }
    await clf.dispose();
    await tok.dispose();
    return out;
  }, { model, tokens, rounds, calls });
  console.log(`build: ${result.build.build}, ${result.build.gemm_kernel}; encoder instance: ${result.gemm.reason}`);
  console.log(`page ${result.isolated ? '' : 'not '}cross-origin isolated: performance.now() steps of ${(1000 * result.resolution).toFixed(1)} us; ` +
    `${rounds} rounds of ${calls} call${calls === 1 ? '' : 's'} of each kind`);
  console.log('| tokens | pipeline call (median ms) | encoder forward (median ms) | tokenizer call through the worker (median ms) | outside the encoder (median of per-round shares) |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const s of result.sizes) {
    console.log(`| ${s.tokens} | ${s.pipeline_ms.toFixed(2)} | ${s.encoder_ms.toFixed(2)} | ${s.tokenize_call_ms.toFixed(2)} | ${(100 * s.outside).toFixed(1)}% |`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ model, rounds, calls, ...result }, null, 2));
} finally {
  await browser.close();
  await server.close();
}
