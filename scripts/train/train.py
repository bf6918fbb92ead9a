#!/usr/bin/env python3
"""Trains edgebert's models the way DistilBERT was made: fine-tuned BERT teachers (from
all-MiniLM-L6-v2), then half-depth DistilBERT students trained on the teacher's soft targets at a
temperature + the task's hard labels + a cosine loss aligning the last hidden states.

  train.py base    --out DIR                               the fp16-rounded base
  train.py teacher --task sst2|ner|qa --base DIR --out DIR [--holdout K] [--with-wnut]
  train.py student --task sst2|ner|qa --teacher DIR --out DIR [--alpha-cos 0] [--holdout K] [--with-wnut]
  train.py search  --teacher DIR --out DIR                 the 3-layer embedding student
  train.py eval    --task sst2|ner|qa|stsb --model DIR     fp32 score in transformers (JSON)

Runs on CPU; uses a GPU (bf16 autocast) when one is present. Checkpoints every --ckpt-every
steps into OUT/ckpt and resumes from there. Data is read from --data (default ../shared/data)."""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import models as M  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Hyper-parameters. Stated in each model card; changed only with a new model version.
TEACHER_HP = {
    # SST-2: chosen among 4 settings on 2,000 held-out training rows (gpu_select.py, 2026-12-04).
    "sst2": dict(epochs=2, lr=1e-4, batch=64, max_len=66, warmup=0.1),
    "ner": dict(epochs=6, lr=1e-4, batch=32, max_len=128, warmup=0.1),
    "qa": dict(epochs=3, lr=1e-4, batch=48, max_len=384, warmup=0.1),
}
STUDENT_HP = {
    "sst2": dict(epochs=3, lr=1e-4, batch=64, max_len=66, warmup=0.1, T=2.0, alpha_ce=0.5,
                 alpha_task=0.5, alpha_cos=1.0),
    "ner": dict(epochs=8, lr=1.5e-4, batch=32, max_len=128, warmup=0.1, T=2.0, alpha_ce=0.5,
                alpha_task=0.5, alpha_cos=1.0),
    "qa": dict(epochs=3, lr=1.5e-4, batch=48, max_len=384, warmup=0.1, T=2.0, alpha_ce=0.5,
               alpha_task=0.5, alpha_cos=1.0),
    "search": dict(epochs=2, lr=2e-4, batch=128, max_len=128, warmup=0.05),
}
LAYER_MAP = (0, 2, 4)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(dev):
    if dev.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def tokenizer_for(path):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(path)


# --- batching -------------------------------------------------------------------------------------

def pad(rows, value):
    n = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (n - len(r)) for r in rows], dtype=torch.long)


def batches(n, batch, seed, epoch, shuffle=True):
    idx = list(range(n))
    if shuffle:
        random.Random(seed * 1000 + epoch).shuffle(idx)
    for i in range(0, n, batch):
        yield idx[i:i + batch]


def make_batch(task, feats, idx, dev):
    ids = pad([feats["input_ids"][i] for i in idx], 0)
    b = {"input_ids": ids.to(dev), "attention_mask": (ids != 0).long().to(dev)}
    # [PAD] is id 0 in every vocabulary here; a real token never is.
    if "token_type_ids" in feats:
        b["token_type_ids"] = pad([feats["token_type_ids"][i] for i in idx], 0).to(dev)
    if task == "sst2":
        b["labels"] = torch.tensor([feats["labels"][i] for i in idx], device=dev)
    elif task == "ner":
        b["labels"] = pad([feats["labels"][i] for i in idx], -100).to(dev)
    elif task == "qa" and "start" in feats:
        b["start"] = torch.tensor([feats["start"][i] for i in idx], device=dev)
        b["end"] = torch.tensor([feats["end"][i] for i in idx], device=dev)
    return b


HOLDOUT_SEED = 20261204


def sst2_holdout(n_rows, k):
    """The k training rows (of n_rows) held out to choose hyper-parameters, so that SST-2's
    validation split is never used for a choice: a fixed draw, independent of the training seed."""
    return set(random.Random(HOLDOUT_SEED).sample(range(n_rows), k)) if k else set()


