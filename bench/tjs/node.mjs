// node.mjs: one engine's session in Node (race.mjs starts one fresh process per session).
//   node bench/tjs/node.mjs --engine edgebert|tjs|tjs-wasm [--threads 1]
// edgebert: the JS API's default (a worker_threads Worker, the single-thread build: Node has no
// pthreads build). tjs: transformers.js on onnxruntime-node (native CPU, device 'cpu',
// intraOpNumThreads = --threads); tjs-wasm: its wasm backend (device 'wasm'). The result is the
// last line of stdout, as JSON.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';

import { runSession, taskName } from './session.mjs';
import { MODELS_DIR, PLAN } from './prepare.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const engine = opt('--engine', 'edgebert');
const threads = Number(opt('--threads', '1'));
const plan = JSON.parse(readFileSync(PLAN, 'utf8'));
const log = (line) => process.stderr.write(`${line}\n`);

let make;
let tokens;
let about;
if (engine === 'tjs' || engine === 'tjs-wasm') {
  const t = await import('@huggingface/transformers');
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.localModelPath = `${MODELS_DIR}/`;
  t.env.useFSCache = false;
  const device = engine === 'tjs' ? 'cpu' : 'wasm';
  if (device === 'wasm') t.env.backends.onnx.wasm.numThreads = threads;
  make = (m) => t.pipeline(taskName('tjs', m.task), m.name, {
    dtype: 'q8', device,
    ...(device === 'cpu' ? { session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } } : {}),
  });
  tokens = async (p, text) => p.tokenizer(text).input_ids.dims.at(-1);
  about = { version: t.env.version, ort: t.env.backends.onnx.versions, device };
} else {
  const e = await import('../../worker/index.mjs');
  make = (m) => e.pipeline(taskName('edgebert', m.task), join(MODELS_DIR, m.name, 'model.ebm'), { cache: false });
  about = await e.getBuildInfo();
}
const result = await runSession({ engine, plan, make, tokens, now: () => performance.now(), log });
// Exit once the line is out (a pipe takes it asynchronously); the edgebert worker would keep us alive.
process.stdout.write(`${JSON.stringify({ ...result, threads, about, node: process.version })}\n`, () => process.exit(0));
