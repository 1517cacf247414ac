"""Interrupted and failing fits leave estimators unfitted; neural fits checkpoint each epoch and resume."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.svm import LinearSVC

import nlpipe
from nlpipe.testing import make_text_classification

X, y = make_text_classification(2)


def _fitted_names(est):
    return [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("error", [KeyboardInterrupt, MemoryError, RuntimeError])
def test_an_interrupted_classic_fit_leaves_the_estimator_unfitted(monkeypatch, error):
    clf = nlpipe.TfidfSVMClassifier(random_state=0).fit(X, y)
    assert _fitted_names(clf)

    def interrupted(self, *args, **kwargs):
        raise error("stopped")

    monkeypatch.setattr(LinearSVC, "fit", interrupted)
    with pytest.raises(error):
        clf.fit(X, y)
    assert _fitted_names(clf) == [] and "_nlpipe_fitting" not in vars(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    monkeypatch.undo()
    np.testing.assert_array_equal(clf.fit(X, y).predict(X), nlpipe.TfidfSVMClassifier(random_state=0).fit(X, y).predict(X))


def test_bad_input_leaves_the_estimator_unfitted_too():
    clf = nlpipe.TfidfNBClassifier().fit(X, y)
    with pytest.raises(ValueError, match="different lengths"):
        clf.fit(X, y[:-1])
    assert _fitted_names(clf) == []


def test_an_interrupted_fine_tune_leaves_the_estimator_unfitted(monkeypatch):
    pytest.importorskip("torch")
    from nlpipe.testing import make_tiny_backbone

    from nlpipe.neural import _loop

    clf = nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=2, batch_size=8, verbose=0,
                                       random_state=0).fit(X, y)
    batches = {"n": 0}
    real_collate = _loop.collate

    def collate_then_interrupt(*args, **kwargs):  # Ctrl-C during the third training batch
        batches["n"] += 1
        if batches["n"] == 3:
            raise KeyboardInterrupt
        return real_collate(*args, **kwargs)

    monkeypatch.setattr(_loop, "collate", collate_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert _fitted_names(clf) == []
    with pytest.raises(NotFittedError):
        clf.predict(X)
