// relaxed_kernel.test.mjs: the relaxed-SIMD GEMM kernel in Chromium, which runs it (V8 lowers
// i32x4.relaxed_dot_i8x16_i7x16_add_s to vpdpbusd on AVX-VNNI machines). First random and extreme
// GEMMs against the scalar reference (eb_gemm_check), then the encoder: integer products are exact
// in both kernels, so the whole encoder must give the same bits with either: two instances of the
// single-threaded module in one page, one with the relaxed kernel and one forced to SIMD128, run
// the demo models (MiniLM with its real weights, and the three random task models) over ragged
// sequence lengths (1 token, lengths that are not multiples of the kernel's 4 columns, 200).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer } from '../../web/serve.mjs';
import { skipReason, launchBrowser, withPage } from './harness.mjs';

const reason = await skipReason();

if (reason) test('relaxed SIMD kernel in Chromium', { skip: reason }, () => {});
else describe('relaxed SIMD kernel in Chromium', () => {
  let browser;
  let server;
  before(async () => {
    const blank = mkdtempSync(join(tmpdir(), 'eb-relaxed-'));
    writeFileSync(join(blank, 'blank.html'), '<!doctype html><title>blank</title>');
    [browser, server] = await Promise.all([launchBrowser(), startServer({ port: 0, extraMounts: { '/t/': blank } })]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('same encoder outputs, bit for bit, as the SIMD128 kernel', (t) => withPage(browser, 'relaxed-kernel', async (page) => {
    await page.goto(`${server.url}t/blank.html`);
    const r = await page.evaluate(async () => {
      const { instantiateEdgebert } = await import('/worker/wasm_loader.mjs');
      const { default: factory } = await import('/build/wasm/wasm/edgebert.mjs');
      const wasm = new URL('/build/wasm/wasm/edgebert.wasm', location.href);
      const fast = await instantiateEdgebert({ factory, wasm });
      const plain = await instantiateEdgebert({ factory, wasm, relaxedSimd: false });
      // The kernel handed over precompiled (relaxedKernelModule: runtimes that cannot compile bytes).
      const relaxedKernel = await WebAssembly.compileStreaming(fetch('/worker/relaxed_kernel.wasm'));
      const given = await instantiateEdgebert({ factory, wasm, relaxedKernel });
      const out = { fast: fast.edgebertGemm, plain: plain.edgebertGemm, given: given.edgebertGemm, runs: [], differing: [] };
      if (!fast.edgebertGemm.relaxed) return out;
      // 400 random and extreme GEMMs (ragged shapes, depth 1..70 and 768..770) against the scalar
      // reference, through each instance's kernel.
      out.check = { relaxed: fast._eb_gemm_check(11, 400), simd128: plain._eb_gemm_check(11, 400) };
      const load = (M, bytes) => {
        const buf = M._eb_enc_buffer_alloc(bytes.length);
        M.HEAPU8.set(bytes, buf);
        const slot = M._eb_malloc(8);
        if (M._eb_enc_model_load(buf, bytes.length, slot) !== 0) throw new Error(M.UTF8ToString(M._eb_last_error()));
        return { model: M.HEAPU32[slot >> 2], rs: M._eb_enc_runstate_new() };
      };
      const run = (M, h, ids) => {
        const p = M._eb_malloc(4 * ids.length), outs = M._eb_malloc(20), dims = M._eb_malloc(20);
        M.HEAP32.set(ids, p >> 2);
        if (M._eb_enc_run(h.model, h.rs, 1, ids.length, p, 0, 0, outs, dims) !== 0) throw new Error(M.UTF8ToString(M._eb_last_error()));
        const [b, tt, hid] = M.HEAP32.subarray(dims >> 2, (dims >> 2) + 3);
        const at = M.HEAPU32[outs >> 2] >> 2;
        return new Uint32Array(M.HEAPF32.slice(at, at + b * tt * hid).buffer);
      };
      for (const file of ['all-MiniLM-L6-v2.ebm', 'tc_single3.ebm', 'ner_cased.ebm', 'qa.ebm']) {
        const bytes = new Uint8Array(await (await fetch(`/build/demo/models/${file}`)).arrayBuffer());
        const hf = load(fast, bytes), hp = load(plain, bytes);
        for (const seq of [1, 2, 5, 17, 64, 127, ...(file.startsWith('all-MiniLM') ? [200] : [])]) {
          const ids = Int32Array.from({ length: seq }, (_, i) => (i === 0 ? 2 : 5 + ((i * 7919) % 400)));
          const a = run(fast, hf, ids), b = run(plain, hp, ids);
          let diff = a.length === b.length ? 0 : -1;
          for (let i = 0; diff >= 0 && i < a.length; ++i) if (a[i] !== b[i]) ++diff;
          out.runs.push(`${file}@${seq}`);
          if (diff !== 0) out.differing.push(`${file}@${seq}: ${diff} values differ`);
        }
      }
      return out;
    });
    assert.equal(r.plain.relaxed, false);
    // Only the engine or the CPU may rule the kernel out; a failed GEMM check is a failure here.
    if (!r.fast.relaxed && /^(no relaxed SIMD|relaxed dot is not exact)/.test(r.fast.reason)) {
      t.skip(`this machine's Chromium cannot run the relaxed kernel: ${r.fast.reason}`);
      return;
    }
    assert.equal(r.fast.relaxed, true, r.fast.reason);
    assert.equal(r.given.relaxed, true, r.given.reason);
    assert.deepEqual(r.check, { relaxed: 0, simd128: 0 });
    assert.equal(r.runs.length, 25);
    assert.deepEqual(r.differing, []);
  }));

  // The pthreads build runs the relaxed kernel too (each worker wires it: wasm/relaxed_pthread_prejs.js),
  // and splitting the GEMM's rows across threads changes no integer sum: the same bits as one thread.
  test('the pthreads build runs the relaxed kernel on every thread: same outputs as one thread', (t) => withPage(browser, 'relaxed-threads', async (page) => {
    const isolated = await startServer({ port: 0, isolated: true });
    try {
      await page.goto(`${isolated.url}web/?autoload=0`);
      const r = await page.evaluate(async () => {
        const { pipeline, getBuildInfo } = await import('/worker/index.mjs');
        const one = await getBuildInfo({ threads: 1 }), two = await getBuildInfo({ threads: 2 });
        const out = { one, two, differing: [], runs: 0 };
        if (!two.relaxed_simd) return out;
        const words = 'the quick brown fox jumps over a lazy dog while people watch from the old bridge'.split(' ');
        const text = (n) => Array.from({ length: n }, (_, i) => words[(i * 7) % words.length]).join(' ');
        const pipes = await Promise.all([1, 2].map((threads) =>
          pipeline('feature-extraction', '/build/demo/models/all-MiniLM-L6-v2.ebm', { threads })));
        for (const n of [1, 3, 14, 61, 200]) {
          const [a, b] = await Promise.all(pipes.map((p) => p(text(n))));
          out.runs++;
          const x = new Uint32Array(Float32Array.from(a.data).buffer), y = new Uint32Array(Float32Array.from(b.data).buffer);
          let diff = x.length === y.length ? 0 : -1;
          for (let i = 0; diff >= 0 && i < x.length; ++i) if (x[i] !== y[i]) ++diff;
          if (diff !== 0) out.differing.push(`${n} words: ${diff} values differ`);
        }
        await Promise.all(pipes.map((p) => p.dispose()));
        return out;
      });
      if (!r.one.relaxed_simd) {
        t.skip(`this machine's Chromium does not run the relaxed kernel: ${r.one.gemmReason}`);
        return;
      }
      assert.equal(r.two.build, 'simd128-pthreads');
      assert.equal(r.two.relaxed_simd, true, r.two.gemmReason);
      assert.equal(r.runs, 5);
      assert.deepEqual(r.differing, []);
    } finally {
      await isolated.close();
    }
  }));
});
