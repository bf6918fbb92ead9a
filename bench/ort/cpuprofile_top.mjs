// cpuprofile_top.mjs: self time per function of a V8 .cpuprofile (node --cpu-prof), top 25.
import { readFileSync } from 'node:fs';

const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
for (const id of p.samples) {
  const f = byId.get(id).callFrame;
  const name = f.functionName || `(anonymous ${f.url})`;
  self.set(name, (self.get(name) || 0) + 1);
}
const total = p.samples.length;
for (const [name, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 140)}`);
}
