// session.mjs: one engine's session of the race, the same code in the Chromium page (page.mjs) and
// in Node (node.mjs): for every model of the plan, load it (to ready), time the first answer, then
// per input a warm-up and the steady calls. Answers are normalised to one shape for both engines
// so that the driver can check they did the same work.
//
// The calls are each library's own pipeline API, as a user writes them:
//   edgebert           clf(text); ner(text, {aggregationStrategy: 'simple'}); qa(question, context)
//                      (its windows: max_seq_len 384, doc_stride 128); embed(sentences) (sentence-embeddings)
//   transformers.js    clf(text); ner(text, {aggregation_strategy: 'simple'}); qa([q, q, ...], windows)
//                      (it has no windows: it truncates at model_max_length, so it gets the same windows
//                      as a batch, plan.inputs.qa.windows, and the best one is kept);
//                      fe(sentences, {pooling: 'mean', normalize: true})

/**
 * @param {object} o
 * @param {string} o.engine 'edgebert', or 'tjs...' (transformers.js in some configuration)
 * @param {object} o.plan build/tjs/plan.json
 * @param {(model: {name: string, task: string}) => Promise<Function>} o.make the pipeline
 * @param {(p: Function, text: string) => Promise<number>} [o.tokens] the engine's own token count of a text
 * @param {() => number} o.now milliseconds
 * @param {(line: string) => void} [o.log]
 */
export async function runSession({ engine, plan, make, tokens, now, log = () => {} }) {
  const models = [];
  for (const m of plan.models) {
    const t0 = now();
    const p = await make(m);
    const row = { name: m.name, task: m.task, loadMs: now() - t0, inputs: [] };
    const inputs = callsFor(engine, m.task, plan.inputs, p);
    // The first answer after the pipeline is ready: the first input (128 tokens for classification).
    const t1 = now();
    await inputs[0].call();
    row.firstMs = now() - t1;
    row.firstSinceStart = now();
    for (const input of inputs) {
      for (let i = 0; i < plan.warmup[m.task]; i++) await input.call();
      const ms = [];
      let answer;
      for (let i = 0; i < plan.runs[m.task]; i++) {
        const t = now();
        const out = await input.call();
        ms.push(now() - t);
        if (i === 0) answer = input.normalize(out);
      }
      const r = { input: input.name, ms, median: median(ms), answer };
      if (tokens && input.text !== undefined) r.tokens = await tokens(p, input.text);
      row.inputs.push(r);
    }
    log(`${engine} ${m.name}: load ${row.loadMs.toFixed(0)} ms, first ${row.firstMs.toFixed(1)} ms, ` +
      row.inputs.map((r) => `${r.input} ${r.median.toFixed(1)} ms`).join(', '));
    if (typeof p.dispose === 'function') await p.dispose();
    models.push(row);
  }
  return { engine, models };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function callsFor(engine, task, inputs, p) {
  const tjs = engine.startsWith('tjs');
  switch (task) {
    case 'text-classification':
      return [128, 16, 384].map((n) => ({
        name: `${n} tokens`, text: inputs.classify[n], call: () => p(inputs.classify[n]),
        normalize: (out) => out.map(({ label, score }) => ({ label, score })),
      }));
    case 'token-classification':
      return [{
        name: `${inputs.ner.tokens} tokens, simple`, text: inputs.ner.text,
        call: () => (tjs ? p(inputs.ner.text, { aggregation_strategy: 'simple' }) : p(inputs.ner.text, { aggregationStrategy: 'simple' })),
        normalize: (out) => out.map(({ entity_group, score, word }) => ({ entity_group, score, word })),
      }];
    case 'question-answering': {
      const { question, context, windows } = inputs.qa;
      return [{
        name: `${inputs.qa.contextTokens}-token context, ${windows.length} windows`,
        call: () => (tjs ? p(windows.map(() => question), windows) : p(question, context)),
        normalize: (out) => {
          const best = Array.isArray(out) ? out.reduce((a, b) => (b.score > a.score ? b : a)) : out;
          return { answer: best.answer, score: best.score, window: Array.isArray(out) ? out.indexOf(best) : undefined };
        },
      }];
    }
    case 'embeddings':
      return [{
        name: `${inputs.embed.sentences.length} sentences, one batch`,
        call: () => (tjs ? p(inputs.embed.sentences, { pooling: 'mean', normalize: true }) : p(inputs.embed.sentences)),
        normalize: (t) => ({ dims: t.dims, data: Array.from(t.data, (x) => Math.round(x * 1e6) / 1e6) }),
      }];
    default:
      throw new Error(`unknown task ${task}`);
  }
}

/** The pipeline task name of each library for a plan task. */
export function taskName(engine, task) {
  if (task === 'embeddings') return engine.startsWith('tjs') ? 'feature-extraction' : 'sentence-embeddings';
  return task;
}
