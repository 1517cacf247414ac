"""Scale-out benchmark (issue #9): serial vs joblib's loky processes vs a Dask LocalCluster, and ParallelPostFit.

* ``GridSearchCV(TfidfSVMClassifier(), 12 settings, cv=5)`` on 20 Newsgroups train: serial (n_jobs=1),
  loky (n_jobs=2) and Dask (``joblib.parallel_backend("dask")`` on a 2-worker LocalCluster): wall time,
  peak memory of the whole process tree, and whether the results equal the serial run;
* ``dask_ml.wrappers.ParallelPostFit`` predicting IMDB train+test (50,000 reviews) as a Dask DataFrame
  partition by partition vs plain ``predict`` on the list: wall time and peak memory.

Ratios come from the same run (2 shared cores: wall-clock numbers are noisy, the ratios are the result).

Usage::

    python benchmarks/scale.py [--n-docs N]

Writes ``benchmarks/results/scale.md``.
"""

import argparse
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

GRID = {"C": [0.1, 0.3, 1.0, 3.0], "ngram_range": [(1, 1), (1, 2), (1, 3)]}


def _tree_rss_mb(root):
    """Resident memory of ``root`` and all its descendants (Linux /proc), in MiB."""
    children = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(pid))
            except (OSError, ValueError, IndexError):
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        todo += children.get(pid, [])
    return total / 2**20


def _load():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def measured(fn):
    """``(result, seconds, peak MiB of the process tree, highest 1-minute load average)``.

    Both are sampled every 0.1 s; the load shows whether other work shared the cores (wall-clock
    ratios on a shared machine are only as good as that: a phase that uses every core sees a load
    of about the core count on an idle machine).
    """
    peak, load, done = [_tree_rss_mb(os.getpid())], [_load()], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(os.getpid()))
            load[0] = max(load[0], _load())
            done.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        seconds = time.perf_counter() - t0
        done.set()
        thread.join()
    return out, seconds, peak[0], load[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-docs", type=int, default=None, help="N random posts and 2N reviews (smoke runs)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scale.md"))
    args = parser.parse_args(argv)

    import joblib
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster
    from dask_ml.wrappers import ParallelPostFit
    from sklearn.model_selection import GridSearchCV

    import nlpipe
    from nlpipe import TfidfSVMClassifier
    from nlpipe.datasets import load_20newsgroups, load_imdb

    X, y = load_20newsgroups("train", data_home=args.data_home)
    X, y = list(X), np.asarray(y)
    if args.n_docs:  # a random subset: the files are sorted by newsgroup
        keep = np.random.default_rng(0).choice(len(X), size=min(args.n_docs, len(X)), replace=False)
        X, y = [X[i] for i in keep], y[keep]
    rows, scores = [], {}

    def search(n_jobs):
        return GridSearchCV(TfidfSVMClassifier(random_state=0), GRID, cv=5, n_jobs=n_jobs).fit(X, y)

    serial, t_serial, m_serial, l_serial = measured(lambda: search(None))
    scores["serial"] = serial.cv_results_["mean_test_score"]
    rows.append(("serial (n_jobs=1)", t_serial, m_serial, l_serial))
    loky, t_loky, m_loky, l_loky = measured(lambda: search(2))
    scores["loky"] = loky.cv_results_["mean_test_score"]
    rows.append(("loky (n_jobs=2)", t_loky, m_loky, l_loky))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster):
        def on_dask():
            with joblib.parallel_backend("dask"):
                return search(-1)

        dask_search, t_dask, m_dask, l_dask = measured(on_dask)
        scores["dask"] = dask_search.cv_results_["mean_test_score"]
        rows.append(("Dask LocalCluster (2 workers)", t_dask, m_dask, l_dask))

        fitted = serial.best_estimator_
        texts = list(load_imdb("train", data_home=args.data_home)[0]) + list(load_imdb("test", data_home=args.data_home)[0])
        texts = texts[: args.n_docs * 2] if args.n_docs else texts
        plain, t_plain, m_plain, l_plain = measured(lambda: fitted.predict(texts))
        frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=8)
        wrapped = ParallelPostFit(estimator=fitted, predict_meta=pd.Series([], dtype=object))
        lazy, t_ppf, m_ppf, l_ppf = measured(lambda: np.asarray(wrapped.predict(frame).compute()))
    same = {k: bool(np.allclose(v, scores["serial"])) for k, v in scores.items()}

    lines = [
        "# Scale-out: serial vs loky vs Dask (issue #9)", "",
        f"Generated by `python benchmarks/scale.py{' --n-docs ' + str(args.n_docs) if args.n_docs else ''}`. "
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, nlpipe {nlpipe.__version__}. "
        "Peak memory: resident memory of the whole process tree (workers included), sampled every 0.1 s.", "",
        f"## GridSearchCV(TfidfSVMClassifier, {int(np.prod([len(v) for v in GRID.values()]))} settings, cv=5) on "
        f"20 Newsgroups train ({len(X):,} posts)", "",
        "| backend | wall time | speed-up | peak memory | mean CV scores equal the serial run | max load |",
        "|---|---|---|---|---|---|",
    ]
    for (name, seconds, peak, load), key in zip(rows, ["serial", "loky", "dask"]):
        lines.append(f"| {name} | {seconds:.1f} s | {t_serial / seconds:.2f}x | {peak:,.0f} MiB | {same[key]} "
                     f"| {load:.1f} |")
    lines += [
        "", f"Best: {serial.best_params_} (CV accuracy {serial.best_score_:.4f}).", "",
        f"## Prediction over IMDB train+test ({len(texts):,} reviews) with the best model", "",
        "| method | wall time | speed-up | peak memory | same labels | max load |", "|---|---|---|---|---|---|",
        f"| plain `predict(list)` | {t_plain:.1f} s | 1.00x | {m_plain:,.0f} MiB | | {l_plain:.1f} |",
        f"| `ParallelPostFit` on a Dask DataFrame (8 partitions, 2 workers) | {t_ppf:.1f} s | {t_plain / t_ppf:.2f}x | "
        f"{m_ppf:,.0f} MiB | {bool((lazy == np.asarray(plain)).all())} | {l_ppf:.1f} |",
        "", f"max load: the highest 1-minute load average seen during the phase ({os.cpu_count()} cores; "
        "well above the cores the phase uses means other work shared the machine and slowed it).",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