def task_features(task, tok, data_dir, split, hp, with_wnut=False, holdout=0):
    """Training features; holdout=k (SST-2) leaves out the rows sst2_holdout(k) names."""
    feats = _task_features(task, tok, data_dir, split, hp, with_wnut)
    if holdout:
        if task != "sst2":
            raise ValueError("holdout applies to SST-2 (UNER has its own dev split)")
        out = sst2_holdout(len(feats["input_ids"]), holdout)
        feats = {k: [x for i, x in enumerate(v) if i not in out] for k, v in feats.items()}
    limit = int(os.environ.get("EDGEBERT_TRAIN_LIMIT", "0"))  # smoke tests only
    return {k: v[:limit] for k, v in feats.items()} if limit else feats


def _task_features(task, tok, data_dir, split, hp, with_wnut=False):
    if task == "sst2":
        rows = D.read_sst2(data_dir, split)
        enc = tok([r[0] for r in rows], truncation=True, max_length=hp["max_len"])
        return {"input_ids": enc["input_ids"], "labels": [r[1] for r in rows]}
    if task == "ner":
        sents = D.read_uner(data_dir, split)
        if with_wnut and split == "train":
            sents = sents + D.read_wnut(data_dir, "train")
        return D.token_cls_features(tok, sents, hp["max_len"])
    if task == "qa":
        return D.qa_features(tok, D.read_squad(data_dir, split), hp["max_len"], 128, train=True)
    raise ValueError(task)


# --- the optimisation loop ------------------------------------------------------------------------

class Trainer:
    """AdamW with linear warm-up and decay, gradient clipping, checkpoint + resume."""

    def __init__(self, model, hp, steps, out, seed, ckpt_every=500):
        self.model, self.hp, self.steps, self.out, self.seed = model, hp, steps, out, seed
        decay, no_decay = [], []
        for n, p in model.named_parameters():
            if p.requires_grad:
                (no_decay if n.endswith("bias") or "LayerNorm" in n or "layer_norm" in n else decay).append(p)
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                      {"params": no_decay, "weight_decay": 0.0}], lr=hp["lr"])
        warm = max(1, int(steps * hp["warmup"]))
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        self.step = 0
        self.ckpt_every = ckpt_every
        self.ckpt = os.path.join(out, "ckpt.pt")
        if os.path.exists(self.ckpt):
            st = torch.load(self.ckpt, map_location="cpu", weights_only=False)
            model.load_state_dict(st["model"])
            self.opt.load_state_dict(st["opt"])
            self.sched.load_state_dict(st["sched"])
            self.step = st["step"]
            log(f"resumed at step {self.step}/{steps}")

    def update(self, loss):
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        self.step += 1
        if self.ckpt_every and self.step % self.ckpt_every == 0 and self.step < self.steps:
            os.makedirs(self.out, exist_ok=True)
            torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                        "sched": self.sched.state_dict(), "step": self.step}, self.ckpt + ".tmp")
            os.replace(self.ckpt + ".tmp", self.ckpt)

    def done(self):
        if os.path.exists(self.ckpt):
            os.remove(self.ckpt)


def run_epochs(trainer, n, hp, seed, step_fn, max_seconds=None):
    """Calls step_fn(idx) for each batch of each epoch, skipping the batches a resumed run did."""
    per_epoch = math.ceil(n / hp["batch"])
    t0 = time.time()
    k = 0
    for epoch in range(hp["epochs"]):
        for idx in batches(n, hp["batch"], seed, epoch):
            if k < trainer.step:
                k += 1
                continue
            loss = step_fn(idx)
            trainer.update(loss)
            k += 1
            if trainer.step % 200 == 0 or trainer.step == trainer.steps:
                log(f"step {trainer.step}/{trainer.steps} epoch {epoch} loss {loss.item():.4f} "
                    f"({time.time() - t0:.0f} s)")
            if max_seconds and time.time() - t0 > max_seconds:
                log(f"time budget reached: stopped after {trainer.step}/{trainer.steps} steps")
                return trainer.step
    return trainer.step


