// eval_edgebert.mjs: scores a packed model (int8 .ebm) through edgebert's own JS pipelines in
// Node, on the same data and with the same metrics as train.py's fp32 evaluation:
//   sst2  SST-2 validation accuracy            (text-classification)
//   ner   UNER English-EWT test entity F1      (token-classification, aggregation 'first')
//   qa    SQuAD v1.1 dev exact match / F1      (question-answering, maxAnswerLen 30)
//   stsb  STS-B dev Spearman x100              (sentence-embeddings: mean pooling, normalized)
//
//   node scripts/train/eval_edgebert.mjs <task> <model.ebm> [--data DIR] [--limit N]
// Prints one JSON line. The data is read by path and never copied.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { pipeline } from '../../worker/index.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const [task, model] = args;
const dataDir = opt('--data', path.resolve(here, '../../../shared/data'));
const limit = Number(opt('--limit', '0')) || Infinity;

function read(rel) {
  const p = path.join(dataDir, rel);
  if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8');
  return zlib.gunzipSync(fs.readFileSync(p + '.gz')).toString('utf8');
}

// --- metrics (the same definitions as train.py) ----------------------------------------------------

function spans(tags) {
  // seqeval's default reading of IOB2: an entity starts at B-X, or at I-X after O / another type.
  const out = new Set();
  let cur = null;
  [...tags, 'O'].forEach((t, i) => {
    const typ = t === 'O' ? null : t.slice(2);
    const starts = t.startsWith('B-') || (t.startsWith('I-') && (cur === null || cur[0] !== typ));
    if (cur !== null && (t === 'O' || starts)) { out.add(`${cur[0]}:${cur[1]}:${i}`); cur = null; }
    if (starts) cur = [typ, i];
  });
  return out;
}

const PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
function squadNormalize(s) {
  s = [...s.toLowerCase()].filter((c) => !PUNCT.has(c)).join('');
  s = s.replace(/\b(a|an|the)\b/g, ' ');
  return s.split(/\s+/).filter(Boolean).join(' ');
}
function squadScores(pred, golds) {
  let em = 0, f1 = 0;
  const p = squadNormalize(pred).split(' ').filter(Boolean);
  for (const g of golds) {
    const gt = squadNormalize(g).split(' ').filter(Boolean);
    em = Math.max(em, Number(p.join(' ') === gt.join(' ')));
    const counts = new Map();
    for (const t of gt) counts.set(t, (counts.get(t) || 0) + 1);
    let same = 0;
    for (const t of p) if ((counts.get(t) || 0) > 0) { same++; counts.set(t, counts.get(t) - 1); }
    if (same) { const pr = same / p.length, rc = same / gt.length; f1 = Math.max(f1, (2 * pr * rc) / (pr + rc)); }
  }
  return [em, f1];
}

