#!/usr/bin/env python3
"""The second GPU run: the SST-2 and entity models with their hyper-parameters chosen on data that
is never reported (SST-2: 2,000 training rows held out; UNER: its dev split), plus the cosine-term
ablation. A single training job uses a fraction of an H200 (small batches, launch-bound), so the
candidates of each phase train side by side, one process each:

  phase A  SST-2 teachers (4 learning-rate/epoch settings, on train minus the holdout) and UNER
           teachers (UNER alone and UNER + WNUT-17, two learning rates each);
  phase B  students of the chosen teachers: SST-2 at two learning rates with the cosine term and
           one without it (the ablation, same learning rate as the recipe), NER at two learning
           rates.

The chosen teachers and students come back as transfer files (models.save_transfer) with
results.json, which records every candidate's scores and the choices.

  python3 scripts/train/gpu_select.py --data DIR --base DIR --out $OUT [--deadline 520]"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

HOLDOUT = 2000

PHASE_A = [
    # name, task, hp overrides, with_wnut
    ("sst2_t_lr7e-5_e3", "sst2", {"lr": 7e-5, "epochs": 3}, False),  # the first run's recipe
    ("sst2_t_lr5e-5_e3", "sst2", {"lr": 5e-5, "epochs": 3}, False),
    ("sst2_t_lr3e-5_e4", "sst2", {"lr": 3e-5, "epochs": 4}, False),
    ("sst2_t_lr1e-4_e2", "sst2", {"lr": 1e-4, "epochs": 2}, False),
    ("ner_t_uner_lr1e-4", "ner", {"lr": 1e-4}, False),  # the first run's recipe, uncut
    ("ner_t_uner_lr5e-5", "ner", {"lr": 5e-5}, False),
    ("ner_t_wnut_lr1e-4", "ner", {"lr": 1e-4}, True),
    ("ner_t_wnut_lr5e-5", "ner", {"lr": 5e-5}, True),
]


def phase_b(sst2_teacher, ner_teacher):
    # name, task, teacher job, hp overrides, alpha_cos
    return [
        ("sst2_s_lr1e-4", "sst2", sst2_teacher, {"lr": 1e-4}, None),
        ("sst2_s_lr5e-5", "sst2", sst2_teacher, {"lr": 5e-5}, None),
        ("sst2_s_lr1e-4_nocos", "sst2", sst2_teacher, {"lr": 1e-4}, 0.0),
        ("ner_s_lr1.5e-4", "ner", ner_teacher, {"lr": 1.5e-4}, None),
        ("ner_s_lr1e-4", "ner", ner_teacher, {"lr": 1e-4}, None),
    ]


def run_job(spec):
    """One candidate: train, evaluate on the choosing split and the reported one, save."""
    import torch
    import models as M
    import train as T
    torch.set_num_threads(spec.get("threads", 2))
    torch.backends.cuda.matmul.allow_tf32 = True
    out = spec["dir"]
    task = spec["task"]
    holdout = HOLDOUT if task == "sst2" else 0
    if spec["kind"] == "teacher":
        m, meta = T.train_teacher(task, spec["base"], out, spec["data"], spec["seed"], spec["with_wnut"],
                                  hp=spec["hp"], max_seconds=spec["max_seconds"], holdout=holdout)
    else:
        m, meta = T.train_student(task, spec["teacher_dir"], out, spec["data"], spec["seed"],
                                  alpha_cos=spec["alpha_cos"], with_wnut=spec["with_wnut"], hp=spec["hp"],
                                  max_seconds=spec["max_seconds"], holdout=holdout)
    tok = T.tokenizer_for(spec["base"])
    dev = T.device()
    if task == "sst2":
        ev = {"choose": T.evaluate("sst2", m, tok, spec["data"], dev, split="holdout", holdout=HOLDOUT),
              "report": T.evaluate("sst2", m, tok, spec["data"], dev, split="validation")}
        score = ev["choose"]["accuracy"]
    else:
        ev = {"choose": T.evaluate("ner", m, tok, spec["data"], dev, split="dev"),
              "report": T.evaluate("ner", m, tok, spec["data"], dev, split="test")}
        score = ev["choose"]["f1"]
    M.save_transfer(m, os.path.join(spec["transfer"], spec["name"]), dict(meta, eval=ev))
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump({"train": meta, "eval": ev, "score": score}, f, indent=2)


def launch(specs, work):
    procs = []
    for spec in specs:
        os.makedirs(spec["dir"], exist_ok=True)
        path = os.path.join(work, spec["name"] + ".spec.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        log = open(os.path.join(work, spec["name"] + ".log"), "w")
        procs.append((spec, subprocess.Popen([sys.executable, os.path.abspath(__file__), "job", path],
                                             stdout=log, stderr=subprocess.STDOUT)))
    results = {}
    for spec, p in procs:
        rc = p.wait()
        rpath = os.path.join(spec["dir"], "result.json")
        if rc == 0 and os.path.exists(rpath):
            with open(rpath) as f:
                results[spec["name"]] = json.load(f)
        else:
            with open(os.path.join(work, spec["name"] + ".log")) as f:
                tail = f.read()[-1500:]
            print(f"!! {spec['name']} failed (rc {rc}):\n{tail}", flush=True)
            results[spec["name"]] = {"error": f"rc {rc}", "log_tail": tail[-400:]}
        r = results[spec["name"]]
        print(f"{spec['name']}: score {r.get('score')} report {json.dumps(r.get('eval', {}).get('report'))} "
              f"steps {r.get('train', {}).get('steps_done')}/{r.get('train', {}).get('steps')} "
              f"{r.get('train', {}).get('seconds')} s", flush=True)
    return results


def best(results, prefix):
    """The highest choosing score among the jobs named prefix*; ties go to the earlier job."""
    ok = [(n, r["score"]) for n, r in results.items() if n.startswith(prefix) and "score" in r]
    if not ok:
        return None
    top = max(s for _, s in ok)
    return next(n for n, s in ok if s == top)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "job":
        with open(sys.argv[2]) as f:
            run_job(json.load(f))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/edgebert-select")
    ap.add_argument("--deadline", type=float, default=520)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads per job")
    a = ap.parse_args()
    t0 = time.time()
    left = lambda: a.deadline - (time.time() - t0)  # noqa: E731
    tx = os.path.join(a.work, "transfer")
    os.makedirs(tx, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    base_spec = {"base": os.path.abspath(a.base), "data": os.path.abspath(a.data), "seed": a.seed,
                 "transfer": tx, "threads": a.threads}
    import torch
    import transformers
    res = {"device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
           "torch": torch.__version__, "transformers": transformers.__version__, "seed": a.seed,
           "holdout": HOLDOUT}

    def save():
        res["seconds"] = round(time.time() - t0, 1)
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump(res, f, indent=2)

    # Phase A gets about 45% of the time; the students' phase the rest.
    cap_a = max(20.0, min(240.0, left() * 0.45))
    specs = [dict(base_spec, name=n, kind="teacher", task=t, hp=hp, with_wnut=w,
                  dir=os.path.join(a.work, n), max_seconds=cap_a) for n, t, hp, w in PHASE_A]
    print(f"phase A: {len(specs)} teachers side by side, cap {cap_a:.0f} s each", flush=True)
    res["phase_a"] = launch(specs, a.work)
    res["chosen_sst2_teacher"] = best(res["phase_a"], "sst2_t_")
    res["chosen_ner_teacher"] = best(res["phase_a"], "ner_t_")
    save()
    if not res["chosen_sst2_teacher"] or not res["chosen_ner_teacher"]:
        print("no teacher to distil from", flush=True)
        return
    teachers = {j[0]: j for j in PHASE_A}
    cap_b = max(20.0, left() - 60)
    specs = []
    for n, task, tname, hp, cos in phase_b(res["chosen_sst2_teacher"], res["chosen_ner_teacher"]):
        specs.append(dict(base_spec, name=n, kind="student", task=task, hp=hp, alpha_cos=cos,
                          with_wnut=teachers[tname][3], teacher_dir=os.path.join(a.work, tname),
                          dir=os.path.join(a.work, n), max_seconds=cap_b))
    print(f"phase B: {len(specs)} students side by side, cap {cap_b:.0f} s each", flush=True)
    res["phase_b"] = launch(specs, a.work)
    res["chosen_sst2_student"] = best({k: v for k, v in res["phase_b"].items() if "nocos" not in k}, "sst2_s_")
    res["chosen_ner_student"] = best(res["phase_b"], "ner_s_")
    save()
    for key in ("chosen_sst2_teacher", "chosen_ner_teacher", "chosen_sst2_student", "chosen_ner_student"):
        name = res.get(key)
        if name:
            for f in sorted(os.listdir(tx)):
                if f.startswith(name + "."):
                    shutil.copy(os.path.join(tx, f), a.out)
    save()
    print("chosen:", {k: v for k, v in res.items() if k.startswith("chosen")}, f"{res['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
