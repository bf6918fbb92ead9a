// bench_wasm.mjs: our wasm tokenizer (wasm/tokenizer_bindings.cc) on the benchmark documents.
// Usage: node bench_wasm.mjs <build>/wasm/edgebert.mjs DOCS.json TOKENIZER.json
// Prints {"encode": MB/s, "qa": MB/s, "tokens": n}: best of 3 passes in process CPU time. Each document is written
// into wasm memory with TextEncoder.encodeInto and its ids copied out, as the JS API must do.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modulePath, docsPath, tokPath] = process.argv.slice(2);
const wasmPath = modulePath.replace(/\.mjs$/, '.wasm');
const { default: createEdgebertModule } = await import(pathToFileURL(modulePath).href);
const wasmModule = await WebAssembly.compile(readFileSync(wasmPath));
// The module is built for web/worker: hand it the compiled module ourselves.
const M = await createEdgebertModule({
  instantiateWasm(imports, receiveInstance) {
    WebAssembly.instantiate(wasmModule, imports).then((inst) => receiveInstance(inst, wasmModule));
    return {};
  },
});

const enc = new TextEncoder();
const docs = JSON.parse(readFileSync(docsPath, 'utf8'));
const bytes = docs.reduce((n, d) => n + enc.encode(d).length, 0);

function writeBytes(u8) {
  const p = M._eb_malloc(u8.length + 1);
  M.HEAPU8.set(u8, p);
  return p;
}
const tokJson = readFileSync(tokPath);
const jp = writeBytes(tokJson);
const tok = M._eb_tokenizer_from_json(jp, tokJson.length);
M._eb_free(jp);
if (!tok) throw new Error(M.UTF8ToString(M._eb_tokenizer_last_error()));

let cap = 1 << 16;
let buf = M._eb_malloc(cap);
function encode(text, second, qa) {
  const need = text.length * 3 + 1;
  if (need > cap) {
    M._eb_free(buf);
    cap = need * 2;
    buf = M._eb_malloc(cap);
  }
  const { written } = enc.encodeInto(text, M.HEAPU8.subarray(buf, buf + cap));
  let sp = 0, slen = 0;
  if (second !== null) {
    const s = enc.encode(second);
    sp = writeBytes(s);
    slen = s.length;
  }
  const r = qa ? M._eb_tokenizer_encode(tok, buf, written, 1, sp, slen, 1, 3, 384, 128, 2, 384, 1)
               : M._eb_tokenizer_encode(tok, buf, written, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1);
  if (sp) M._eb_free(sp);
  if (!r) throw new Error(M.UTF8ToString(M._eb_tokenizer_last_error()));
  let n = 0;
  const windows = M._eb_encoding_num_windows(r);
  for (let w = 0; w < windows; w++) {
    const len = M._eb_encoding_length(r, w);
    const ids = M._eb_encoding_field(r, w, 0) >> 2;
    const offs = M._eb_encoding_field(r, w, 6) >> 2;
    const copy = M.HEAP32.slice(ids, ids + len);
    const offCopy = M.HEAPU32.slice(offs, offs + 2 * len);
    n += copy.length + (offCopy.length & 0);
  }
  M._eb_encoding_free(r);
  return n;
}

function bestOf(fn, passes = 3) {
  let best = Infinity;
  for (let i = 0; i < passes; i++) {
    const t0 = process.cpuUsage();  // CPU time, as the native and HF figures (shared machine)
    fn();
    const d = process.cpuUsage(t0);
    best = Math.min(best, d.user + d.system);
  }
  return best / 1e6;
}

let tokens = 0;
for (const d of docs) tokens += encode(d, null, false);  // warm-up (V8 tiers up the module)
const t = bestOf(() => { for (const d of docs) encode(d, null, false); });
const question = 'What is the capital of France?';
const tq = bestOf(() => { for (const d of docs) encode(question, d, true); });
console.log(JSON.stringify({ encode: bytes / 1e6 / t, qa: bytes / 1e6 / tq, tokens }));
