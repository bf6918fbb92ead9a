// run_hub.mjs: a transformers.js-style 'org/name' id loaded from a Hub-layout server (argv[2]),
// then one that does not exist. Prints RESULT <json>. Under Deno with only --allow-read and
// --allow-net the cache is off (a note on stderr), not an error.

import { env, pipeline, closeSharedRuntimes } from 'edgebert';

env.remoteHost = process.argv[2];
const clf = await pipeline('text-classification', 'org/distilbert_seqcls');
const answer = await clf('edge runtimes', { top_k: 2 });
await clf.dispose();
let missing;
try {
  await pipeline('text-classification', 'org/missing');
} catch (err) {
  missing = { code: err.code, message: err.message };
}
await closeSharedRuntimes();
console.log(`RESULT ${JSON.stringify({ answer, missing })}`);