function spearman(a, b) {
  const ranks = (x) => {
    const idx = x.map((v, i) => [v, i]).sort((p, q) => p[0] - q[0]);
    const r = new Array(x.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
      for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a), rb = ranks(b);
  const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(ra), mb = mean(rb);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb); da += (ra[i] - ma) ** 2; db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

// --- data ------------------------------------------------------------------------------------------

function uner(split) {
  const sents = [];
  let words = [], tags = [];
  const mapTag = (t) => (t === 'O' || !['PER', 'LOC', 'ORG'].includes(t.slice(2)) ? 'O' : t);
  const flush = () => {
    if (!words.length) return;
    let prev = 'O';
    tags = tags.map((t) => {
      if (t.startsWith('I-') && prev.slice(2) !== t.slice(2)) t = 'B-' + t.slice(2);
      prev = t;
      return t;
    });
    sents.push([words, tags]);
    words = []; tags = [];
  };
  for (const line of read(`uner_en_ewt/${split}.iob2`).split('\n')) {
    if (line.startsWith('#')) continue;
    if (!line.trim()) { flush(); continue; }
    const cols = line.split('\t');
    words.push(cols[1]); tags.push(mapTag(cols[2]));
  }
  flush();
  return sents;
}

// --- tasks -------------------------------------------------------------------------------------------

async function evalSst2() {
  const rows = read('sst2/validation.tsv').split('\n').slice(1).filter((l) => l.includes('\t'))
    .map((l) => l.split('\t')).map(([s, y]) => [s.trim(), Number(y)]).slice(0, limit);
  const clf = await pipeline('text-classification', model);
  let correct = 0;
  for (const [s, y] of rows) {
    const [{ label }] = await clf(s, { topK: 1 });
    correct += Number((label === 'POSITIVE' ? 1 : 0) === y);
  }
  await clf.dispose();
  return { accuracy: (100 * correct) / rows.length, n: rows.length };
}

async function evalNer() {
  const sents = uner('test').slice(0, limit);
  const ner = await pipeline('token-classification', model);
  let tp = 0, nPred = 0, nGold = 0;
  for (const [words, gold] of sents) {
    const text = words.join(' ');
    const starts = [];
    let pos = 0;
    for (const w of words) { starts.push([pos, pos + w.length]); pos += w.length + 1; }
    const ents = await ner(text, { aggregationStrategy: 'first' });
    const pred = words.map(() => 'O');
    for (const e of ents) {
      let first = true;
      starts.forEach(([s, t], i) => {
        if (s >= e.start && t <= e.end) { pred[i] = (first ? 'B-' : 'I-') + e.entity_group; first = false; }
      });
    }
    const gs = spans(gold), ps = spans(pred);
    for (const s of ps) if (gs.has(s)) tp++;
    nPred += ps.size; nGold += gs.size;
  }
  await ner.dispose();
  const p = nPred ? tp / nPred : 0, r = nGold ? tp / nGold : 0;
  return { f1: p + r ? (200 * p * r) / (p + r) : 0, precision: 100 * p, recall: 100 * r, gold: nGold, pred: nPred, n: sents.length };
}

async function evalQa() {
  const doc = JSON.parse(read('squad_v1.1/dev.json'));
  const exs = [];
  for (const a of doc.data) for (const p of a.paragraphs) for (const q of p.qas) {
    exs.push({ question: q.question, context: p.context, answers: q.answers.map((x) => x.text) });
  }
  const items = exs.slice(0, limit);
  const qa = await pipeline('question-answering', model);
  let em = 0, f1 = 0;
  for (const ex of items) {
    // Token-level spans (alignToWords false), as train.py's fp32 evaluation takes them.
    const r = await qa(ex.question, ex.context, { maxAnswerLen: 30, alignToWords: false });
    const [e, f] = squadScores(r.answer, ex.answers);
    em += e; f1 += f;
  }
  await qa.dispose();
  return { exact_match: (100 * em) / items.length, f1: (100 * f1) / items.length, n: items.length };
}

async function evalStsb() {
  const rows = read('stsb/sts-dev.csv').split('\n').map((l) => l.split('\t')).filter((c) => c.length >= 7)
    .map((c) => [c[5], c[6], Number(c[4])]).slice(0, limit);
  const fe = await pipeline('sentence-embeddings', model);
  const cos = [];
  for (const [a, b] of rows) {
    const [ea, eb] = [(await fe(a)).data, (await fe(b)).data];
    let d = 0;
    for (let i = 0; i < ea.length; i++) d += ea[i] * eb[i];
    cos.push(d);
  }
  await fe.dispose();
  return { spearman: 100 * spearman(cos, rows.map((r) => r[2])), n: rows.length };
}

const run = { sst2: evalSst2, ner: evalNer, qa: evalQa, stsb: evalStsb }[task];
if (!run || !model) {
  console.error('usage: node scripts/train/eval_edgebert.mjs sst2|ner|qa|stsb <model.ebm> [--data DIR] [--limit N]');
  process.exit(2);
}
const t0 = performance.now();
const res = await run();
console.log(JSON.stringify({ ...res, task, model, engine: 'edgebert int8', node: process.version, seconds: Math.round((performance.now() - t0) / 1000) }));
