"""Cross-validate nlpipe's two baselines against a hand-built scikit-learn pipeline.

Run::

    python examples/compare_baselines.py           # the bundled SMS Spam Collection, 5 folds, under a minute
    python examples/compare_baselines.py --smoke   # a tiny in-script data set, seconds
"""

import argparse

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from nlpipe import SpacyTokenizer, TfidfNBClassifier, TfidfSVMClassifier


def load_data(smoke):
    if smoke:
        from nlpipe.testing import make_text_classification

        return make_text_classification(2, repeat=3)
    from nlpipe.datasets import load_sms_spam

    return load_sms_spam()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny in-script data; finishes in seconds")
    args = parser.parse_args(argv)

    X, y = load_data(args.smoke)
    cv = StratifiedKFold(3 if args.smoke else 5, shuffle=True, random_state=0)
    models = {
        "sklearn TfidfVectorizer() + LinearSVC()": make_pipeline(TfidfVectorizer(), LinearSVC()),
        "nlpipe TfidfSVMClassifier()": TfidfSVMClassifier(random_state=0),
        "nlpipe TfidfNBClassifier()": TfidfNBClassifier(),
        "nlpipe TfidfSVMClassifier(tokenizer=SpacyTokenizer())": TfidfSVMClassifier(
            tokenizer=SpacyTokenizer(remove_numbers=True, verbose=0), random_state=0
        ),
    }
    for name, model in models.items():
        scores = cross_val_score(model, X, y, cv=cv, scoring="f1_macro")
        print(f"{name:<55} macro-F1 {scores.mean():.4f} ± {scores.std():.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
