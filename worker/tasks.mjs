// tasks.mjs: the pipeline tasks: names and aliases, camelCase options checked and mapped to the
// Hugging Face names of the engine's request JSON (defaults filled in), and results shaped the way
// Python `transformers` pipelines return them. Pure functions, no engine.

import { EdgebertError } from './errors.mjs';
import { Tensor, stack } from './tensor.mjs';

export { Tensor } from './tensor.mjs';

// Counts cross to the engine as C int: above INT32_MAX they would be refused there with a message
// about a different number (2**31 reads as "is 2147483648; it must be at least 1").
const INT32_MAX = 2 ** 31 - 1;
const positiveInt = (v) => Number.isInteger(v) && v > 0 && v <= INT32_MAX;
const nonNegativeInt = (v) => Number.isInteger(v) && v >= 0 && v <= INT32_MAX;
const oneOf = (...values) => Object.assign((v) => values.includes(v), { allowed: values });
const bool = (v) => typeof v === 'boolean';
const strings = (v) => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** A value as the caller wrote it: NaN and Infinity stay themselves (JSON.stringify says null). */
function showValue(v) {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  return JSON.stringify(v);
}

// option (camelCase) -> [request key (HF name), check, description of the rule]
const OPTIONS = {
  topK: ['top_k', positiveInt, 'a positive integer'],
  functionToApply: ['function_to_apply', oneOf('default', 'sigmoid', 'softmax', 'none'), ''],
  aggregationStrategy: ['aggregation_strategy', oneOf('none', 'simple', 'first', 'average', 'max'), ''],
  ignoreLabels: ['ignore_labels', strings, 'an array of label strings'],
  stride: ['stride', nonNegativeInt, 'a non-negative integer'],
  docStride: ['doc_stride', positiveInt, 'a positive integer'],
  maxAnswerLen: ['max_answer_len', positiveInt, 'a positive integer'],
  maxSeqLen: ['max_seq_len', positiveInt, 'a positive integer'],
  maxQuestionLen: ['max_question_len', positiveInt, 'a positive integer'],
  handleImpossibleAnswer: ['handle_impossible_answer', bool, 'a boolean'],
  alignToWords: ['align_to_words', bool, 'a boolean'],
  pooling: ['pooling', oneOf('none', 'mean', 'cls'), ''],
  normalize: ['normalize', bool, 'a boolean'],
  targets: ['targets', (v) => typeof v === 'string' || (strings(v) && v.length > 0), 'a string or a non-empty array of strings'],
  textPair: ['text_pair', (v) => typeof v === 'string', 'a string'],
  addSpecialTokens: ['add_special_tokens', bool, 'a boolean'],
  truncation: ['truncation', bool, 'a boolean'],
  maxLength: ['max_length', positiveInt, 'a positive integer'],
};

/**
 * Each task: the engine task, its options with defaults (the request always carries every key
 * with a default, so the engine and the docs agree on one set of defaults), and how inputs look.
 */
export const TASKS = {
  'text-classification': {
    engine: 'text-classification',
    defaults: { topK: 1, functionToApply: 'default', truncation: false },
    optional: ['textPair'],
    nullable: ['topK'],  // topK: null returns every label, sorted
  },
  'token-classification': {
    engine: 'token-classification',
    defaults: { aggregationStrategy: 'none', ignoreLabels: ['O'] },
    optional: ['stride', 'truncation'],
  },
  'question-answering': {
    engine: 'question-answering',
    defaults: {
      topK: 1, maxAnswerLen: 15, maxQuestionLen: 64,
      handleImpossibleAnswer: false, alignToWords: true,
    },
    // Model-dependent defaults (min(model limit, 384) and min(maxSeqLen / 2, 128)) come from the engine.
    optional: ['docStride', 'maxSeqLen'],
  },
  'feature-extraction': {
    engine: 'feature-extraction',
    defaults: { pooling: 'none', normalize: false, truncation: false },
  },
  'sentence-embeddings': {
    engine: 'feature-extraction',
    // sentence-transformers truncates to the model's length by default.
    defaults: { pooling: 'mean', normalize: true, truncation: true },
  },
  'fill-mask': {
    engine: 'fill-mask',
    defaults: { topK: 5 },
    optional: ['targets'],
  },
  tokenize: {
    engine: 'tokenize',
    defaults: { addSpecialTokens: true, truncation: false },
    optional: ['textPair', 'maxLength'],
  },
};

export const TASK_ALIASES = { 'sentiment-analysis': 'text-classification', ner: 'token-classification' };

export function resolveTask(task) {
  const name = TASK_ALIASES[task] || task;
  if (!Object.prototype.hasOwnProperty.call(TASKS, name) || name === 'tokenize') {
    const known = [...Object.keys(TASKS).filter((t) => t !== 'tokenize'), ...Object.keys(TASK_ALIASES)];
    throw new EdgebertError('InvalidArgument', `unsupported task ${JSON.stringify(task)}; expected one of ${known.join(', ')} (use tokenizer() to tokenize)`);
  }
  return { name, ...TASKS[name] };
}

