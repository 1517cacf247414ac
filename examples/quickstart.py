"""Quickstart: the README's first steps on the bundled SMS Spam Collection.

Shows fit, predict, predict_proba, cross_val_score and the safe file format
(nlpipe.save / nlpipe.load) with TfidfSVMClassifier and TfidfNBClassifier.

Run::

    python examples/quickstart.py           # 5,574 bundled SMS, a few seconds
    python examples/quickstart.py --smoke   # a tiny in-script data set, for tests

Needs only nlpipe's core install: the data ships with nlpipe.
"""

import argparse
import os
import tempfile

from sklearn.model_selection import StratifiedKFold, cross_val_score

import nlpipe
from nlpipe import TfidfNBClassifier, TfidfSVMClassifier


def load_data(smoke):
    """Train and test texts: the SMS set's own 80/20 split, or a tiny toy set in smoke mode."""
    if smoke:
        from sklearn.model_selection import train_test_split

        from nlpipe.testing import make_text_classification

        X, y = make_text_classification(2, repeat=3)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        return X_train, y_train, X_test, y_test
    from nlpipe.datasets import load_sms_spam

    X_train, y_train = load_sms_spam(split="train")
    X_test, y_test = load_sms_spam(split="test")
    return X_train, y_train, X_test, y_test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny in-script data; finishes in seconds")
    args = parser.parse_args(argv)

    X_train, y_train, X_test, y_test = load_data(args.smoke)
    print(f"{len(X_train)} training texts, {len(X_test)} test texts, labels {sorted(set(y_train.tolist()))}")

    # probability=True adds temperature-scaled probabilities that never disagree with predict.
    clf = TfidfSVMClassifier(probability=True, random_state=0).fit(X_train, y_train)
    print(f"\nTfidfSVMClassifier test accuracy: {clf.score(X_test, y_test):.4f}")

    messages = ["WINNER! Claim your free prize now, call 0800 123 456", "see you at 7 for dinner?"]
    if args.smoke:
        messages = ["a lovely movie with a great cast", "a boring film with an awful plot"]
    print("\n| text | predicted | " + " | ".join(f"P({c})" for c in clf.classes_) + " |")
    print("|---|---|" + "---|" * len(clf.classes_))
    for text, label, proba in zip(messages, clf.predict(messages), clf.predict_proba(messages)):
        print(f"| {text} | {label} | " + " | ".join(f"{p:.3f}" for p in proba) + " |")

    # One fold object for both models: they are scored on exactly the same splits.
    cv = StratifiedKFold(n_splits=3 if args.smoke else 5, shuffle=True, random_state=0)
    X_all, y_all = list(X_train) + list(X_test), [*y_train, *y_test]
    print(f"\n{cv.get_n_splits()}-fold cross-validation, macro-F1:")
    print("| model | mean | std |")
    print("|---|---|---|")
    for model in (TfidfSVMClassifier(random_state=0), TfidfNBClassifier()):
        scores = cross_val_score(model, X_all, y_all, cv=cv, scoring="f1_macro")
        print(f"| {type(model).__name__} | {scores.mean():.4f} | {scores.std():.4f} |")

    # .nlpipe files never run code on load, so they are safe to share (see examples/save_load.py).
    with tempfile.TemporaryDirectory() as tmp:
        path = nlpipe.save(clf, os.path.join(tmp, "spam.nlpipe"))
        size_kb = os.path.getsize(path) / 1024
        loaded = nlpipe.load(path)
        same = (loaded.predict(X_test) == clf.predict(X_test)).all()
    print(f"\nsaved and reloaded ({size_kb:.0f} KiB): same test predictions: {bool(same)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
