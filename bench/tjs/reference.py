"""reference.py: what Python transformers (fp32, PyTorch) answers on the race's inputs, the yardstick
both int8 engines are compared with (bench/tjs/race.mjs). Reads build/tjs/plan.json, writes
build/tjs/reference.json in the shape session.mjs normalises answers to.

  python bench/tjs/reference.py     (run.sh calls it; needs the fixture environment: torch, transformers)
"""
import hashlib
import json
import sys
from pathlib import Path

import torch
import transformers

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "build" / "tjs" / "models"


def main() -> int:
    plan = json.loads((ROOT / "build" / "tjs" / "plan.json").read_text())
    inputs = plan["inputs"]
    target = ROOT / "build" / "tjs" / "reference.json"
    # Same models, same inputs, same weights: nothing to redo.
    stamp = hashlib.sha256(json.dumps([plan["models"], inputs, [
        (MODELS / m["name"] / "model.safetensors").resolve().stat().st_mtime for m in plan["models"]]], sort_keys=True).encode()).hexdigest()
    if target.is_file() and json.loads(target.read_text()).get("_stamp") == stamp:
        return 0
    torch.set_num_threads(2)
    out = {"_stamp": stamp}
    for m in plan["models"]:
        d = str(MODELS / m["name"])
        task = m["task"]
        if task == "text-classification":
            p = transformers.pipeline("text-classification", model=d, tokenizer=d)
            out[m["name"]] = [[{"label": r["label"], "score": r["score"]} for r in [p(inputs["classify"][str(n)])[0]]]
                              for n in (128, 16, 384)]
        elif task == "token-classification":
            p = transformers.pipeline("token-classification", model=d, tokenizer=d, aggregation_strategy="simple")
            out[m["name"]] = [[{"entity_group": g["entity_group"], "score": float(g["score"]), "word": g["word"]}
                               for g in p(inputs["ner"]["text"])]]
        elif task == "question-answering":
            p = transformers.pipeline("question-answering", model=d, tokenizer=d)
            r = p(question=inputs["qa"]["question"], context=inputs["qa"]["context"], max_seq_len=384, doc_stride=128)
            out[m["name"]] = [{"answer": r["answer"], "score": float(r["score"])}]
        else:
            tok = transformers.AutoTokenizer.from_pretrained(d)
            model = transformers.AutoModel.from_pretrained(d).eval()
            enc = tok(inputs["embed"]["sentences"], padding=True, return_tensors="pt")
            with torch.no_grad():
                h = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            e = torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1)
            out[m["name"]] = [{"dims": list(e.shape), "data": [round(x, 6) for x in e.flatten().tolist()]}]
        print(f"reference: {m['name']}", flush=True)
    target.write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
