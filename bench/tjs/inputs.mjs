// inputs.mjs: the race's inputs, written for this benchmark (no dataset text), and the plan that
// fixes them to exact token counts with edgebert's tokenizer (bert-base-uncased's vocabulary, which
// every model of the race uses). prepare.mjs writes the plan; session.mjs runs it.

/** Plain prose the classification texts are cut from (repeated as needed). */
export const PROSE = [
  'the little cafe at the corner of the square opened early on saturday and the smell of fresh bread',
  'drifted across the market while the first stalls were still being set up. a cyclist stopped to ask',
  'for directions to the old bridge, and the owner drew a small map on a paper napkin for him. later',
  'a group of students arrived with guitars and played quietly by the fountain until the rain started.',
  'nobody seemed to mind the weather much; the awnings were wide, the coffee was strong and the cakes',
  'kept coming out of the oven. by noon the square was full of families, dogs and the sound of music.',
].join(' ');

/** Token classification: people, places and organisations in running text. */
export const NER_TEXT = 'Maria Keller flew from Lisbon to Oslo on Monday to meet the engineers of Nordvik Energy, ' +
  'who are building a wind farm near Bergen with help from the University of Tromso. ' +
  'Her colleague Tomas Brandt stayed in Berlin, where Siemens and the city council are planning ' +
  'a new tram line between Pankow and Neukolln. On Friday both of them will present the results ' +
  'to the European Commission in Brussels, together with Anna Lindqvist from the Swedish company Vattenfall.';

/** Question answering: a long context (3+ windows of 384 tokens) with the answer in its last third. */
export function qaContext() {
  const towns = ['Arden', 'Belmoor', 'Corvale', 'Dunmere', 'Eastwick', 'Falkirk', 'Glenrow', 'Harwell'];
  const things = ['a stone bridge', 'a grain mill', 'a public library', 'a railway station', 'a covered market',
    'a music hall', 'a fire station', 'a botanical garden', 'a clock tower', 'a harbour wall'];
  const people = ['local merchants', 'the county council', 'a group of farmers', 'the railway company',
    'a charitable trust', 'the fishermen', 'two brothers from the valley', 'the parish'];
  const sentences = [];
  for (let i = 0; i < 25; i++) {
    const year = 1801 + i * 4;
    sentences.push(`In ${year} ${people[i % people.length]} of ${towns[i % towns.length]} paid for ${things[(i * 3) % things.length]}, ` +
      `which was repaired in ${year + 37} after a storm damaged its roof and most of the surrounding houses.`);
    if (i === 18) sentences.push('The lighthouse on the northern cape was designed by the engineer Elena Marsh, who also planned the harbour.');
  }
  return sentences.join(' ');
}
export const QA_QUESTION = 'Who designed the lighthouse on the northern cape?';

/** 256 short sentences for the embedding batch. */
export function sentences256() {
  const subjects = ['The old sailor', 'A young teacher', 'My neighbour', 'The city council', 'Our small team', 'The baker',
    'A tired student', 'The museum guide'];
  const verbs = ['repaired', 'painted', 'described', 'photographed', 'sold', 'visited', 'cleaned', 'measured'];
  const objects = ['the wooden boat', 'a quiet garden', 'the broken clock', 'an empty warehouse'];
  const tails = ['before the storm.', 'on a sunny afternoon in May.', 'for the third time this year.', 'with great care.'];
  const out = [];
  for (const s of subjects) for (const v of verbs) for (const o of objects) out.push(`${s} ${v} ${o} ${tails[out.length % tails.length]}`);
  return out.slice(0, 256);
}

/** A prefix of PROSE (repeated) with exactly `n` tokens including [CLS] and [SEP]. */
export async function textOfTokens(count, n) {
  const words = PROSE.split(' ');
  let k = 1;
  let text = words[0];
  while (await count(text) < n) text += ` ${words[k++ % words.length]}`;
  while (await count(text) > n) text = text.slice(0, text.lastIndexOf(' '));
  if (await count(text) !== n) throw new Error(`no prefix of the prose has exactly ${n} tokens`);
  return text;
}

/**
 * The windows the QA pipelines use (max_seq_len 384, doc_stride 128: windows of the context
 * overlapping by 128 tokens), as substrings of the context cut at word boundaries: what
 * transformers.js, which truncates instead of windowing, is given so that both do the same work.
 * @param {{input_ids: number[], offset_mapping: number[][], word_ids: (number|null)[]}} ctx the context, no special tokens
 * @param {number} questionTokens the question's tokens, no special tokens
 */
export function qaWindows(context, ctx, questionTokens, maxSeqLen = 384, docStride = 128) {
  const room = maxSeqLen - questionTokens - 3;
  const n = ctx.input_ids.length;
  const windows = [];
  for (let start = 0; ; start += room - docStride) {
    let s = start;
    let e = Math.min(start + room, n);
    while (s > 0 && s < n && ctx.word_ids[s] === ctx.word_ids[s - 1]) s++;   // to a word's first token
    while (e < n && e > s && ctx.word_ids[e] === ctx.word_ids[e - 1]) e--;   // not past a word's last token
    windows.push(context.slice(ctx.offset_mapping[s][0], ctx.offset_mapping[e - 1][1]));
    if (start + room >= n) break;
  }
  return windows;
}
