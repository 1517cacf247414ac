"""Tune nlpipe estimators with scikit-learn's GridSearchCV, in parallel.

Two searches on the bundled SMS Spam Collection, both with ``n_jobs`` worker
processes (joblib's loky backend):

1. TfidfSVMClassifier's own parameters (C, ngram_range, class_weight);
2. a Pipeline whose ``model`` step is itself a search parameter, so one search
   compares TfidfSVMClassifier and TfidfNBClassifier with their own grids.

Prints the best parameters, the ``cv_results_`` table (mean +- std macro-F1,
fit time, rank) and the held-out score of the refitted best model.

Run::

    python examples/grid_search.py                 # 4,460 training SMS, under a minute on 2 cores
    python examples/grid_search.py --n-jobs 1      # serial: the same results, slower
    python examples/grid_search.py --smoke         # tiny in-script data, seconds
"""

import argparse

import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from nlpipe import TfidfNBClassifier, TfidfSVMClassifier


def load_data(smoke):
    """Train and test texts: the SMS set's own 80/20 split, or a tiny toy set in smoke mode."""
    if smoke:
        from sklearn.model_selection import train_test_split

        from nlpipe.testing import make_text_classification

        X, y = make_text_classification(2, repeat=4)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        return X_train, y_train, X_test, y_test
    from nlpipe.datasets import load_sms_spam

    X_train, y_train = load_sms_spam(split="train")
    X_test, y_test = load_sms_spam(split="test")
    return X_train, y_train, X_test, y_test


def _short(value):
    # An estimator as a grid value prints by class name; its parameters have their own columns.
    return f"{type(value).__name__}()" if hasattr(value, "fit") else repr(value)


def results_table(search):
    """The useful columns of ``cv_results_``, best first."""
    results = pd.DataFrame(search.cv_results_)
    params = results["params"].map(lambda p: ", ".join(f"{k}={_short(v)}" for k, v in p.items()))
    table = pd.DataFrame({
        "rank": results["rank_test_score"],
        "params": params,
        "macro-F1": results["mean_test_score"].map("{:.4f}".format) + " ± "
        + results["std_test_score"].map("{:.4f}".format),
        "fit s": results["mean_fit_time"].map("{:.2f}".format),
    })
    return table.sort_values("rank", kind="stable")


def print_table(table):
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny in-script data; finishes in seconds")
    parser.add_argument("--n-jobs", type=int, default=2, help="parallel fits (-1: all cores)")
    args = parser.parse_args(argv)

    X_train, y_train, X_test, y_test = load_data(args.smoke)
    # Shuffled, stratified and seeded: both searches score every candidate on the same folds.
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    print(f"{len(X_train)} training texts, {len(X_test)} held out, {cv.get_n_splits()} folds, "
          f"n_jobs={args.n_jobs}")

    svm_grid = {"C": [0.3, 1.0, 3.0], "ngram_range": [(1, 1), (1, 2)], "class_weight": [None, "balanced"]}
    search = GridSearchCV(TfidfSVMClassifier(random_state=0), svm_grid, scoring="f1_macro", cv=cv,
                          n_jobs=args.n_jobs)
    search.fit(X_train, y_train)
    print(f"\n## 1. TfidfSVMClassifier: {len(search.cv_results_['params'])} candidates")
    print(f"best: {search.best_params_}, CV macro-F1 {search.best_score_:.4f}\n")
    print_table(results_table(search))

    # A list of grids: each grid names the model for the step and the parameters that exist for it.
    pipeline = Pipeline([("model", TfidfSVMClassifier(random_state=0))])
    model_grid = [
        {"model": [TfidfSVMClassifier(random_state=0)], "model__C": [0.3, 1.0], "model__min_df": [1, 2]},
        {"model": [TfidfNBClassifier()], "model__alpha": [0.1, 0.3, 1.0],
         "model__variant": ["complement", "multinomial"]},
    ]
    search = GridSearchCV(pipeline, model_grid, scoring="f1_macro", cv=cv, n_jobs=args.n_jobs)
    search.fit(X_train, y_train)
    best_model = search.best_estimator_.named_steps["model"]
    print(f"\n## 2. Pipeline over two models: {len(search.cv_results_['params'])} candidates")
    print(f"best: {best_model!r}, CV macro-F1 {search.best_score_:.4f}\n")
    print_table(results_table(search))
    # refit=True (the default) refitted the best candidate on all training texts.
    print(f"\nheld-out macro-F1 of the best pipeline: {search.score(X_test, y_test):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