/** camelCase call options -> the request keys (HF names), defaults filled in, unknown names refused. */
export function buildOptions(taskName, options = {}) {
  const task = TASKS[taskName];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new EdgebertError('InvalidArgument', `${taskName}: options must be an object, got ${JSON.stringify(options)}`);
  }
  const allowed = [...Object.keys(task.defaults), ...(task.optional || [])];
  const out = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!allowed.includes(name)) {
      const camel = name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
      const hint = camel !== name && allowed.includes(camel) ? ` (options are camelCase: did you mean ${camel}?)` : '';
      throw new EdgebertError('InvalidArgument', `${taskName}: unknown option ${JSON.stringify(name)}${hint}; expected one of ${allowed.join(', ')}`);
    }
    const [key, check, rule] = OPTIONS[name];
    if (value === null && (task.nullable || []).includes(name)) {
      out[key] = null;
      continue;
    }
    if (!check(value)) {
      const expected = check.allowed ? `one of ${check.allowed.map((a) => JSON.stringify(a)).join(', ')}` : rule;
      const range = Number.isInteger(value) && value > INT32_MAX ? ` (at most ${INT32_MAX}: the engine counts in 32-bit integers)` : '';
      throw new EdgebertError('InvalidArgument', `${taskName}: ${name} must be ${expected}, got ${showValue(value)}${range}`);
    }
    out[key] = name === 'targets' && typeof value === 'string' ? [value] : value;
  }
  for (const [name, value] of Object.entries(task.defaults)) {
    const key = OPTIONS[name][0];
    if (!(key in out)) out[key] = value;
  }
  return out;
}

// Inputs of one call run as batches in the engine (eb_run_batch): sorted by token count, at most
// batchSize sequences per encoder pass (one GEMM over all their tokens). 8 measured best, or within
// noise of the best, on search-minilm-l3 and DistilBERT-base; 32 and more are slower (the
// activations leave the L2 cache). bench/README.md, "Batches and binary results". The engine takes 1..256.
export const DEFAULT_BATCH_SIZE = 8;
export const MAX_BATCH_SIZE = 256;

/** Takes batchSize (not an engine request key) out of a call's options: [batchSize, the other options]. */
function takeBatchSize(taskName, options) {
  if (!options || typeof options !== 'object' || Array.isArray(options) || options.batchSize === undefined) {
    return [DEFAULT_BATCH_SIZE, options];
  }
  const { batchSize, ...rest } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new EdgebertError('InvalidArgument', `${taskName}: batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${showValue(batchSize)}`);
  }
  return [batchSize, rest];
}

function checkText(taskName, text, what = 'text') {
  if (typeof text !== 'string') {
    throw new EdgebertError('InvalidArgument', `${taskName}: ${what} must be a string, got ${text === null ? 'null' : typeof text}`);
  }
}

/**
 * The engine requests for one call: an array of request objects (one per input), the batch size
 * (the batchSize option) and a function shaping the engine's responses into what the pipeline returns.
 */
export function buildRequests(taskName, args) {
  const task = TASKS[taskName];
  if (taskName === 'question-answering') {
    // qa(question, context, options) or qa({question, context}, options) or qa([{...}, ...], options)
    let items;
    let options;
    if (typeof args[0] === 'string') {
      items = [{ question: args[0], context: args[1] }];
      options = args[2];
    } else {
      items = Array.isArray(args[0]) ? args[0] : [args[0]];
      options = args[1];
    }
    let batchSize;
    [batchSize, options] = takeBatchSize(taskName, options);
    const opts = buildOptions(taskName, options);
    const requests = items.map((it, i) => {
      if (!it || typeof it !== 'object') throw new EdgebertError('InvalidArgument', `question-answering: input ${i} must be {question, context}`);
      checkText(taskName, it.question, 'question');
      checkText(taskName, it.context, 'context');
      return { question: it.question, context: it.context, ...opts };
    });
    const batched = Array.isArray(args[0]);
    // HF: top_k 1 gives the answer object itself, otherwise a list of answers.
    const one = (answers) => (opts.top_k === 1 ? (answers.length > 0 ? answers[0] : null) : answers);
    return { engineTask: task.engine, requests, batchSize, shape: (outs) => (batched ? outs.map(one) : one(outs[0])) };
  }

  const [input] = args;
  const [batchSize, options] = takeBatchSize(taskName, args[1]);
  const batched = Array.isArray(input);
  const texts = batched ? input : [input];
  if (batched && texts.length === 0) throw new EdgebertError('InvalidArgument', `${taskName}: the input array is empty`);
  texts.forEach((t, i) => checkText(taskName, t, batched ? `input ${i}` : 'text'));
  const opts = buildOptions(taskName, options);
  const requests = texts.map((text) => ({ text, ...opts }));
  let shapeOne = (r) => r;
  let shapeAll = (outs) => (batched ? outs.map(shapeOne) : shapeOne(outs[0]));
  if (taskName === 'text-classification') {
    // HF: with the default top_k a list input gives one {label, score} per input.
    const explicitTopK = options && options.topK !== undefined;
    shapeAll = (outs) => (batched ? (explicitTopK ? outs : outs.map((r) => r[0])) : outs[0]);
  } else if (taskName === 'fill-mask') {
    // The engine returns one list per [MASK]; HF unwraps it when there is exactly one mask.
    shapeOne = (perMask) => (perMask.length === 1 ? perMask[0] : perMask);
  } else if (task.engine === 'feature-extraction') {
    shapeOne = (t) => new Tensor(t.dims, t.data);
    // Pooled embeddings of a list are one [n, hidden] Tensor (transformers.js); unpooled ones stay a
    // list of [1, tokens, hidden], because their token counts differ and we do not pad.
    if (batched && opts.pooling !== 'none') shapeAll = (outs) => stack(outs.map(shapeOne));
  }
  return { engineTask: task.engine, requests, batchSize, shape: shapeAll };
}

