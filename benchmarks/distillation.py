"""Distillation benchmark (issue #6): ``nlpipe.compression.Distiller`` from the SST-2 MiniLM teacher, one run.

* teacher: the same fit as benchmarks/compression.py (all-MiniLM-L6-v2, ``pooling='cls'``, seed 0, 4,000
  SST-2 training sentences, max_length 64, 2 epochs);
* a 3-layer student on ``truncated_backbone(teacher, 3)`` (the teacher's first three fine-tuned encoder
  layers), distilled on the same 4,000 sentences (T=2, teacher_weight=0.5), and the same student trained on the
  gold labels only: targets >= 97% of the teacher's dev accuracy at >= 1.8x its speed;
* TF-IDF + SVM trained on the teacher's softened probabilities over 20,000 unlabelled SST-2 training
  sentences (not among the 4,000) against the same TF-IDF + SVM on the 4,000 gold labels: target, beat it.

Kept apart from benchmarks/compression.py so each fits a machine session (about 12 minutes on 2 cores);
the two share the teacher's recipe and the table helpers. Ratios come from this run only.

Usage::

    python benchmarks/distillation.py
    python benchmarks/distillation.py --student-transfer 20000 --student-epochs 1

(the second also distils the transformer student on 20,000 unlabelled sentences, soft labels only there).

Writes ``benchmarks/results/distillation.md``.
"""

import sys
from pathlib import Path

import _common  # noqa: E402, F401 - compression.py, loaded by path below, imports it from here
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import TfidfSVMClassifier, TransformerClassifier  # noqa: E402
from nlpipe.compression import Distiller, report, truncated_backbone  # noqa: E402
from nlpipe.datasets import load_sst2  # noqa: E402

