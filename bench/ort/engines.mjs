// engines.mjs: the full-model comparison itself, with no Node or browser APIs, so that compare.mjs
// (Node) and browser_page.mjs (Chromium) run exactly the same code. The caller hands in the loaded
// onnxruntime-web module, the instantiated edgebert module and the two models' bytes.

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// Deterministic token ids: [CLS] ... [SEP] with a spread of vocabulary ids in between.
export const idsFor = (seq, salt = 0) =>
  Array.from({ length: seq }, (_, i) => (i === 0 ? 101 : i === seq - 1 ? 102 : 1000 + ((i * 7919 + salt * 104729) % 28000)));

/** One thread, SIMD, no proxy worker: the configuration the comparison is about. */
export function configureOrt(ort) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
}

// Opens a session; returns its load time, run() (times one inference) and hidden(ids).
export async function openOrt(ort, onnxBytes, seq) {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const loadMs = performance.now() - t0;
  const feedsFor = (ids) => ({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  });
  const feeds = feedsFor(idsFor(seq));
  return {
    loadMs,
    async run() {
      const t = performance.now();
      await session.run(feeds);
      return performance.now() - t;
    },
    async hidden(ids) {
      const out = await session.run(feedsFor(ids));
      return Float32Array.from(out.last_hidden_state.data);
    },
    close: () => session.release(),
  };
}

// Binds the packed model in place (eb_enc_* exports); the same shape of object as openOrt.
export function openEdgebert(M, packed, seq) {
  const check = (rc, what) => { if (rc !== 0) throw new Error(`${what}: status ${rc}: ${M.UTF8ToString(M._eb_last_error())}`); };
  const t0 = performance.now();
  const buf = M._eb_enc_buffer_alloc(packed.length);
  M.HEAPU8.set(packed, buf);
  const slot = M._eb_malloc(8);
  check(M._eb_enc_model_load(buf, packed.length, slot), 'load');
  const model = M.HEAPU32[slot >> 2];
  const loadMs = performance.now() - t0;
  const ids = M._eb_malloc(4 * seq);
  M.HEAP32.set(Int32Array.from(idsFor(seq)), ids >> 2);
  const outs = M._eb_malloc(4 * 5), dims = M._eb_malloc(4 * 5);
  const rs = M._eb_enc_runstate_new();
  return {
    loadMs,
    async run() {
      const t = performance.now();
      check(M._eb_enc_run(model, rs, 1, seq, ids, 0, 0, outs, dims), 'run');
      return performance.now() - t;
    },
    async hidden(tokenIds) {
      const p = M._eb_malloc(4 * tokenIds.length);
      try {
        M.HEAP32.set(Int32Array.from(tokenIds), p >> 2);
        check(M._eb_enc_run(model, rs, 1, tokenIds.length, p, 0, 0, outs, dims), 'run');
        const [b, t, h] = M.HEAP32.subarray(dims >> 2, (dims >> 2) + 3);
        const at = M.HEAPU32[outs >> 2] >> 2;
        return M.HEAPF32.slice(at, at + b * t * h);
      } finally {
        M._eb_free(p);
      }
    },
    close() {
      M._eb_enc_runstate_free(rs);
      M._eb_enc_model_free(model);
      M._eb_enc_buffer_free(buf);
      for (const p of [slot, ids, outs, dims]) M._eb_free(p);
    },
  };
}

// Per-token cosine similarities of two (seq, hidden) outputs.
function tokenCosines(a, b, hidden) {
  const out = [];
  for (let t = 0; t < a.length / hidden; ++t) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = t * hidden; j < (t + 1) * hidden; ++j) { ab += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; }
    out.push(ab / Math.sqrt(aa * bb));
  }
  return out;
}

/**
 * Equal work: both engines' last_hidden_state on a few inputs, against each other and (when the fp32
 * ONNX export is given) against the unquantized model run by ORT. Returns min / mean per-token cosine.
 */
export async function checkSameOutputs(ort, M, onnxBytes, packed, fp32Bytes, { inputs = 3, seq = 32, hidden = 768 } = {}) {
  const o = await openOrt(ort, onnxBytes, seq);
  const e = openEdgebert(M, packed, seq);
  const f = fp32Bytes ? await openOrt(ort, fp32Bytes, seq) : null;
  const pairs = { edgebert_vs_ort: [], edgebert_vs_fp32: [], ort_vs_fp32: [] };
  try {
    for (let s = 1; s <= inputs; ++s) {
      const ids = idsFor(seq, s);
      const [ho, he] = [await o.hidden(ids), await e.hidden(ids)];
      pairs.edgebert_vs_ort.push(...tokenCosines(he, ho, hidden));
      if (f) {
        const hf = await f.hidden(ids);
        pairs.edgebert_vs_fp32.push(...tokenCosines(he, hf, hidden));
        pairs.ort_vs_fp32.push(...tokenCosines(ho, hf, hidden));
      }
    }
  } finally {
    await o.close();
    e.close();
    if (f) await f.close();
  }
  const summary = {};
  for (const [k, v] of Object.entries(pairs)) {
    if (v.length) summary[k] = { min: Math.min(...v), mean: v.reduce((x, y) => x + y, 0) / v.length, tokens: v.length };
  }
  return summary;
}

/**
 * Per sequence length: each engine's model loaded anew, its first run after load ("first"), then
 * `runs` steady runs alternating ORT, edgebert, ORT, ... so that both see the same machine load.
 * `log(line)` gets the table as it is made.
 */
export async function compare(ort, M, onnxBytes, packed, { seqs, runs, log = () => {} }) {
  log('seq | ORT load | ORT first | ORT steady | edgebert load | edgebert first | edgebert steady | steady ratio | median pair ratio | first ratio');
  const rows = [];
  for (const seq of seqs) {
    const o = await openOrt(ort, onnxBytes, seq);
    const oFirst = await o.run();
    const e = openEdgebert(M, packed, seq);
    const eFirst = await e.run();
    const ot = [], et = [];
    for (let r = 0; r < runs; ++r) {
      ot.push(await o.run());
      et.push(await e.run());
    }
    await o.close();
    e.close();
    const ortRes = { loadMs: o.loadMs, firstMs: oFirst, steadyMs: median(ot) };
    const ebRes = { loadMs: e.loadMs, firstMs: eFirst, steadyMs: median(et) };
    const row = { seq, ort: ortRes, edgebert: ebRes,
      steadyRatio: ebRes.steadyMs / ortRes.steadyMs, firstRatio: ebRes.firstMs / ortRes.firstMs,
      pairRatio: median(et.map((t, i) => t / ot[i])) };
    rows.push(row);
    const f = (x) => x.toFixed(1).padStart(7);
    log(`${String(seq).padStart(3)} | ${f(ortRes.loadMs)} | ${f(ortRes.firstMs)} | ${f(ortRes.steadyMs)} | ` +
        `${f(ebRes.loadMs)} | ${f(ebRes.firstMs)} | ${f(ebRes.steadyMs)} | ${row.steadyRatio.toFixed(2)}x | ` +
        `${row.pairRatio.toFixed(2)}x | ${row.firstRatio.toFixed(2)}x`);
  }
  return rows;
}
