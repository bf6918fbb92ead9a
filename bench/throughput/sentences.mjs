// sentences.mjs: the benches' short sentences, 8-20 words from a fixed word list and a seeded
// generator (no dataset text), so that every bench and run embeds the same 256.
const WORDS = ('morning river garden quietly station window paper yellow bridge market teacher bicycle ' +
  'winter coffee mountain letter kitchen music evening harbor lantern forest student village ' +
  'painted walked opened found carried watched noticed remembered').split(' ');
const GLUE = 'the a of to in on with near after before and but while because'.split(' ');

export function sentences(n, seed = 7) {
  let s = seed;
  const next = () => { s = (s * 1103515245 + 12345) % 2147483648; return s; };
  return Array.from({ length: n }, () => {
    const k = 8 + (next() % 13);
    const w = Array.from({ length: k }, (_, i) => (i % 3 === 1 ? GLUE : WORDS)[next() % (i % 3 === 1 ? GLUE.length : WORDS.length)]);
    return `${w.join(' ')}.`.replace(/^./, (c) => c.toUpperCase());
  });
}
