// app.mjs: the demo page: one tab per task, a model picker per tab (demo models, a .ebm URL, a
// Hugging Face repository, or files from disk), progress while loading, timing per request, and
// the results drawn from the API's own offsets. Everything runs through worker/index.mjs, so the
// engine stays in a Web Worker and this thread only draws.

import { pipeline, getBuildInfo } from '../worker/index.mjs';

const params = new URLSearchParams(location.search);
// ?threads=1 forces the single-thread build; the default lets the API pick (threads where the page
// is cross-origin isolated). ?autoload=0 leaves loading to the user (tests use it).
const THREADS = params.get('threads') === '1' ? 1 : 'auto';
const AUTOLOAD = params.get('autoload') !== '0';
const MODELS_URL = new URL('../build/demo/models/', import.meta.url);
// Files dropped onto the page are handed to the API as a repository in the Hub's layout whose files
// are already in the API's Cache Storage cache (docs/API.md: cache 'edgebert-v1', keys are URLs,
// 404s in 'edgebert-v1-missing'), under this prefix; they are removed again after the load.
const DROPPED_BASE = new URL('../__dropped__', import.meta.url).href;
const API_CACHE = 'edgebert-v1';

// Real checkpoints suggested in the Hugging Face field of each tab.
const HF_SUGGESTIONS = {
  'text-classification': 'distilbert/distilbert-base-uncased-finetuned-sst-2-english',
  'token-classification': 'dslim/distilbert-NER',
  'question-answering': 'distilbert/distilbert-base-cased-distilled-squad',
  'sentence-embeddings': 'sentence-transformers/all-MiniLM-L6-v2',
};

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'style') e.style.cssText = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
};

const fmtMs = (ms) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms).toString()) + ' ms';
const fmtBytes = (n) => (n === undefined ? '?' : n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} kB` : `${(n / (1 << 20)).toFixed(1)} MB`);
const fmtScore = (s) => s.toFixed(4);
const errorText = (err) => (err && err.code ? `${err.code}: ${err.message}` : `Error: ${err && err.message ? err.message : String(err)}`);

// ---------------------------------------------------------------------------------------------
// Tabs (WAI-ARIA tabs pattern, automatic activation)

const tabs = $$('[role="tab"]');
const panels = new Map();

function activate(tab, focus = true) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
  }
  if (focus) tab.focus();
  const panel = panels.get(tab.getAttribute('aria-controls'));
  if (panel) panel.shown();
  if (location.hash !== `#${tab.id.slice(4)}`) history.replaceState(null, '', `#${tab.id.slice(4)}`);
}

for (const tab of tabs) {
  tab.addEventListener('click', () => activate(tab));
  tab.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    activate(tabs[(next + tabs.length) % tabs.length]);
  });
}

// ---------------------------------------------------------------------------------------------
// Demo models (build/demo/models/index.json, written by scripts/demo.sh)

let demoIndex = null;
async function demoModels() {
  if (!demoIndex) {
    demoIndex = fetch(new URL('index.json', MODELS_URL)).then(async (r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return (await r.json()).models || [];
    }).catch(() => []);
  }
  return demoIndex;
}

// ---------------------------------------------------------------------------------------------
// One panel: its model picker, its pipeline, its form