def fit_and_save(model, trainer, n, hp, seed, step, max_seconds, tokenizer_src, out, meta):
    """Runs the epochs, saves the model (fp32, with the tokenizer files) and its training.json."""
    t0 = time.time()
    done = run_epochs(trainer, n, hp, seed, step, max_seconds)
    model.eval()
    M.save_model(model.float().cpu(), tokenizer_src, out)
    trainer.done()
    meta = dict(meta, seed=seed, hp=hp, train_rows=n, steps=trainer.steps, steps_done=done,
                seconds=round(time.time() - t0, 1), device=str(device()))
    with open(os.path.join(out, "training.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return model, meta


# --- teachers -------------------------------------------------------------------------------------

def train_teacher(task, base, out, data_dir, seed=42, with_wnut=False, hp=None, max_seconds=None,
                  holdout=0):
    hp = dict(TEACHER_HP[task], **(hp or {}))
    seed_all(seed)
    dev = device()
    tok = tokenizer_for(base)
    labels = D.SST2_LABELS if task == "sst2" else D.NER_LABELS
    model = M.load_teacher(base, task, labels).to(dev)
    M.freeze_word_embeddings(model)
    feats = task_features(task, tok, data_dir, "train", hp, with_wnut, holdout)
    n = len(feats["input_ids"])
    steps = math.ceil(n / hp["batch"]) * hp["epochs"]
    log(f"teacher {task}: {n} training rows, {steps} steps, hp {hp}, device {dev}")
    trainer = Trainer(model, hp, steps, out, seed)
    model.train()

    def step(idx):
        b = make_batch(task, feats, idx, dev)
        with autocast(dev):
            if task == "qa":
                o = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                          token_type_ids=b["token_type_ids"])
                return (F.cross_entropy(o.start_logits.float(), b["start"]) +
                        F.cross_entropy(o.end_logits.float(), b["end"])) / 2
            o = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"])
            lg = o.logits.float()
            return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), b["labels"].reshape(-1), ignore_index=-100)

    return fit_and_save(model, trainer, n, hp, seed, step, max_seconds, base, out,
                        {"kind": "teacher", "task": task, "with_wnut": with_wnut, "holdout": holdout})


# --- students -------------------------------------------------------------------------------------

def masked_cos(hs, ht, mask):
    m = mask.bool()
    return 1.0 - F.cosine_similarity(hs[m].float(), ht[m].float(), dim=-1).mean()


def kl_t(s, t, T):
    """KL(teacher/T || student/T) * T^2, averaged over rows (DistilBERT's soft-target loss)."""
    return F.kl_div(F.log_softmax(s.float() / T, -1), F.softmax(t.float() / T, -1),
                    reduction="batchmean") * T * T


