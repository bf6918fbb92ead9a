// wasm_corpus.mjs: replays a sample of the fuzz corpora through the JS API on the wasm build
// (worker/index.mjs, device 'inline'): every input must end in a result or an EdgebertError, and
// the runtime must keep serving: after each input a known fixture model gives the same answer as
// before (a wasm trap, a corrupted heap or an out-of-memory would change or break that).
//
//   node tests/fuzz/wasm_corpus.mjs [--corpus build/fuzz/corpus] [--sample N] [--seed S]
//        [--glue URL --wasm URL]      (default: build/wasm/wasm/edgebert.mjs / .wasm)
// Inputs use tests/fuzz's layouts (packed: the file; hf: mode byte, u32 config length, config,
// safetensors; tokenizer: 5 option bytes then 0x1d-separated parts). Exit code 1 on any finding.
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

import { createRuntime, pipeline, EdgebertError } from '../../worker/index.mjs';

const ROOT = new URL('../../', import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const corpus = new URL(opt('--corpus', 'build/fuzz/corpus') + '/', ROOT.href + '/');
const sample = Number(opt('--sample', '40'));
let seed = Number(opt('--seed', '1'));
const glueUrl = opt('--glue', new URL('build/wasm/wasm/edgebert.mjs', ROOT).href);
const wasmUrl = opt('--wasm', new URL('build/wasm/wasm/edgebert.wasm', ROOT).href);

// Deterministic sample (xorshift), so a run can be repeated.
function random() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
}

async function pick(target) {
  const dir = new URL(`${target}/`, corpus);
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).sort();
  const chosen = [];
  for (let i = 0; i < Math.min(sample, names.length); ++i) {
    chosen.push(names.splice(Math.floor(random() * names.length), 1)[0]);
  }
  return Promise.all(chosen.map(async (n) => ({ name: `${target}/${n}`, bytes: new Uint8Array(await readFile(new URL(n, dir))) })));
}

const fixture = (p) => readFile(new URL(`tests/fixtures/${p}`, ROOT));
const splitParts = (bytes) => {
  const parts = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; ++i) {
    if (i === bytes.length || bytes[i] === 0x1d) { parts.push(bytes.subarray(start, i)); start = i + 1; }
  }
  return parts;
};
const utf8 = new TextDecoder('utf-8', { fatal: false });

async function main() {
  if (!existsSync(new URL(wasmUrl))) {
    console.log(`wasm_corpus: skipped: ${wasmUrl} is missing (scripts/build.sh wasm)`);
    return 0;
  }
  const runtime = await createRuntime({ device: 'inline', glueUrl, wasmUrl });
  const modelDir = 'models/distilbert_seqcls/';
  const known = {
    'config.json': await fixture(modelDir + 'config.json'),
    'model.safetensors': await fixture(modelDir + 'model.safetensors'),
    'vocab.txt': await fixture(modelDir + 'vocab.txt'),
  };
  const vocab = known['vocab.txt'];
  const clf = await pipeline('text-classification', { files: known }, { runtime });
  const probe = 'still answers after bad input';
  const expected = await clf(probe, { topK: null });

  const findings = [];
  const counts = { loaded: 0, rejected: 0 };
  async function attempt(name, fn) {
    try {
      await fn();
      counts.loaded++;
    } catch (e) {
      if (e instanceof EdgebertError && e.code !== 'Internal') counts.rejected++;
      else findings.push(`${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
    }
    if (runtime.closed) throw new Error(`${name}: the runtime closed`);
    let now;
    try {
      now = await clf(probe, { topK: null });
    } catch (e) {
      throw new Error(`${name}: the known model no longer answers: ${e.message}`);
    }
    if (!isDeepStrictEqual(now, expected)) throw new Error(`${name}: the known model's answer changed`);
  }
  async function use(p) {
    try {
      await p('Hello Paris, caf\u00e9 \u4e2d', {});
    } finally {
      await p.dispose();
    }
  }

  for (const { name, bytes } of await pick('packed')) {
    await attempt(name, async () => use(await pipeline('feature-extraction', bytes.slice(), { runtime })));
  }
  for (const { name, bytes } of await pick('hf')) {
    if (bytes.length < 5) continue;
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1, true);
    if (n > bytes.length - 5) continue;
    const files = { 'config.json': bytes.slice(5, 5 + n), 'model.safetensors': bytes.slice(5 + n), 'vocab.txt': vocab };
    const quantization = bytes[0] & 1 ? 'int8' : 'fp32';
    await attempt(name, async () => use(await pipeline('feature-extraction', { files }, { runtime, quantization })));
  }
  const tok = await pipeline('feature-extraction', { files: known }, { runtime });
  for (const { name, bytes } of await pick('tokenizer')) {
    if (bytes.length < 5) continue;
    const parts = splitParts(bytes.subarray(5));
    const source = bytes[0] & 3;
    if (source === 2) {
      // A tokenizer.json from the input with the known model's weights.
      const files = { 'config.json': known['config.json'], 'model.safetensors': known['model.safetensors'], 'tokenizer.json': parts[0] };
      await attempt(name, async () => use(await pipeline('feature-extraction', { files }, { runtime })));
    } else {
      const texts = parts.slice(source === 3 ? 3 : 0).map((p) => utf8.decode(p));
      const o = { truncation: ((bytes[0] >> 2) & 3) !== 0 };
      await attempt(name, async () => { await tok(texts[0] || '', o); });
    }
  }
  await tok.dispose();
  await clf.dispose();
  await runtime.close();
  console.log(`wasm_corpus: ${counts.loaded + counts.rejected + findings.length} inputs through the JS API ` +
              `(${counts.loaded} served, ${counts.rejected} rejected with an EdgebertError), ${findings.length} findings; ` +
              'the known model answered the same after each');
  for (const f of findings) console.log(`  finding: ${f}`);
  return findings.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(`wasm_corpus: ${e.stack || e}`); process.exit(1); });
