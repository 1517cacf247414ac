"""Baselines benchmark: nlpipe's TF-IDF classifiers vs raw scikit-learn, in one run.

For each data set (20 Newsgroups bydate, SST-2 dev, IMDB test, AG News test):

* nlpipe's defaults vs the *equivalent* raw scikit-learn pipeline with the same
  settings: accuracy must be equal and the fit+predict time ratio nlpipe/raw
  at most 1.05 (best of ``--repeats`` interleaved runs, so both see the same
  machine load);
* nlpipe's defaults vs scikit-learn's defaults (``TfidfVectorizer()`` +
  ``LinearSVC()`` / ``MultinomialNB()``): nlpipe must be at least as accurate.

Usage::

    python benchmarks/baselines.py [--repeats 5] [--datasets imdb sst2]

Writes ``benchmarks/results/baselines.md`` and prints it.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

import nlpipe
from nlpipe import TfidfNBClassifier, TfidfSVMClassifier
from nlpipe import datasets as ds

LOADERS = {
    "20newsgroups": (ds.load_20newsgroups, "train", "test"),
    "sst2": (ds.load_sst2, "train", "dev"),
    "imdb": (ds.load_imdb, "train", "test"),
    "ag_news": (ds.load_ag_news, "train", "test"),
}
# Measured in this repository's data README with TfidfVectorizer(sublinear_tf=True) + LinearSVC
# (word 1-2-grams for SST-2, 1-2-grams + min_df=2 for IMDB): the numbers issue #2 asks to match.
README_REFERENCE = {"20newsgroups": 0.862, "sst2": 0.826, "imdb": 0.907, "ag_news": 0.878}


def _report():
    """benchmarks/_report.py (writes the JSON results), loaded by path: this folder may be off sys.path."""
    import importlib.util

    if "_nlpipe_bench_report" in sys.modules:
        return sys.modules["_nlpipe_bench_report"]
    spec = importlib.util.spec_from_file_location("_nlpipe_bench_report", Path(__file__).with_name("_report.py"))
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _same_settings_svm(est):
    return make_pipeline(
        TfidfVectorizer(ngram_range=est.ngram_range, min_df=est.min_df, max_df=est.max_df,
                        sublinear_tf=est.sublinear_tf, analyzer=est.analyzer, lowercase=est.lowercase),
        LinearSVC(C=est.C, max_iter=est.max_iter, random_state=est.random_state),
    )


def _same_settings_nb(est):
    nb = ComplementNB if est.variant == "complement" else MultinomialNB
    return make_pipeline(
        TfidfVectorizer(ngram_range=est.ngram_range, min_df=est.min_df, max_df=est.max_df,
                        sublinear_tf=est.sublinear_tf, analyzer=est.analyzer, lowercase=est.lowercase),
        nb(alpha=est.alpha),
    )


def _fit_predict(model, X_tr, y_tr, X_te):
    t0 = time.perf_counter()
    model.fit(X_tr, y_tr)
    pred = model.predict(X_te)
    return time.perf_counter() - t0, np.asarray(pred)


def _scores(y, pred):
    return accuracy_score(y, pred), f1_score(y, pred, average="macro")


def run_dataset(name, data_home, repeats):
    loader, tr, te = LOADERS[name]
    X_tr, y_tr = loader(tr, data_home=data_home)
    X_te, y_te = loader(te, data_home=data_home)
    rows = []
    pairs = [
        ("SVM", TfidfSVMClassifier(random_state=0), _same_settings_svm),
        ("NB", TfidfNBClassifier(), _same_settings_nb),
    ]
    for kind, ours, make_raw in pairs:
        t_ours, t_raw = [], []
        for i in range(repeats):
            # interleaved, order alternating, so both see the same machine load and warm caches
            order = [("ours", ours), ("raw", make_raw(ours))]
            for who, model in order if i % 2 == 0 else order[::-1]:
                t, pred = _fit_predict(model, X_tr, y_tr, X_te)
                if who == "ours":
                    t_ours.append(t)
                    p_ours = pred
                else:
                    t_raw.append(t)
                    p_raw = pred
        default = (make_pipeline(TfidfVectorizer(), LinearSVC(random_state=0)) if kind == "SVM"
                   else make_pipeline(TfidfVectorizer(), MultinomialNB()))
        t_def, p_def = _fit_predict(default, X_tr, y_tr, X_te)
        acc, f1 = _scores(y_te, p_ours)
        acc_raw, f1_raw = _scores(y_te, p_raw)
        acc_def, f1_def = _scores(y_te, p_def)
        rows.append({
            "dataset": name, "model": kind, "n_train": len(X_tr), "n_test": len(X_te),
            "acc": acc, "f1": f1, "acc_raw": acc_raw, "f1_raw": f1_raw,
            "identical": bool((p_ours == p_raw).all()),
            "t_ours": min(t_ours), "t_raw": min(t_raw), "ratio": min(t_ours) / min(t_raw),
            "acc_def": acc_def, "f1_def": f1_def, "t_def": t_def,
        })
        print(f"{name:>13} {kind}: acc {acc:.4f} (raw {acc_raw:.4f}, sklearn default {acc_def:.4f}), "
              f"time ratio nlpipe/raw {rows[-1]['ratio']:.3f}", flush=True)
    return rows


def render(rows, repeats, seconds):
    svm_def = "`TfidfVectorizer()` + `LinearSVC()`"
    nb_def = "`TfidfVectorizer()` + `MultinomialNB()`"
    lines = [
        "# Baselines: nlpipe vs raw scikit-learn",
        "",
        f"Generated by `python benchmarks/baselines.py --repeats {repeats}` "
        f"(total {seconds / 60:.1f} min).",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}, nlpipe {nlpipe.__version__}.",
        "",
        "nlpipe defaults: `TfidfSVMClassifier()` = word 1-2-grams, `min_df=2`, `sublinear_tf=True`, `C=0.8` "
        "(`random_state=0` here, in both); `TfidfNBClassifier()` = the same features + `ComplementNB(alpha=0.3)`.",
        "*raw* is the hand-built `make_pipeline(TfidfVectorizer(...), LinearSVC(...)/ComplementNB(...))` with the "
        "same settings; the time is fit + predict on the test split, best of "
        f"{repeats} interleaved runs. *sklearn default* is {svm_def} for SVM and {nb_def} for NB.",
        "",
        "| data set | model | train / test | nlpipe acc | nlpipe macro-F1 | raw acc | same predictions | "
        "time nlpipe / raw | sklearn default acc | default macro-F1 | README ref. acc |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ref = README_REFERENCE.get(r["dataset"]) if r["model"] == "SVM" else None
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['n_train']:,} / {r['n_test']:,} | {r['acc']:.4f} | {r['f1']:.4f} | "
            f"{r['acc_raw']:.4f} | {'yes' if r['identical'] else 'NO'} | "
            f"{r['t_ours']:.2f} s / {r['t_raw']:.2f} s = **{r['ratio']:.3f}** | {r['acc_def']:.4f} | "
            f"{r['f1_def']:.4f} | {'' if ref is None else f'{ref:.3f}'} |"
        )
    ok_ratio = all(r["ratio"] <= 1.05 for r in rows)
    ok_equal = all(r["identical"] for r in rows)
    ok_default = all(r["acc"] >= r["acc_def"] for r in rows)
    ok_ref = all(r["acc"] >= README_REFERENCE[r["dataset"]] - 5e-4 for r in rows if r["model"] == "SVM")
    lines += [
        "",
        "Targets:",
        f"- time ratio nlpipe/raw <= 1.05 everywhere: **{'met' if ok_ratio else 'NOT met'}** "
        f"(max {max(r['ratio'] for r in rows):.3f})",
        f"- identical predictions to the raw pipeline: **{'met' if ok_equal else 'NOT met'}**",
        f"- nlpipe defaults at least as accurate as scikit-learn defaults: **{'met' if ok_default else 'NOT met'}**",
        f"- SVM at least the README reference accuracy (to its 3 decimals): **{'met' if ok_ref else 'NOT met'}**",
        "",
        "Published references: Rennie et al. (2003) 20NG linear SVM ≈0.862; NBSVM-bi on IMDB 0.912 "
        "(Wang & Manning, 2012); AG News full 120k train with n-gram TF-IDF + LR 0.924 (here: 10k subset, "
        "descriptions only).",
    ]
    return "\n".join(lines) + "\n", ok_ratio and ok_equal and ok_default


def json_rows(rows, rep):
    """The rows of ``benchmarks/results/baselines.json`` (read by ``python -m benchmarks report``)."""
    out = []
    for r in rows:
        setting, group, m = f"{r['dataset']}, {r['model']}", r["dataset"], r["model"]
        out += [
            rep.row(setting, f"nlpipe Tfidf{m}Classifier() defaults", "nlpipe", {"acc": rep.num(r["acc"], ".4f")},
                    rep.num(r["t_ours"], ".2f"), note=f"time ratio nlpipe/raw {r['ratio']:.3f}", group=group,
                    short=f"nlpipe {m}"),
            rep.row(setting, "raw scikit-learn pipeline, same settings", "peer", {"acc": rep.num(r["acc_raw"], ".4f")},
                    rep.num(r["t_raw"], ".2f"), note=f"same predictions: {'yes' if r['identical'] else 'NO'}",
                    group=group, short=f"raw sklearn {m}"),
            rep.row(setting, "scikit-learn defaults " + ("(TfidfVectorizer + LinearSVC)" if m == "SVM"
                                                         else "(TfidfVectorizer + MultinomialNB)"), "peer",
                    {"acc": rep.num(r["acc_def"], ".4f")}, rep.num(r["t_def"], ".2f"), note="one run, not interleaved",
                    group=group, short=f"sklearn default {m}"),
        ]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "baselines.md"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = [r for name in args.datasets for r in run_dataset(name, args.data_home, args.repeats)]
    text, ok = render(rows, args.repeats, time.perf_counter() - t0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    rep = _report()
    rep.write_json(args.out, "baselines", json_rows(rows, rep), rep.command(__file__, argv))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