def train_student(task, teacher_dir, out, data_dir, seed=42, alpha_cos=None, with_wnut=False,
                  hp=None, max_seconds=None, teacher=None, holdout=0):
    hp = dict(STUDENT_HP[task], **(hp or {}))
    if alpha_cos is not None:
        hp["alpha_cos"] = alpha_cos
    seed_all(seed)
    dev = device()
    tok = tokenizer_for(teacher_dir)
    if teacher is None:
        from transformers import (BertForQuestionAnswering, BertForSequenceClassification,
                                  BertForTokenClassification)
        cls = {"sst2": BertForSequenceClassification, "ner": BertForTokenClassification,
               "qa": BertForQuestionAnswering}[task]
        teacher = cls.from_pretrained(teacher_dir)
    teacher = teacher.to(dev).eval()
    student = M.bert_to_distilbert(teacher, task, LAYER_MAP).to(dev)
    M.freeze_word_embeddings(student)
    feats = task_features(task, tok, data_dir, "train", hp, with_wnut, holdout)
    n = len(feats["input_ids"])
    steps = math.ceil(n / hp["batch"]) * hp["epochs"]
    log(f"student {task}: {n} rows, {steps} steps, hp {hp}, layers {LAYER_MAP}, device {dev}")
    trainer = Trainer(student, hp, steps, out, seed)
    student.train()
    T = hp["T"]

    def step(idx):
        b = make_batch(task, feats, idx, dev)
        mask = b["attention_mask"]
        with torch.no_grad(), autocast(dev):
            kw = {"token_type_ids": b["token_type_ids"]} if task == "qa" else {}
            to = teacher(input_ids=b["input_ids"], attention_mask=mask, output_hidden_states=True, **kw)
        with autocast(dev):
            so = student(input_ids=b["input_ids"], attention_mask=mask, output_hidden_states=True)
        loss_cos = masked_cos(so.hidden_states[-1], to.hidden_states[-1], mask)
        if task == "sst2":
            loss_ce = kl_t(so.logits, to.logits, T)
            loss_task = F.cross_entropy(so.logits.float(), b["labels"])
        elif task == "ner":
            m = mask.bool()
            loss_ce = kl_t(so.logits[m], to.logits[m], T)
            lg = so.logits.float()
            loss_task = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), b["labels"].reshape(-1), ignore_index=-100)
        else:
            neg = -1e4
            ms = mask.bool()
            s_st = so.start_logits.float().masked_fill(~ms, neg)
            s_en = so.end_logits.float().masked_fill(~ms, neg)
            t_st = to.start_logits.float().masked_fill(~ms, neg)
            t_en = to.end_logits.float().masked_fill(~ms, neg)
            loss_ce = (kl_t(s_st, t_st, T) + kl_t(s_en, t_en, T)) / 2
            loss_task = (F.cross_entropy(s_st, b["start"]) + F.cross_entropy(s_en, b["end"])) / 2
        return hp["alpha_ce"] * loss_ce + hp["alpha_task"] * loss_task + hp["alpha_cos"] * loss_cos

    return fit_and_save(student, trainer, n, hp, seed, step, max_seconds, teacher_dir, out,
                        {"kind": "student", "task": task, "layer_map": list(LAYER_MAP), "with_wnut": with_wnut,
                         "holdout": holdout})


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def train_search(teacher_dir, out, data_dir, seed=42, hp=None, max_seconds=None, limit=None):
    """The search student: all-MiniLM-L6-v2's layers 0, 2, 4 in a DistilBERT, trained so that its
    mean-pooled embedding matches the teacher's (MSE + cosine) on unlabeled training-set text."""
    hp = dict(STUDENT_HP["search"], **(hp or {}))
    seed_all(seed)
    dev = device()
    tok = tokenizer_for(teacher_dir)
    teacher = M.load_teacher(teacher_dir, "search").to(dev).eval()
    student = M.bert_to_distilbert(teacher, "search", LAYER_MAP).to(dev)
    M.freeze_word_embeddings(student)
    limit = limit or int(os.environ.get("EDGEBERT_TRAIN_LIMIT", "0")) or None  # smoke tests only
    sents = D.unlabeled_sentences(data_dir, limit=limit, seed=seed)
    enc = tok(sents, truncation=True, max_length=hp["max_len"])
    feats = {"input_ids": enc["input_ids"]}
    n = len(sents)
    steps = math.ceil(n / hp["batch"]) * hp["epochs"]
    log(f"search student: {n} sentences, {steps} steps, hp {hp}, device {dev}")
    trainer = Trainer(student, hp, steps, out, seed)
    student.train()

    def step(idx):
        b = make_batch("search", feats, idx, dev)
        mask = b["attention_mask"]
        with torch.no_grad(), autocast(dev):
            te = mean_pool(teacher(input_ids=b["input_ids"], attention_mask=mask).last_hidden_state.float(), mask)
        with autocast(dev):
            se = mean_pool(student(input_ids=b["input_ids"], attention_mask=mask).last_hidden_state.float(), mask)
        return F.mse_loss(se, te) + (1 - F.cosine_similarity(se, te, dim=-1)).mean()

    return fit_and_save(student, trainer, n, hp, seed, step, max_seconds, teacher_dir, out,
                        {"kind": "student", "task": "search", "layer_map": list(LAYER_MAP)})


# --- evaluation (fp32, transformers) -----------------------------------------------------------------

@torch.no_grad()
def eval_sst2(model, tok, data_dir, dev, split="validation", holdout=0):
    """Accuracy on SST-2 validation, or (split='holdout') on the held-out training rows."""
    if split == "holdout":
        train = D.read_sst2(data_dir, "train")
        rows = [train[i] for i in sorted(sst2_holdout(len(train), holdout))][:_eval_limit()]
    else:
        rows = D.read_sst2(data_dir, "validation")[:_eval_limit()]
    correct = 0
    for i in range(0, len(rows), 64):
        chunk = rows[i:i + 64]
        enc = tok([r[0] for r in chunk], padding=True, truncation=True, max_length=512, return_tensors="pt")
        lg = model(input_ids=enc["input_ids"].to(dev), attention_mask=enc["attention_mask"].to(dev)).logits
        correct += sum(int(p == r[1]) for p, r in zip(lg.argmax(-1).tolist(), chunk))
    return {"accuracy": 100.0 * correct / len(rows), "n": len(rows)}


def _eval_limit():
    """EDGEBERT_EVAL_LIMIT=N scores only the first N rows (smoke tests); unset: all."""
    return int(os.environ.get("EDGEBERT_EVAL_LIMIT") or "0") or None