class Panel {
  constructor(section) {
    this.section = section;
    this.task = section.dataset.task;
    this.pipe = null;
    this.loadSeq = 0;
    this.runSeq = 0;
    this.everShown = false;
    this.form = $('.run-form', section);
    this.error = $('.error', section);
    this.results = $('.results', section);
    this.timing = $('.timing', section);
    this.submit = $('button[type="submit"]', this.form);
    this.submit.disabled = true;
    this.buildPicker();
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.run(); });
  }

  buildPicker() {
    const frag = $('#model-picker').content.cloneNode(true);
    const id = this.section.id;
    // Unique ids for every labelled control inside this copy of the template.
    for (const c of $$('input, select', frag)) c.id = `${id}-${c.name}`;
    this.picker = $('fieldset', frag);
    $('.model-slot', this.section).replaceWith(frag);
    const p = this.picker;
    this.kind = $('select[name="kind"]', p);
    this.demoSelect = $('select[name="demo"]', p);
    this.progress = $('progress', p);
    this.progressText = $('.progress-text', p);
    this.status = $('.model-status', p);
    this.warning = $('.model-warning', p);
    this.loadButton = $('button.load', p);
    this.fileInput = $('input[type="file"]', p);
    this.picked = $('.picked', p);
    this.droppedFiles = [];
    $('input[name="repo"]', p).placeholder = HF_SUGGESTIONS[this.task];
    $('input[name="repo"]', p).value = HF_SUGGESTIONS[this.task];
    this.kind.addEventListener('change', () => this.showKind());
    this.loadButton.addEventListener('click', () => this.load());
    this.fileInput.addEventListener('change', () => this.setFiles([...this.fileInput.files]));
    // Dropping works anywhere on the panel (it switches the source to files).
    this.section.addEventListener('dragover', (e) => { e.preventDefault(); p.classList.add('dragging'); });
    this.section.addEventListener('dragleave', (e) => { if (e.target === this.section) p.classList.remove('dragging'); });
    this.section.addEventListener('drop', (e) => {
      e.preventDefault();
      p.classList.remove('dragging');
      const files = [...(e.dataTransfer ? e.dataTransfer.files : [])];
      if (!files.length) return;
      this.kind.value = 'files';
      this.showKind();
      this.setFiles(files);
      this.load();
    });
    this.showKind();
  }

  showKind() {
    const kind = this.kind.value;
    for (const e of $$('[data-kind]', this.picker)) e.hidden = e.dataset.kind !== kind;
  }

  setFiles(files) {
    this.droppedFiles = files;
    this.picked.textContent = files.length ? `Picked: ${files.map((f) => `${f.name} (${fmtBytes(f.size)})`).join(', ')}` : '';
  }

  async fillDemoModels() {
    // Entries marked "test" are random fixtures kept for the tests where a trained model exists.
    const models = (await demoModels()).filter((m) => m.task === this.task && !m.test);
    this.demoSelect.replaceChildren(...models.map((m) => el('option', { value: m.file }, `${m.title}${m.random ? ' (random test model)' : ''}`)));
    this.demoModels = models;
    if (!models.length) {
      this.demoSelect.append(el('option', { value: '' }, 'none found (run scripts/demo.sh)'));
      this.kind.value = 'hf';
      this.showKind();
    }
    return models;
  }

  async shown() {
    if (this.everShown) return;
    this.everShown = true;
    const models = await this.fillDemoModels();
    if (AUTOLOAD && models.length && !this.pipe && this.kind.value === 'demo') this.load();
  }

  /** The picker's choice as an API source: { source, label, random, cleanup? }. */
  async chosenSource() {
    const kind = this.kind.value;
    const val = (name) => $(`[name="${name}"]`, this.picker).value.trim();
    if (kind === 'demo') {
      const m = (this.demoModels || []).find((x) => x.file === this.demoSelect.value);
      if (!m) throw new Error('no demo model is available for this task (scripts/demo.sh makes them)');
      return { source: new URL(m.file, MODELS_URL).href, label: m.title, random: !!m.random };
    }
    if (kind === 'url') {
      const url = val('url');
      if (!url) throw new Error('enter the URL of a packed .ebm model');
      return { source: new URL(url, location.href).href, label: url };
    }
    if (kind === 'hf') {
      const repo = val('repo');
      if (!repo) throw new Error('enter a repository such as ' + HF_SUGGESTIONS[this.task]);
      return { source: { repo, revision: val('revision') || 'main', baseUrl: val('baseUrl') || 'https://huggingface.co' }, label: `${repo}@${val('revision') || 'main'}` };
    }
    return droppedSource(this.droppedFiles);
  }

  async load() {
    const seq = ++this.loadSeq;
    // A newer choice cancels the download still running for the previous one.
    if (this.loading) this.loading.abort();
    const controller = new AbortController();
    this.loading = controller;
    this.error.textContent = '';
    this.section.dataset.model = 'loading';
    this.progress.removeAttribute('value');  // indeterminate until the sizes are known
    this.progressText.textContent = 'starting…';
    this.status.textContent = 'Loading…';
    let chosen;
    const t0 = performance.now();
    try {
      chosen = await this.chosenSource();
      const pipe = await pipeline(this.task, chosen.source, {
        threads: THREADS,
        signal: controller.signal,
        onProgress: (p) => {
          if (seq !== this.loadSeq) return;
          const { loaded, total } = p.overall;
          if (total) {
            this.progress.max = total;
            this.progress.value = loaded;
          }
          this.progressText.textContent = `${p.file}: ${fmtBytes(p.loaded)} of ${fmtBytes(p.total)}${p.cached ? ' (from cache)' : ''}`;
        },
      });
      const ms = performance.now() - t0;
      if (seq !== this.loadSeq) { await pipe.dispose(); return; }
      const old = this.pipe;
      this.pipe = pipe;
      if (old) old.dispose().catch(() => {});
      const info = pipe.info.model;
      const size = pipe.info.files.reduce((a, f) => a + (f.size || 0), 0);
      const cached = pipe.info.files.length && pipe.info.files.every((f) => f.cached);
      this.progress.max = 1;
      this.progress.value = 1;
      this.progressText.textContent = `${fmtBytes(size)}${cached ? ' from cache' : ''}`;
      this.status.textContent = `${chosen.label}: ${info.architecture || info.model_type}, ${info.num_layers} layer${info.num_layers === 1 ? '' : 's'}, hidden ${info.hidden_size}, ` +
        `${info.quantization}${this.task === 'text-classification' || this.task === 'token-classification' ? `; labels ${Object.values(info.labels || {}).join(', ')}` : ''}; ` +
        `loaded in ${fmtMs(ms)}.`;
      this.status.dataset.loadMs = ms.toFixed(1);
      this.warning.hidden = !chosen.random;
      this.section.dataset.model = 'ready';
      this.submit.disabled = false;
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.progress.value = 0;
      this.progressText.textContent = '';
      this.status.textContent = this.pipe ? 'The previous model is still loaded.' : 'No model loaded.';
      this.showError(`Could not load the model: ${errorText(err)}`);
      this.section.dataset.model = this.pipe ? 'ready' : 'error';
    } finally {
      if (chosen && chosen.cleanup) await chosen.cleanup();
      if (seq === this.loadSeq) this.loading = null;
    }
  }

  showError(text) {
    this.error.textContent = text;
  }

  async run() {
    if (!this.pipe) {
      this.showError('Load a model first.');
      return;
    }
    const seq = ++this.runSeq;
    this.error.textContent = '';
    this.submit.disabled = true;
    this.results.setAttribute('aria-busy', 'true');
    this.timing.textContent = 'running…';
    try {
      const t0 = performance.now();
      const rendered = await RENDER[this.task](this.pipe, this.form);
      const ms = performance.now() - t0;
      this.timing.textContent = `answered in ${fmtMs(ms)}`;
      this.timing.dataset.ms = ms.toFixed(2);
      this.results.replaceChildren(...rendered);
      this.results.dataset.state = 'done';
    } catch (err) {
      this.timing.textContent = '';
      this.results.replaceChildren();
      this.results.dataset.state = 'error';
      this.showError(errorText(err));
    } finally {
      this.results.removeAttribute('aria-busy');
      this.results.dataset.seq = String(seq);
      this.submit.disabled = false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Per-task requests and rendering. Each returns the nodes to show.

/** The text with [start, end) spans (UTF-16 offsets from the API) wrapped in <mark>. */
function highlighted(text, spans) {
  const out = [];
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start || b.end - a.end)) {
    if (s.start < at || s.end <= s.start) continue;  // overlapping or empty spans are listed, not drawn
    if (s.start > at) out.push(text.slice(at, s.start));
    const mark = el('mark', { dataset: { start: String(s.start), end: String(s.end), ...(s.label ? { label: s.label } : {}) } }, text.slice(s.start, s.end));
    if (s.label) mark.append(el('span', { class: 'tag' }, s.label));
    out.push(mark);
    at = s.end;
  }
  if (at < text.length) out.push(text.slice(at));
  return el('p', { class: 'highlighted' }, ...out);
}

