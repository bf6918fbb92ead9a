// check_pack.mjs: npm's prepack step. The package carries the built engine (build/wasm/wasm/), which
// git does not track: refuse to pack without it, or with a build older than the sources it comes from.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const built = ['edgebert.mjs', 'edgebert.wasm', 'edgebert-threads.mjs', 'edgebert-threads.wasm', 'edgebert-threads.worker.js']
  .map((f) => join(root, 'build/wasm/wasm', f));
const missing = built.filter((f) => !existsSync(f));
if (missing.length) {
  console.error(`prepack: the wasm build is missing (${missing.join(', ')}); run scripts/build.sh wasm first`);
  process.exit(1);
}
const oldest = Math.min(...built.map((f) => statSync(f).mtimeMs));
const newer = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(cc|h|js|cmake|txt)$/.test(e.name) && statSync(p).mtimeMs > oldest) newer.push(p.slice(root.length));
  }
};
walk(join(root, 'src'));
walk(join(root, 'wasm'));
if (newer.length) {
  console.error(`prepack: the wasm build is older than ${newer.slice(0, 5).join(', ')}${newer.length > 5 ? ', ...' : ''}; run scripts/build.sh wasm first`);
  process.exit(1);
}
