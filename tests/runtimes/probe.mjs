// probe.mjs: the one script every runtime runs against the installed edgebert package (text
// classification and embeddings on tiny committed checkpoints given as bytes); it returns plain
// JSON so that each runtime's answer can be compared with Node's, bit for bit.

export const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json'];
export const CLASSIFIER = 'distilbert_seqcls';
export const ENCODER = 'distilbert_base';

const TEXTS = ['The quick brown fox jumps over the lazy dog.', 'Grüße aus Köln, 2026!', 'edge runtimes'];

/**
 * @param {object} edgebert the package's exports (import * as edgebert from 'edgebert')
 * @param {(model: string, file: string) => Promise<Uint8Array>} readFixture
 * @param {object} [options] extra pipeline options (e.g. a runtime's wasmModule)
 */
export async function probe(edgebert, readFixture, options = {}) {
  const files = async (model) => {
    const out = {};
    for (const f of CHECKPOINT_FILES) out[f] = await readFixture(model, f);
    return { files: out };
  };
  const classify = await edgebert.pipeline('text-classification', await files(CLASSIFIER), options);
  const embed = await edgebert.pipeline('sentence-embeddings', await files(ENCODER), options);
  const classification = await classify(TEXTS, { topK: 2 });
  const embeddings = [];
  for (const t of TEXTS) {
    const e = await embed(t);
    embeddings.push({ dims: e.dims, data: Array.from(e.data) });
  }
  // A list in, one [n, hidden] Tensor out (transformers.js's shape).
  const batch = await embed(TEXTS);
  const batched = { dims: batch.dims, data: Array.from(batch.data) };
  // Hidden states of a list (padded batches of 2 in the engine, float32 out of it): one Tensor each.
  const hidden = (await embed(TEXTS, { pooling: 'none', normalize: false, batchSize: 2 }))
    .map((t) => ({ dims: t.dims, data: Array.from(t.data), float32: t.data instanceof Float32Array }));
  const build = classify.info.build;
  await classify.dispose();
  await embed.dispose();
  if (edgebert.closeSharedRuntimes) await edgebert.closeSharedRuntimes();
  return {
    classification,
    embeddings,
    batched,
    hidden,
    build: { build: build.build, threads: build.threads, gemm_kernel: build.gemm_kernel, gemmReason: build.gemmReason },
  };
}
