// run_local.mjs: probe.mjs under a runtime with node:fs (Node, Deno, Bun), importing 'edgebert' as
// an installed package. Prints one line: RESULT <json>. Usage: <runtime> run_local.mjs <fixtures/models>
// [hf-folder], the second form also loading the classifier from its folder path.

import * as edgebert from 'edgebert';
import { readFile } from 'node:fs/promises';
import { probe, CLASSIFIER } from './probe.mjs';

const models = process.argv[2];
const result = await probe(edgebert, async (model, file) => new Uint8Array(await readFile(`${models}/${model}/${file}`)));
if (process.argv[3] === 'hf-folder') {
  // A folder holding a Hugging Face checkpoint, given as a path.
  const p = await edgebert.pipeline('text-classification', `${models}/${CLASSIFIER}`);
  result.folder = await p('edge runtimes', { topK: 2 });
  await p.dispose();
  // No model given: the default (edgebert's own) is not inside the package, and the error says where it looked.
  result.noDefault = await edgebert.pipeline('sentiment-analysis').then(() => ({ code: 'loaded' }), (e) => ({ code: e.code, message: e.message }));
  await edgebert.closeSharedRuntimes();
}
console.log(`RESULT ${JSON.stringify(result)}`);
