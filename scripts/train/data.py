"""Readers for the task data in ../shared/data (read by path, never copied into the repository)
and the feature builders that turn it into model inputs with a Hugging Face fast tokenizer."""
import csv
import gzip
import json
import os
import re

# Entity labels of the shipped token-classification models: IOB2 over PER / LOC / ORG.
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
SST2_LABELS = ["NEGATIVE", "POSITIVE"]


def _open(path):
    """Opens path, or path + '.gz' (the GPU run carries the data gzipped)."""
    if os.path.exists(path):
        return open(path, encoding="utf-8")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rt", encoding="utf-8")
    raise FileNotFoundError(path)


def read_sst2(data_dir, split):
    """SST-2 rows as (sentence, label). 'train' is GLUE's training split (train + train_extra)."""
    files = ["train.tsv", "train_extra.tsv"] if split == "train" else ["validation.tsv"]
    rows = []
    for name in files:
        with _open(os.path.join(data_dir, "sst2", name)) as f:
            header = f.readline().rstrip("\n").split("\t")
            assert header[:2] == ["sentence", "label"], header
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2:
                    continue
                rows.append((parts[0].strip(), int(parts[1])))
    return rows


def _map_uner_tag(tag):
    # OTH and the stray B-O / I-O tags map to O; PER / LOC / ORG are kept (IOB2).
    if tag == "O" or tag[2:] not in ("PER", "LOC", "ORG"):
        return "O"
    return tag


_WNUT_MAP = {"person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG"}


def _map_wnut_tag(tag):
    if tag == "O":
        return "O"
    kind = _WNUT_MAP.get(tag[2:])
    return f"{tag[:2]}{kind}" if kind else "O"


def _repair_iob2(tags):
    """After mapping, an I-X can follow O or another type (e.g. I-OTH -> O before I-PER never
    happens in the data, but a dropped B- can): such an I-X starts a new entity, as seqeval reads
    it, so it is written as B-X."""
    out = []
    prev = "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            t = "B-" + t[2:]
        out.append(t)
        prev = t
    return out


def _read_conll(path, word_col, tag_col, map_tag):
    """Sentences of a CoNLL-like file (one token a line, blank lines between sentences, '#'
    comment lines) as (words, IOB2 tags mapped by map_tag)."""
    sents, words, tags = [], [], []
    with _open(path) as f:
        for line in list(f) + [""]:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if words:
                    sents.append((words, _repair_iob2(tags)))
                words, tags = [], []
                continue
            cols = line.split("\t")
            words.append(cols[word_col])
            tags.append(map_tag(cols[tag_col]))
    return sents


def read_uner(data_dir, split):
    """UNER English-EWT sentences as (words, tags) with tags in NER_LABELS."""
    return _read_conll(os.path.join(data_dir, "uner_en_ewt", f"{split}.iob2"), 1, 2, _map_uner_tag)


def read_wnut(data_dir, split):
    """WNUT-17 sentences as (words, tags): person -> PER, location -> LOC, corporation and
    group -> ORG, the rest -> O."""
    return _read_conll(os.path.join(data_dir, "wnut17", f"{split}.conll"), 0, -1, _map_wnut_tag)


def read_squad(data_dir, split):
    """SQuAD v1.1 as dicts {id, question, context, answers: [text], starts: [int]}."""
    with _open(os.path.join(data_dir, "squad_v1.1", f"{split}.json")) as f:
        doc = json.load(f)
    out = []
    for article in doc["data"]:
        for para in article["paragraphs"]:
            ctx = para["context"]
            for qa in para["qas"]:
                out.append({"id": qa.get("id", str(len(out))), "question": qa["question"], "context": ctx,
                            "answers": [a["text"] for a in qa["answers"]],
                            "starts": [a["answer_start"] for a in qa["answers"]]})
    return out


def read_stsb(data_dir):
    """STS-B dev pairs as (sentence1, sentence2, score 0-5)."""
    rows = []
    with _open(os.path.join(data_dir, "stsb", "sts-dev.csv")) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 7:
                continue
            rows.append((cols[5], cols[6], float(cols[4])))
    return rows


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def unlabeled_sentences(data_dir, limit=None, seed=0):
    """Unlabeled sentences for the search student, taken from the training sets' text:
    SST-2 training phrases of 4+ words, UNER training sentences, SQuAD training questions and
    context sentences. De-duplicated, shuffled with the seed."""
    import random
    seen, out = set(), []

    def add(s):
        s = s.strip()
        if len(s.split()) < 4 or len(s) > 600 or s in seen:
            return
        seen.add(s)
        out.append(s)

    for s, _ in read_sst2(data_dir, "train"):
        add(s)
    for words, _ in read_uner(data_dir, "train"):
        add(" ".join(words))
    contexts = set()
    for ex in read_squad(data_dir, "train"):
        add(ex["question"])
        contexts.add(ex["context"])
    for ctx in sorted(contexts):
        for s in _SENT_SPLIT.split(ctx):
            add(s)
    random.Random(seed).shuffle(out)
    return out[:limit] if limit else out


# --- features ---------------------------------------------------------------------------------

def token_cls_features(tokenizer, sents, max_length=128):
    """Tokenizes pre-split words; the label sits on each word's first sub-token, -100 elsewhere."""
    enc = tokenizer([w for w, _ in sents], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    labels = []
    for i, (_, tags) in enumerate(sents):
        prev = None
        row = []
        for wid in enc.word_ids(i):
            if wid is None or wid == prev:
                row.append(-100)
            else:
                row.append(NER_LABELS.index(tags[wid]))
            prev = wid
        labels.append(row)
    return {"input_ids": enc["input_ids"], "labels": labels}


def qa_features(tokenizer, examples, max_length=384, stride=128, train=True):
    """SQuAD windows as the question-answering pipeline makes them (question first, context
    truncated with a stride). For training, each window's label is the answer's token span, or
    the [CLS] position where the window does not hold the whole answer."""
    enc = tokenizer([e["question"] for e in examples], [e["context"] for e in examples],
                    truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    feats = {"input_ids": [], "token_type_ids": [], "example": [], "offsets": [],
             "context_mask": []}
    if train:
        feats["start"], feats["end"] = [], []
    for i in range(len(enc["input_ids"])):
        ex_idx = enc["overflow_to_sample_mapping"][i]
        seq_ids = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        feats["input_ids"].append(enc["input_ids"][i])
        feats["token_type_ids"].append(enc["token_type_ids"][i])
        feats["example"].append(ex_idx)
        feats["context_mask"].append([1 if s == 1 else 0 for s in seq_ids])
        feats["offsets"].append([o if s == 1 else None for o, s in zip(offsets, seq_ids)])
        if train:
            ex = examples[ex_idx]
            a_start = ex["starts"][0]
            a_end = a_start + len(ex["answers"][0])
            ctx_tokens = [t for t, s in enumerate(seq_ids) if s == 1]
            st = en = 0
            if ctx_tokens and offsets[ctx_tokens[0]][0] <= a_start and offsets[ctx_tokens[-1]][1] >= a_end:
                for t in ctx_tokens:
                    if offsets[t][0] <= a_start < offsets[t][1] or (offsets[t][0] >= a_start and st == 0):
                        st = t
                        break
                for t in reversed(ctx_tokens):
                    if offsets[t][0] < a_end <= offsets[t][1] or (offsets[t][1] <= a_end and en == 0):
                        en = t
                        break
                if en < st:
                    st = en = 0
            feats["start"].append(st)
            feats["end"].append(en)
    return feats
