// parity.test.mjs: the JS API gives what Hugging Face's pipelines give, on the same fixture cases
// and checkpoints as the C++ parity test (tests/engine_parity_test.cc): the checkpoints of
// tests/fixtures/pipelines/models/ loaded with quantization 'fp32' (the exact path) in a worker,
// every text-classification, token-classification, question-answering and fill-mask case sent
// through pipeline(), results compared with the recorded pipeline outputs: same labels, entity
// groups, words, answers and spans (the fixtures' code-point offsets turned into the UTF-16 offsets
// the API returns), scores within 1e-4 (fp32 vs PyTorch summation order; the C++ test measures
// < 1e-6).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { createRuntime, getBuildInfo, pipeline } from '../../worker/index.mjs';

const FIXTURES = new URL('../fixtures/pipelines/', import.meta.url);
const SCORE_TOL = 1e-4;

async function skipReason() {
  if (!existsSync(new URL('../../build/wasm/wasm/edgebert.mjs', import.meta.url))) return 'build/wasm not built';
  if (!existsSync(new URL('models/manifest.json', FIXTURES))) return 'tests/fixtures/pipelines/models/ missing';
  const info = await getBuildInfo({ device: 'inline' });
  if (!info.abi) return 'engine ABI not built';
  return null;
}

const json = async (name) => JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8'));
const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const camelOptions = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));
// Python str index (code points) -> JS string index (UTF-16 code units).
const utf16 = (text, cp) => [...text].slice(0, cp).join('').length;

function sameScore(got, expected, at) {
  assert.ok(Math.abs(got - expected) <= SCORE_TOL, `${at}: score ${got} vs ${expected}`);
}

const reason = await skipReason();
if (reason) test('JS API parity with the pipelines', { skip: reason }, () => {});
else describe('JS API parity with the Hugging Face pipelines (fp32)', () => {
  let runtime;
  let manifest;
  const pipes = new Map();
  async function pipe(task, checkpoint) {
    const key = `${task}/${checkpoint}`;
    if (!pipes.has(key)) {
      const files = {};
      for (const [name, rel] of Object.entries(manifest[checkpoint])) files[name] = await readFile(new URL(`models/${rel}`, FIXTURES));
      pipes.set(key, await pipeline(task, { files }, { runtime, quantization: 'fp32' }));
    }
    return pipes.get(key);
  }
  before(async () => {
    manifest = await json('models/manifest.json');
    runtime = await createRuntime({ device: 'worker' });
  });
  after(async () => {
    for (const p of pipes.values()) await p.dispose();
    await runtime?.close();
  });

  test('text-classification: every case and run', async () => {
    const fx = await json('text_classification.json');
    let n = 0;
    for (const c of fx.cases) {
      if (c.batch) continue;  // the same texts one by one are covered by the C++ test
      const clf = await pipe('text-classification', c.checkpoint);
      const text = typeof c.input === 'string' ? c.input : c.input.text;
      const pair = typeof c.input === 'string' ? {} : { textPair: c.input.text_pair };
      for (const run of c.runs) {
        if (run.options.return_all_scores) continue;  // legacy transformers option, not in the API
        const got = [await clf(text, { ...camelOptions(run.options), ...pair })].flat();
        const expected = [run.expected].flat();
        assert.equal(got.length, expected.length, JSON.stringify(run.options));
        expected.forEach((e, i) => {
          assert.equal(got[i].label, e.label, `${c.checkpoint} ${JSON.stringify(c.input)} ${JSON.stringify(run.options)}`);
          sameScore(got[i].score, e.score, e.label);
        });
        ++n;
      }
    }
    assert.ok(n >= 80, `only ${n} runs compared`);
  });

  test('token-classification: all five strategies, multilingual, windows', async () => {
    const fx = await json('token_classification.json');
    let n = 0;
    for (const c of fx.cases) {
      const ner = await pipe('token-classification', c.checkpoint);
      for (const run of c.runs) {
        const opts = camelOptions(run.options);
        if (c.overlong) opts.truncation = true;  // what the pipeline did silently
        const got = await ner(c.text, opts);
        assert.equal(got.length, run.expected.length, `${c.text.slice(0, 40)} ${JSON.stringify(run.options)}`);
        run.expected.forEach((e, i) => {
          const g = got[i];
          const at = `${c.text.slice(0, 30)} ${JSON.stringify(run.options)} [${i}]`;
          assert.equal(g.entity ?? g.entity_group, e.entity ?? e.entity_group, at);
          assert.equal(g.word, e.word, at);
          assert.equal(g.start, utf16(c.text, e.start), at);
          assert.equal(g.end, utf16(c.text, e.end), at);
          assert.equal(c.text.slice(g.start, g.end), [...c.text].slice(e.start, e.end).join(''), at);
          sameScore(g.score, e.score, at);
        });
        ++n;
      }
    }
    assert.ok(n >= 100, `only ${n} runs compared`);
  });

  test('question-answering: windows, null answers, top_k, answers as slices of the context', async () => {
    const fx = await json('question_answering.json');
    let n = 0;
    for (const c of fx.cases) {
      const qa = await pipe('question-answering', c.checkpoint);
      const got = [await qa(c.question, c.context, camelOptions(c.options))].flat();
      const expected = [c.expected].flat();
      assert.equal(got.length, expected.length, c.name);
      expected.forEach((e, i) => {
        const at = `${c.name} [${i}]`;
        assert.equal(got[i].answer, e.answer, at);
        assert.equal(got[i].start, utf16(c.context, e.start), at);
        assert.equal(got[i].end, utf16(c.context, e.end), at);
        assert.equal(c.context.slice(got[i].start, got[i].end), got[i].answer, at);
        sameScore(got[i].score, e.score, at);
      });
      ++n;
    }
    assert.ok(n >= 15, `only ${n} cases compared`);
  });

  test('fill-mask: tokens, scores and sequences', async () => {
    const fx = await json('fill_mask.json');
    const fm = await pipe('fill-mask', fx.checkpoint);
    for (const c of fx.cases) {
      const opts = camelOptions(c.options);
      const got = await fm(c.text, opts);
      const norm = (r) => (r.length > 0 && !Array.isArray(r[0]) ? [r] : r);
      const g = norm(got), e = norm(c.expected);
      assert.equal(g.length, e.length, c.text);
      e.forEach((cands, m) => cands.forEach((x, i) => {
        const at = `${c.text} mask ${m} [${i}]`;
        assert.equal(g[m][i].token, x.token, at);
        assert.equal(g[m][i].token_str ?? g[m][i].tokenStr, x.token_str, at);
        assert.equal(g[m][i].sequence, x.sequence, at);
        sameScore(g[m][i].score, x.score, at);
      }));
    }
  });
});
