"""Save and load fitted models: nlpipe's safe files, joblib pickles, and what a refusal looks like.

Shows

* ``nlpipe.save`` / ``nlpipe.load``: a zip of a JSON manifest (class, parameters,
  library versions, payload checksum) and the model in skops' format; loading
  never runs code from the file, so a ``.nlpipe`` file from anyone is safe to open;
* ``joblib.dump`` / ``joblib.load``: plain pickles, fine for your own files only
  (unpickling can run any code), stamped with the nlpipe version that wrote them;
* ``nlpipe.load`` refusing a truncated file, a file whose model data was swapped,
  a pickle, and a Pipeline with a step from outside nlpipe / scikit-learn (until
  you name it in ``trusted=``), and warning on a file from another nlpipe version.

Run::

    python examples/save_load.py           # TfidfSVMClassifier on the bundled SMS Spam Collection, seconds
    python examples/save_load.py --smoke   # the same on a tiny in-script data set

Files go to a temporary folder that is removed at the end.
"""

import argparse
import json
import os
import re
import tempfile
import warnings
import zipfile

import joblib
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline

import nlpipe
from nlpipe import TfidfSVMClassifier


class URLMasker(TransformerMixin, BaseEstimator):
    """Replaces web addresses by one token: a step defined outside nlpipe and scikit-learn."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [re.sub(r"(https?://|www\.)\S+", " urltoken ", text) for text in X]


def load_data(smoke):
    if smoke:
        from nlpipe.testing import make_text_classification

        return make_text_classification(2, repeat=2)
    from nlpipe.datasets import load_sms_spam

    return load_sms_spam(split="train")


def attempt(case, load, folder):
    """One row of the refusal table: what nlpipe.load did with the file (paths shown relative to ``folder``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = load()
        except (ValueError, TypeError) as exc:
            outcome = f"refused: {type(exc).__name__}: {exc}"
        else:
            outcome = f"loaded {type(model).__name__}"
    for warning in caught:
        first_sentence = str(warning.message).split(". ")[0]
        outcome += f"; warned {warning.category.__name__}: {first_sentence}"
    print(f"| {case} | {outcome.replace(folder + os.sep, '')} |")


def rewrite_member(path, out, member, data):
    """Copy the archive at ``path`` to ``out`` with one member's bytes replaced."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, data if name == member else src.read(name))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny in-script data; finishes in seconds")
    args = parser.parse_args(argv)

    X, y = load_data(args.smoke)
    clf = TfidfSVMClassifier(probability=True, random_state=0).fit(X, y)

    with tempfile.TemporaryDirectory() as tmp:
        path = nlpipe.save(clf, os.path.join(tmp, "model.nlpipe"))
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
            manifest = json.loads(zf.read("manifest.json"))
        print(f"nlpipe.save -> {os.path.basename(path)} ({os.path.getsize(path) / 1024:.0f} KiB), members {members}")
        print(f"  estimator {manifest['estimator']}, payload sha256 {manifest['payload_sha256'][:16]}...")
        print("  version stamp: " + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items() if v))
        same = (nlpipe.load(path).predict_proba(X) == clf.predict_proba(X)).all()
        print(f"nlpipe.load: same probabilities: {bool(same)}")

        # joblib pickles are faster to write but must only be loaded from sources you trust.
        pickled = os.path.join(tmp, "model.joblib")
        joblib.dump(clf, pickled)
        same = (joblib.load(pickled).predict(X) == clf.predict(X)).all()
        print(f"joblib.dump/load ({os.path.getsize(pickled) / 1024:.0f} KiB): same predictions: {bool(same)}; "
              f"the pickle carries nlpipe version {clf.__getstate__()['_nlpipe_version']!r}, checked on load")

        # The damaged and foreign files a loader has to expect. The checksum catches damage, not an
        # attacker (who could rewrite it too): safety comes from load never running code from the file.
        with open(path, "rb") as f:
            data = f.read()
        truncated = os.path.join(tmp, "truncated.nlpipe")
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 2])
        other = TfidfSVMClassifier(C=0.1).fit(X, y)
        other_path = nlpipe.save(other, os.path.join(tmp, "other.nlpipe"))
        with zipfile.ZipFile(other_path) as zf:
            other_payload = zf.read("estimator.skops")
        swapped = rewrite_member(path, os.path.join(tmp, "swapped.nlpipe"), "estimator.skops", other_payload)
        old_manifest = {**manifest, "versions": {**manifest["versions"], "nlpipe": "0.0.1"}}
        old = rewrite_member(path, os.path.join(tmp, "old.nlpipe"), "manifest.json",
                             json.dumps(old_manifest).encode())
        pipeline = make_pipeline(URLMasker(), TfidfSVMClassifier(random_state=0)).fit(X, y)
        custom = nlpipe.save(pipeline, os.path.join(tmp, "custom_step.nlpipe"))
        step = f"{URLMasker.__module__}.{URLMasker.__qualname__}"

        print("\n| file given to nlpipe.load | outcome |")
        print("|---|---|")
        attempt("the saved file", lambda: nlpipe.load(path), tmp)
        attempt("cut to half its length", lambda: nlpipe.load(truncated), tmp)
        attempt("model data swapped for another model's", lambda: nlpipe.load(swapped), tmp)
        attempt("a joblib pickle", lambda: nlpipe.load(pickled), tmp)
        attempt("manifest says nlpipe 0.0.1", lambda: nlpipe.load(old), tmp)
        attempt("Pipeline with a step from this script", lambda: nlpipe.load(custom), tmp)
        attempt(f"the same with trusted=[{step!r}]", lambda: nlpipe.load(custom, trusted=[step]), tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