const RENDER = {
  async 'text-classification'(pipe, form) {
    const labels = await pipe(form.text.value, { topK: null, truncation: true });
    return [el('ol', { class: 'labels' }, ...labels.map((r) => el('li', { dataset: { label: r.label, score: String(r.score) } },
      el('span', { class: 'name' }, r.label),
      el('span', { class: 'bar', 'aria-hidden': 'true', style: `--w:${(Math.max(0, Math.min(1, r.score)) * 100).toFixed(1)}%` }),
      el('span', { class: 'score' }, fmtScore(r.score)))))];
  },

  async 'token-classification'(pipe, form) {
    const text = form.text.value;
    const aggregationStrategy = form.aggregation.value;
    const opts = { aggregationStrategy };
    // Long texts are run in overlapping windows (transformers' stride), a quarter of the model's length.
    if (aggregationStrategy !== 'none') opts.stride = Math.max(0, Math.min(128, Math.floor((pipe.info.model.max_position_embeddings - 2) / 4)));
    const ents = await pipe(text, opts);
    const label = (e) => e.entity_group || e.entity;
    if (!ents.length) return [el('p', { class: 'empty' }, 'No entities found.')];
    return [
      highlighted(text, ents.map((e) => ({ start: e.start, end: e.end, label: label(e) }))),
      el('table', { class: 'entities' },
        el('caption', {}, `${ents.length} ${ents.length === 1 ? 'entity' : 'entities'}`),
        el('thead', {}, el('tr', {}, ...['Text', 'Label', 'Score', 'Characters'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...ents.map((e) => el('tr', { dataset: { label: label(e), start: String(e.start), end: String(e.end), score: String(e.score) } },
          el('td', {}, text.slice(e.start, e.end)), el('td', {}, label(e)), el('td', {}, fmtScore(e.score)), el('td', {}, `${e.start}–${e.end}`))))),
    ];
  },

  async 'question-answering'(pipe, form) {
    const question = form.question.value;
    const context = form.context.value;
    const a = await pipe(question, context);
    if (!a || a.end <= a.start) return [el('p', { class: 'empty' }, 'No answer in the context.')];
    return [
      el('p', { class: 'answer', dataset: { start: String(a.start), end: String(a.end), score: String(a.score) } },
        el('strong', {}, 'Answer: '), el('q', {}, a.answer), ` (score ${fmtScore(a.score)}, characters ${a.start}–${a.end})`),
      highlighted(context, [{ start: a.start, end: a.end }]),
    ];
  },

  async 'sentence-embeddings'(pipe, form) {
    const query = form.query.value.trim();
    const passages = form.passages.value.split('\n').map((s) => s.trim()).filter(Boolean);
    if (!query || !passages.length) throw new Error('enter a query and at least one passage');
    const [q, ...ps] = await pipe([query, ...passages]);
    const ranked = ps.map((p, i) => ({ i, text: passages[i], score: cosine(q.data, p.data) })).sort((a, b) => b.score - a.score);
    return [el('ol', { class: 'ranked' }, ...ranked.map((r) => el('li', { dataset: { index: String(r.i), score: String(r.score) } },
      el('span', { class: 'score' }, fmtScore(r.score)), el('span', { class: 'passage' }, r.text))))];
  },
};

/** Cosine similarity; the embeddings are normalized already, the norms keep it exact for any model. */
function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------------------------
// Files from disk: a packed .ebm goes to the API as a File; a Hugging Face checkpoint's files are
// put in the API's cache under a local repository URL and loaded (and converted) from there. The
// URL is named after the files (names, sizes, modification times), so dropping the same checkpoint
// again finds the model the API converted from it the first time (the API keys that by content).

async function droppedSource(files) {
  if (!files.length) throw new Error('choose or drop the model files first');
  const ebm = files.find((f) => /\.ebm$/i.test(f.name));
  if (ebm) return { source: ebm, label: ebm.name };
  const by = new Map(files.map((f) => [f.name, f]));
  const missing = ['config.json', 'model.safetensors'].filter((n) => !by.has(n));
  if (!by.has('tokenizer.json') && !by.has('vocab.txt')) missing.push('tokenizer.json or vocab.txt');
  if (missing.length) throw new Error(`the checkpoint is incomplete: missing ${missing.join(', ')} (got ${files.map((f) => f.name).join(', ')})`);
  if (typeof caches === 'undefined') throw new Error('loading checkpoint files needs Cache Storage, which this page cannot use (is it served over http(s)?)');
  const id = `dropped-${await filesId(files)}`;
  const repo = { repo: `local/${id}`, revision: 'main', baseUrl: DROPPED_BASE };
  const url = (name) => `${DROPPED_BASE}/local/${id}/resolve/main/${name}`;
  const cache = await caches.open(API_CACHE);
  const missingCache = await caches.open(`${API_CACHE}-missing`);
  const keys = [];
  for (const name of ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const f = by.get(name);
    if (f) {
      await cache.put(url(name), new Response(f, { headers: { 'content-length': String(f.size) } }));
      keys.push([cache, url(name)]);
    } else if (name !== 'config.json' && name !== 'model.safetensors') {
      await missingCache.put(url(name), new Response(new Uint8Array(0)));
      keys.push([missingCache, url(name)]);
    }
  }
  return {
    source: repo,
    label: by.get('config.json').webkitRelativePath || 'checkpoint files',
    cleanup: async () => { await Promise.all(keys.map(([c, k]) => c.delete(k))); },
  };
}

/** A name for a set of dropped files: a hash of their names, sizes and times (random without crypto.subtle). */
async function filesId(files) {
  if (!globalThis.crypto || !crypto.subtle) return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const text = JSON.stringify(files.map((f) => [f.name, f.size, f.lastModified]).sort());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Leftovers of an interrupted load of dropped files. */
async function sweepDropped() {
  if (typeof caches === 'undefined') return;
  for (const name of [API_CACHE, `${API_CACHE}-missing`]) {
    if (!(await caches.has(name))) continue;
    const c = await caches.open(name);
    for (const req of await c.keys()) if (req.url.startsWith(DROPPED_BASE + '/')) await c.delete(req);
  }
}

// ---------------------------------------------------------------------------------------------
// Status line: which build runs and why; offline readiness

async function showBuild() {
  const dd = $('#build-info');
  try {
    const info = await getBuildInfo({ threads: THREADS });
    const threaded = info.build === 'simd128-pthreads';
    dd.dataset.build = info.build;
    dd.dataset.threads = String(info.threads);
    const count = !threaded ? '' : info.threads ? `, the engine reports ${info.threads} thread${info.threads > 1 ? 's' : ''}` : '';
    dd.dataset.gemm = info.relaxed_simd ? 'relaxed' : 'simd128';
    dd.title = info.gemmReason || '';
    dd.textContent = `${threaded ? 'threaded' : 'single-thread'} build (${info.build}${count}, v${info.version}): ${info.threadsReason}` +
      `; int8 GEMMs: ${info.relaxed_simd ? 'relaxed-SIMD kernel' : 'SIMD128 kernel'}`;
  } catch (err) {
    dd.dataset.build = 'error';
    dd.textContent = `the engine did not start: ${errorText(err)}`;
  }
}

async function registerServiceWorker() {
  const dd = $('#offline-info');
  if (!('serviceWorker' in navigator)) {
    dd.textContent = 'not available (no service workers in this browser or context)';
    return;
  }
  try {
    await navigator.serviceWorker.register(new URL('sw.js', import.meta.url), { scope: new URL('../', import.meta.url).pathname, type: 'classic' });
    await navigator.serviceWorker.ready;
    dd.dataset.state = 'ready';
    dd.textContent = navigator.onLine ? 'ready: the page, the engine and the models you load work offline'
      : 'offline: running from the cache';
  } catch (err) {
    dd.dataset.state = 'error';
    dd.textContent = `not available: ${err.message}`;
  }
}

// ---------------------------------------------------------------------------------------------

for (const section of $$('[role="tabpanel"]')) panels.set(section.id, new Panel(section));
sweepDropped().catch(() => {});
registerServiceWorker();
showBuild();
const initial = tabs.find((t) => t.id === `tab-${location.hash.slice(1)}`) || tabs[0];
activate(initial, false);
window.edgebertDemo = { panels };