def spans(tags):
    """Entity spans (type, start, end) from IOB2 tags, read as seqeval's default mode does: an
    entity starts at B-X, or at I-X after O or another type; it ends where the next tag does not
    continue it."""
    out, cur = [], None
    for i, t in enumerate(list(tags) + ["O"]):
        typ = t[2:] if t != "O" else None
        starts = t.startswith("B-") or (t.startswith("I-") and (cur is None or cur[0] != typ))
        if cur is not None and (t == "O" or starts):
            out.append((cur[0], cur[1], i))
            cur = None
        if starts:
            cur = (typ, i)
    return set(out)


def entity_f1(gold_tags, pred_tags):
    tp = n_pred = n_gold = 0
    for g, p in zip(gold_tags, pred_tags):
        gs, ps = spans(g), spans(p)
        tp += len(gs & ps)
        n_pred += len(ps)
        n_gold += len(gs)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"f1": 100 * f1, "precision": 100 * prec, "recall": 100 * rec, "gold": n_gold, "pred": n_pred}


@torch.no_grad()
def eval_ner(model, tok, data_dir, dev, split="test"):
    """Word-level tags from each word's first sub-token (as the pipeline's 'first' aggregation),
    entity F1 with exact span and type match, micro-averaged."""
    sents = D.read_uner(data_dir, split)[:_eval_limit()]
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    preds = []
    for i in range(0, len(sents), 32):
        chunk = sents[i:i + 32]
        enc = tok([w for w, _ in chunk], is_split_into_words=True, truncation=True, max_length=512,
                  padding=True, return_tensors="pt")
        inputs = {"input_ids": enc["input_ids"].to(dev), "attention_mask": enc["attention_mask"].to(dev)}
        arg = model(**inputs).logits.argmax(-1).tolist()
        for j, (words, _) in enumerate(chunk):
            tags = ["O"] * len(words)
            prev = None
            for k, wid in enumerate(enc.word_ids(j)):
                if wid is not None and wid != prev:
                    tags[wid] = labels[arg[j][k]]
                prev = wid
            preds.append(tags)
    return dict(entity_f1([t for _, t in sents], preds), n=len(sents))


def squad_normalize(s):
    import re
    import string
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def squad_scores(pred, golds):
    """Exact match and token F1 of one prediction, max over the reference answers (the official
    SQuAD v1.1 evaluation)."""
    from collections import Counter
    em = f1 = 0.0
    p_toks = squad_normalize(pred).split()
    for g in golds:
        g_toks = squad_normalize(g).split()
        em = max(em, float(p_toks == g_toks))
        common = Counter(p_toks) & Counter(g_toks)
        same = sum(common.values())
        if same:
            pr, rc = same / len(p_toks), same / len(g_toks)
            f1 = max(f1, 2 * pr * rc / (pr + rc))
    return em, f1


def best_span(start, end, ctx_mask, max_answer_len):
    """The question-answering pipeline's choice in one window: softmax over the context tokens and
    [CLS] (question and special tokens masked), [CLS] then zeroed, best start <= end with at most
    max_answer_len tokens, scored p_start * p_end."""
    allowed = ctx_mask.copy()
    allowed[0] = 1
    s = np.where(allowed == 1, start, -10000.0)
    e = np.where(allowed == 1, end, -10000.0)
    s = np.exp(s - s.max()); s /= s.sum()
    e = np.exp(e - e.max()); e /= e.sum()
    s[0] = e[0] = 0.0
    s = s * ctx_mask
    e = e * ctx_mask
    scores = np.outer(s, e)
    scores = np.triu(scores) - np.triu(scores, max_answer_len)
    k = int(scores.argmax())
    i, j = divmod(k, scores.shape[1])
    return i, j, float(scores[i, j])


@torch.no_grad()
def predict_squad(model, tok, examples, dev, max_answer_len=30, batch=64):
    feats = D.qa_features(tok, examples, 384, 128, train=False)
    best = {}
    use_types = model.config.model_type == "bert"
    for i in range(0, len(feats["input_ids"]), batch):
        idx = list(range(i, min(i + batch, len(feats["input_ids"]))))
        ids = pad([feats["input_ids"][k] for k in idx], 0).to(dev)
        kw = {"attention_mask": (ids != 0).long()}
        if use_types:
            kw["token_type_ids"] = pad([feats["token_type_ids"][k] for k in idx], 0).to(dev)
        o = model(input_ids=ids, **kw)
        st, en = o.start_logits.float().cpu().numpy(), o.end_logits.float().cpu().numpy()
        for r, k in enumerate(idx):
            n = len(feats["input_ids"][k])
            cm = np.array(feats["context_mask"][k])
            a, b, score = best_span(st[r, :n], en[r, :n], cm, max_answer_len)
            ex = feats["example"][k]
            if ex not in best or score > best[ex][0]:
                off = feats["offsets"][k]
                if off[a] is None or off[b] is None:
                    continue
                best[ex] = (score, examples[ex]["context"][off[a][0]:off[b][1]])
    return {ex: txt for ex, (_, txt) in best.items()}


