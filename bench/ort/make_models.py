"""make_models.py: the benchmark models (not committed; regenerated on demand into bench/models/).

A DistilBERT-base geometry model (vocab 30522, hidden 768, 6 layers, 12 heads, FFN 3072) with
random, seeded weights, saved three ways so every engine runs the SAME weights:
  bench/models/distilbert-base/           config.json + model.safetensors (what edgebert converts)
  bench/models/distilbert-base/onnx/model.onnx            fp32 ONNX export
  bench/models/distilbert-base/onnx/model_quantized.onnx  ORT dynamic int8 ("q8", as transformers.js
                                                          publishes: int8 weights, uint8 activations
                                                          quantized at run time, MatMulInteger)
Random weights are fine for speed; accuracy is measured elsewhere on a real model.
"""
import sys
from pathlib import Path

import torch
from transformers import DistilBertConfig, DistilBertModel

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "models" / "distilbert-base"


def main() -> None:
    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=30522, dim=768, n_layers=6, n_heads=12, hidden_dim=3072,
                              max_position_embeddings=512)
    model = DistilBertModel(config).eval()
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)

    onnx_dir = OUT / "onnx"
    onnx_dir.mkdir(exist_ok=True)
    ids = torch.ones(1, 16, dtype=torch.long)
    mask = torch.ones(1, 16, dtype=torch.long)
    fp32 = onnx_dir / "model.onnx"
    torch.onnx.export(model, (ids, mask), str(fp32), input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], opset_version=14, dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "last_hidden_state": {0: "batch", 1: "seq"}})

    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(str(fp32), str(onnx_dir / "model_quantized.onnx"), weight_type=QuantType.QInt8,
                     per_channel=False)
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(ROOT)}: {p.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
