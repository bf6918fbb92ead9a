// expected.mjs: what each tab must show, computed by running the same demo model with the same
// input and options through the public JS API in Node (the single-thread build in a worker_threads
// Worker), and the comparisons between the page's numbers and those.
import assert from 'node:assert/strict';
import { pipeline, closeSharedRuntimes } from '../../worker/index.mjs';
import { MODELS_DIR, TASK_OF_TAB, demoModel } from './harness.mjs';

// The page's single-thread build is the very wasm Node runs: its scores must be bitwise equal.
// The threaded build against Node's single-thread build: int8 GEMMs accumulate in int32 (exact
// whatever the split between threads), but float32 sums (softmax, LayerNorm, mean pooling) may be
// split differently once the engine spreads them over threads; 1e-5 is ~100 float32 ulps at 1.0,
// far below any difference that would change a ranking. (Measured today: bitwise equal too.)
export const SCORE_TOL_THREADS = 1e-5;
let tolerance = 0;
/** Which build the page runs: 'simd128-single-thread' (exact) or 'simd128-pthreads'. */
export function expectBuild(build) {
  tolerance = build === 'simd128-pthreads' ? SCORE_TOL_THREADS : 0;
}


export class NodeReference {
  constructor() { this.pipes = new Map(); }

  async pipe(tab) {
    if (!this.pipes.has(tab)) {
      const task = TASK_OF_TAB[tab];
      this.pipes.set(tab, pipeline(task, `${MODELS_DIR}${demoModel(task).file}`, { cache: false }));
    }
    return this.pipes.get(tab);
  }

  async close() {
    for (const p of this.pipes.values()) await (await p).dispose().catch(() => {});
    await closeSharedRuntimes();
  }

  // The same calls app.mjs makes (see RENDER there).
  async classify(text) {
    return (await this.pipe('classify'))(text, { topK: null, truncation: true });
  }

  async ner(text, aggregationStrategy = 'simple') {
    const p = await this.pipe('ner');
    const opts = { aggregationStrategy };
    if (aggregationStrategy !== 'none') opts.stride = Math.max(0, Math.min(128, Math.floor((p.info.model.max_position_embeddings - 2) / 4)));
    return (await p(text, opts)).map((e) => ({ label: e.entity_group || e.entity, start: e.start, end: e.end, score: e.score }));
  }

  async qa(question, context) {
    return (await this.pipe('qa'))(question, context);
  }

  async search(query, passagesText) {
    const passages = passagesText.split('\n').map((s) => s.trim()).filter(Boolean);
    const [q, ...ps] = await (await this.pipe('search'))([query, ...passages]);
    const cos = (a, b) => {
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
      return d / Math.sqrt(na * nb);
    };
    return ps.map((p, i) => ({ index: i, text: passages[i], score: cos(q.data, p.data) })).sort((a, b) => b.score - a.score);
  }
}

export function assertClose(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: page ${actual}, Node ${expected} (tolerance ${tolerance})`);
}

/** Compares the page's classify/ner/qa/search readings with Node's results. */
export const compare = {
  classify(shown, want) {
    assert.deepEqual(shown.map((r) => r.label), want.map((r) => r.label), 'labels in score order');
    shown.forEach((r, i) => assertClose(r.score, want[i].score, `score of ${r.label}`));
    shown.forEach((r) => assert.equal(r.shown, r.score.toFixed(4)));
  },
  ner(shown, want, text) {
    assert.ok(want.length > 0, 'the reference found entities (else the comparison proves nothing)');
    assert.deepEqual(shown.rows.map(({ label, start, end }) => ({ label, start, end })), want.map(({ label, start, end }) => ({ label, start, end })));
    shown.rows.forEach((r, i) => {
      assertClose(r.score, want[i].score, `entity ${i}`);
      assert.equal(r.text, text.slice(r.start, r.end));
    });
    // Every entity is highlighted in the text at its UTF-16 offsets, with its label.
    assert.deepEqual(shown.marks.map(({ label, start, end }) => ({ label, start, end })),
      [...want].sort((a, b) => a.start - b.start).map(({ label, start, end }) => ({ label, start, end })));
    for (const m of shown.marks) assert.equal(m.text, text.slice(m.start, m.end));
  },
  qa(shown, want, context) {
    assert.ok(shown, 'an answer is shown');
    assert.equal(shown.start, want.start);
    assert.equal(shown.end, want.end);
    assertClose(shown.score, want.score, 'answer score');
    assert.equal(shown.answer, want.answer);
    assert.equal(shown.marked, context.slice(want.start, want.end), 'the highlighted span is the answer');
  },
  search(shown, want) {
    assert.deepEqual(shown.map((r) => r.index), want.map((r) => r.index), 'ranking');
    shown.forEach((r, i) => {
      assertClose(r.score, want[i].score, `cosine of passage ${r.index}`);
      assert.equal(r.text, want[i].text);
    });
  },
};
