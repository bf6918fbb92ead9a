// prepare.mjs: the race's plan (build/tjs/plan.json): which models are there (every folder of
// build/tjs/models/ with both onnx/model_quantized.onnx and model.ebm), their tasks, and the
// inputs fixed to exact token counts with edgebert's tokenizer, the same strings for both engines.
//   node bench/tjs/prepare.mjs [--runs 10] [--models a,b]   (run.sh calls it)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tokenizer } from '../../worker/index.mjs';
import { NER_TEXT, QA_QUESTION, qaContext, qaWindows, sentences256, textOfTokens } from './inputs.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = join(ROOT, 'build/tjs/models');
export const PLAN = join(ROOT, 'build/tjs/plan.json');

// name -> [task, what it is]; the random DistilBERT-base ones first (always made), then edgebert's
// trained checkpoints (made when build/train/models/ has them).
const MODELS = [
  ['distilbert-base-seqcls', 'text-classification', 'DistilBERT-base, random weights'],
  ['sst2_student', 'text-classification', 'edgebert SST-2 student (DistilBERT 3L, 384)'],
  ['distilbert-base-tokcls', 'token-classification', 'DistilBERT-base, random weights'],
  ['ner_student', 'token-classification', 'edgebert NER student (DistilBERT 3L, 384)'],
  ['distilbert-base-qa', 'question-answering', 'DistilBERT-base, random weights'],
  ['qa_teacher', 'question-answering', 'edgebert QA teacher (BERT 6L, 384)'],
  ['distilbert-base-embed', 'embeddings', 'DistilBERT-base, random weights'],
  ['search_student', 'embeddings', 'edgebert search student (DistilBERT 3L, 384)'],
];

export async function preparePlan({ runs = 10, only = null } = {}) {
  const models = MODELS.filter(([name]) => (!only || only.includes(name))
    && existsSync(join(MODELS_DIR, name, 'onnx/model_quantized.onnx')) && existsSync(join(MODELS_DIR, name, 'model.ebm')))
    .map(([name, task, what]) => ({ name, task, what }));
  if (!models.length) throw new Error(`no model under ${MODELS_DIR} has both onnx/model_quantized.onnx and model.ebm: run bench/tjs/run.sh`);
  // Every model here uses bert-base-uncased's WordPiece vocabulary (make_models.py): one tokenizer.
  const tok = await tokenizer(join(MODELS_DIR, models[0].name, 'model.ebm'), { device: 'inline' });
  const count = async (text) => (await tok(text)).input_ids.length;
  const classify = {};
  for (const n of [128, 16, 384]) classify[n] = await textOfTokens(count, n);
  const context = qaContext();
  const ctx = await tok(context, { addSpecialTokens: false });
  const qTokens = (await tok(QA_QUESTION, { addSpecialTokens: false })).input_ids.length;
  const windows = qaWindows(context, ctx, qTokens);
  const sentences = sentences256();
  const sentenceTokens = [];
  for (const s of sentences) sentenceTokens.push(await count(s));
  const nerTokens = await count(NER_TEXT);
  await tok.dispose();
  const plan = {
    models,
    inputs: {
      classify,
      ner: { text: NER_TEXT, tokens: nerTokens },
      qa: { question: QA_QUESTION, context, contextTokens: ctx.input_ids.length, windows },
      embed: { sentences, tokens: { min: Math.min(...sentenceTokens), max: Math.max(...sentenceTokens), total: sentenceTokens.reduce((a, b) => a + b, 0) } },
    },
    // Steady calls per input after the warm-up ones; the heavy tasks get fewer.
    runs: { 'text-classification': runs, 'token-classification': runs, 'question-answering': Math.max(2, Math.ceil(runs / 2)), embeddings: Math.max(2, Math.ceil(runs / 4)) },
    warmup: { 'text-classification': 2, 'token-classification': 2, 'question-answering': 1, embeddings: 1 },
  };
  mkdirSync(dirname(PLAN), { recursive: true });
  writeFileSync(PLAN, JSON.stringify(plan, null, 1));
  return plan;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const only = opt('--models', null);
  const plan = await preparePlan({ runs: Number(opt('--runs', '10')), only: only ? only.split(',') : null });
  console.log(`plan: ${plan.models.map((m) => m.name).join(', ')}; QA context ${plan.inputs.qa.contextTokens} tokens in ` +
    `${plan.inputs.qa.windows.length} windows; 256 sentences of ${plan.inputs.embed.tokens.min}-${plan.inputs.embed.tokens.max} tokens -> ${PLAN}`);
}