def eval_squad(model, tok, data_dir, dev, limit=None):
    exs = D.read_squad(data_dir, "dev")[:limit or _eval_limit()]
    preds = predict_squad(model, tok, exs, dev)
    em = f1 = 0.0
    for i, ex in enumerate(exs):
        e, f = squad_scores(preds.get(i, ""), ex["answers"])
        em += e
        f1 += f
    return {"exact_match": 100 * em / len(exs), "f1": 100 * f1 / len(exs), "n": len(exs)}


def spearman(a, b):
    def ranks(x):
        x = np.asarray(x, dtype=np.float64)
        order = x.argsort(kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        # ties share their mean rank
        for v in np.unique(x):
            m = x == v
            if m.sum() > 1:
                r[m] = r[m].mean()
        return r
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


@torch.no_grad()
def embed(model, tok, texts, dev, batch=128):
    out = []
    for i in range(0, len(texts), batch):
        enc = tok(texts[i:i + batch], padding=True, truncation=True, max_length=512, return_tensors="pt")
        ids, mask = enc["input_ids"].to(dev), enc["attention_mask"].to(dev)
        h = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        out.append(F.normalize(mean_pool(h, mask), dim=-1).cpu())
    return torch.cat(out)


def eval_stsb(model, tok, data_dir, dev):
    rows = D.read_stsb(data_dir)[:_eval_limit()]
    a = embed(model, tok, [r[0] for r in rows], dev)
    b = embed(model, tok, [r[1] for r in rows], dev)
    cos = (a * b).sum(-1).numpy()
    return {"spearman": 100 * spearman(cos, [r[2] for r in rows]), "n": len(rows)}


def load_for_eval(task, path):
    import transformers
    if task == "stsb":
        return transformers.AutoModel.from_pretrained(path)
    cls = {"sst2": transformers.AutoModelForSequenceClassification,
           "ner": transformers.AutoModelForTokenClassification,
           "qa": transformers.AutoModelForQuestionAnswering}[task]
    return cls.from_pretrained(path)


def evaluate(task, model, tok, data_dir, dev=None, limit=None, split=None, holdout=0):
    dev = dev or device()
    model = model.to(dev).eval().float()
    if task == "sst2":
        return eval_sst2(model, tok, data_dir, dev, split or "validation", holdout)
    if task == "ner":
        return eval_ner(model, tok, data_dir, dev, split or "test")
    if task == "qa":
        return eval_squad(model, tok, data_dir, dev, limit)
    if task == "stsb":
        return eval_stsb(model, tok, data_dir, dev)
    raise ValueError(task)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["base", "teacher", "student", "search", "eval", "restore"])
    ap.add_argument("--task")
    ap.add_argument("--base", default=os.path.join(ROOT, "build/train/base"))
    ap.add_argument("--teacher")
    ap.add_argument("--model")
    ap.add_argument("--out")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--alpha-cos", type=float)
    ap.add_argument("--with-wnut", action="store_true")
    ap.add_argument("--holdout", type=int, default=0, help="SST-2: training rows held out (sst2_holdout)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--threads", type=int)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.cmd == "base":
        M.prepare_base(M.minilm_dir(), a.out or a.base)
    elif a.cmd == "teacher":
        train_teacher(a.task, a.base, a.out, a.data, a.seed, a.with_wnut, holdout=a.holdout)
    elif a.cmd == "student":
        train_student(a.task, a.teacher, a.out, a.data, a.seed, a.alpha_cos, a.with_wnut, holdout=a.holdout)
    elif a.cmd == "search":
        train_search(a.teacher or a.base, a.out, a.data, a.seed, limit=a.limit)
    elif a.cmd == "restore":
        M.restore_transfer(a.model, a.base, a.out)
    elif a.cmd == "eval":
        tok = tokenizer_for(a.model)
        res = evaluate(a.task, load_for_eval(a.task, a.model), tok, a.data, limit=a.limit)
        print(json.dumps(dict(res, task=a.task, model=a.model)))


if __name__ == "__main__":
    main()