# The table helpers of benchmarks/compression.py, loaded by path (this folder is off sys.path).
_spec = importlib.util.spec_from_file_location("_compression_bench", Path(__file__).with_name("compression.py"))
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--transfer", type=int, default=20000, help="unlabelled sentences for the TF-IDF student")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--student-transfer", type=int, default=0, metavar="N",
                        help="also distil the transformer student on the first N unlabelled transfer sentences")
    parser.add_argument("--student-epochs", type=int, default=None, help="default: --epochs")
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--teacher-weight", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--predict-batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "distillation.md"))
    args = parser.parse_args(argv)
    t_start, load_start = time.perf_counter(), _bench.load()

    X_all, y_all = load_sst2("train", data_home=args.data_home)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], y_all[idx]
    rest = np.setdiff1d(np.arange(len(X_all)), idx)
    transfer = np.random.default_rng(1).choice(rest, size=min(args.transfer, len(rest)), replace=False)
    X_transfer = [X_all[i] for i in transfer]

    settings = dict(max_length=64, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                    verbose=0, pooling="cls", random_state=0)
    fit_s = {}
    teacher, fit_s["teacher"] = _bench.timed(
        lambda: TransformerClassifier(model=_bench.minilm_path(), **settings).fit(X_tr, y_tr))
    print(f"teacher fitted in {fit_s['teacher']:.0f} s", flush=True)
    student_settings = {**settings, "epochs": args.student_epochs or args.epochs}
    student = TransformerClassifier(model=truncated_backbone(teacher, args.layers), **student_settings)
    # Unlabelled transfer sentences join the labelled ones with y=None: soft labels only there.
    X_st = X_tr + X_transfer[: args.student_transfer]
    y_st = np.concatenate([np.asarray(y_tr, dtype=object), np.full(args.student_transfer, None, dtype=object)])
    distilled, fit_s["distilled student"] = _bench.timed(lambda: Distiller(
        teacher=teacher, student=student, temperature=args.temperature,
        teacher_weight=args.teacher_weight).fit(X_st, y_st))
    gold_student, fit_s["gold-only student"] = _bench.timed(lambda: TransformerClassifier(
        model=truncated_backbone(teacher, args.layers), **settings).fit(X_tr, y_tr))
    svm_gold, fit_s["TF-IDF+SVM gold"] = _bench.timed(lambda: TfidfSVMClassifier(random_state=0).fit(X_tr, y_tr))
    svm_soft, fit_s["TF-IDF+SVM soft (incl. teacher inference)"] = _bench.timed(lambda: Distiller(
        teacher=teacher, student=TfidfSVMClassifier(random_state=0), temperature=args.temperature,
        teacher_weight=1.0).fit(X_transfer))
    print("fit seconds:", {k: round(v) for k, v in fit_s.items()}, flush=True)
    for m in (teacher, distilled.student_, gold_student):
        m.set_params(batch_size=args.predict_batch_size)

    L = args.layers
    models = {
        "fp32 teacher (6 layers)": teacher,
        f"{L}-layer student, distilled (T={args.temperature:g}, teacher_weight={args.teacher_weight:g}"
        + (f", + {args.student_transfer:,} unlabelled, {student_settings['epochs']} epoch(s)"
           if args.student_transfer else "") + ")": distilled.student_,
        f"{L}-layer student, gold labels only": gold_student,
    }
    load_before = _bench.load()
    t_table = report(models, X_dev, y_dev, repeats=args.repeats)
    load_after = _bench.load()
    print(t_table.to_string(), flush=True)
    s_models = {
        f"TF-IDF+SVM, {len(X_tr):,} gold labels": svm_gold,
        f"TF-IDF+SVM, teacher's soft labels on {len(X_transfer):,} unlabelled sentences": svm_soft.student_,
    }
    s_table = report(s_models, X_dev, y_dev, repeats=10)
    print(s_table.to_string(), flush=True)

    names = list(models)
    ratio = t_table.loc[names[1], "score"] / t_table.loc[names[0], "score"]
    speed = t_table.loc[names[1], "speedup"]
    gain = 100 * (s_table.iloc[1]["score"] - s_table.iloc[0]["score"])
    targets = [
        (f"{L}-layer distilled student accuracy / teacher's", f"{100 * ratio:.1f}%", ">= 97%", ratio >= 0.97),
        (f"{L}-layer distilled student speed-up", f"{speed:.2f}x", ">= 1.8x", speed >= 1.8),
        ("distilled vs gold-only student (same layers)",
         f"{_bench.pts(100 * (t_table.loc[names[1], 'score'] - t_table.loc[names[2], 'score']))} points", "", None),
        ("TF-IDF+SVM on soft labels vs on the gold labels", f"{_bench.pts(gain)} points", "> 0", gain > 0),
    ]
    lines = [
        "# Distillation: MiniLM teacher -> 3-layer student and TF-IDF + SVM (issue #6)",
        "",
        f"Generated by `python benchmarks/distillation.py"
        + (f" --student-transfer {args.student_transfer}" if args.student_transfer else "")
        + (f" --student-epochs {args.student_epochs}" if args.student_epochs else "") + "` (total "
        f"{(time.perf_counter() - t_start) / 60:.1f} min). Machine: {os.cpu_count()} CPUs, no GPU, torch "
        f"{torch.__version__}, Python {platform.python_version()}, nlpipe {nlpipe.__version__}. Load average at "
        f"start {load_start}, before/after the timed report {load_before} / {load_after}: timings on 2 shared cores "
        "are noisy; only the ratios of this run count.",
        "",
        f"Teacher: `TransformerClassifier(model=all-MiniLM-L6-v2, pooling='cls', max_length=64, epochs={args.epochs}, "
        f"batch_size={args.batch_size}, learning_rate={args.learning_rate}, random_state=0)` on {args.n_train:,} SST-2 "
        f"training sentences (seed 0; as benchmarks/compression.py). Student: the same settings on "
        f"`truncated_backbone(teacher, {L})`, trained by `Distiller(teacher, student, temperature="
        f"{args.temperature:g}, teacher_weight={args.teacher_weight:g}).fit(X_train, y_train)`. Scored on the {len(X_dev)} SST-2 dev "
        f"sentences; `ms / 1,000 texts` is `predict`, batch {args.predict_batch_size}, best of {args.repeats}.",
        "",
        "## Targets",
        "",
        *_bench.rows_md(["measure", "value", "target", "met"], [(a, b, c, _bench.met(d)) for a, b, c, d in targets]),
        "",
        "## Transformer students",
        "",
        *_bench.table_md(t_table),
        "",
        "## TF-IDF + SVM students",
        "",
        f"The soft-label student: `Distiller(teacher, TfidfSVMClassifier(random_state=0), temperature="
        f"{args.temperature:g}, teacher_weight=1.0).fit(X_unlabelled)` over {len(X_transfer):,} SST-2 training sentences "
        "outside the teacher's 4,000 (seed 1), each sentence once per class weighted by the teacher's softened "
        "probability.",
        "",
        *_bench.table_md(s_table),
        "",
        "Fit seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in fit_s.items()) + ".",
        "",
    ]
    text = "\n".join(lines)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    rep = _bench._report()
    rep.write_json(out, "distillation",
                   _bench.json_table_rows(rep, "MiniLM teacher -> students (distillation run)", t_table)
                   + _bench.json_table_rows(rep, "TF-IDF+SVM students (distillation run)", s_table),
                   rep.command(__file__, argv))
    print(text)
    return 0 if all(ok is not False for *_, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
