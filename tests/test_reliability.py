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


def _public_estimators():
    import inspect

    from sklearn.base import BaseEstimator

    from nlpipe import compression

    found = [getattr(nlpipe, name) for name in nlpipe.__all__]
    found += [compression.Quantizer, compression.Pruner, compression.Distiller]
    return [cls for cls in found if inspect.isclass(cls) and issubclass(cls, BaseEstimator)]


@pytest.mark.parametrize("cls", _public_estimators(), ids=lambda cls: cls.__name__)
def test_every_public_fit_is_decorated_with_fit_context(cls):
    # The guarantee is explicit at each fit (scikit-learn's _fit_context style), not added behind the
    # scenes: an estimator whose fit lacks the decorator would silently lose it.
    assert getattr(cls.fit, "_nlpipe_fit_context", False), f"{cls.__name__}.fit is not decorated with fit_context"


def test_a_fit_starts_from_scratch():
    clf = nlpipe.TfidfSVMClassifier(random_state=0).fit(X, y)
    clf.compression_ = [{"step": "Pruner"}]  # what a compression step leaves on its copy
    clf.fit(X, y)
    assert "compression_" not in vars(clf)  # a refit model is not compressed any more


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


def _interrupt_at_batch(monkeypatch, n):
    """Make the training loop raise KeyboardInterrupt at its n-th batch (Ctrl-C mid-epoch)."""
    from nlpipe.neural import _loop

    calls = {"n": 0}
    real = _loop.collate

    def collate(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_loop, "collate", collate)


@pytest.mark.parametrize("validation_fraction", [None, 0.25])
def test_a_resumed_fine_tune_equals_an_uninterrupted_one(tmp_path, monkeypatch, validation_fraction):
    pytest.importorskip("torch")
    from nlpipe.testing import make_tiny_backbone

    params = {"model": make_tiny_backbone(), "epochs": 3, "batch_size": 8, "learning_rate": 3e-3, "verbose": 0,
              "random_state": 0, "validation_fraction": validation_fraction}
    reference = nlpipe.TransformerClassifier(**params).fit(X, y)

    clf = nlpipe.TransformerClassifier(checkpoint_dir=tmp_path, **params)
    _interrupt_at_batch(monkeypatch, 5)  # during the second epoch (3 batches per epoch)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    monkeypatch.undo()
    assert _fitted_names(clf) == [] and (tmp_path / "nlpipe-checkpoint.pt").exists()

    clf.set_params(resume=True).fit(X, y)
    assert clf.history_ == reference.history_
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_checkpoints_of_other_fits_are_refused(tmp_path):
    pytest.importorskip("torch")
    from nlpipe.testing import make_tiny_backbone

    params = {"model": make_tiny_backbone(), "epochs": 1, "verbose": 0, "random_state": 0, "checkpoint_dir": tmp_path}
    nlpipe.TransformerClassifier(**params).fit(X, y)
    with pytest.raises(ValueError, match="other data, learning_rate"):
        nlpipe.TransformerClassifier(resume=True, learning_rate=1e-3, **params).fit(X[::-1], y[::-1])
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        nlpipe.TransformerClassifier(model=params["model"], resume=True, verbose=0).fit(X, y)
    (tmp_path / "nlpipe-checkpoint.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable nlpipe checkpoint"):
        nlpipe.TransformerClassifier(resume=True, **params).fit(X, y)


def test_text_to_text_fits_resume_too(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from nlpipe.testing import make_tiny_causal_lm

    prompts, answers = ["Name a colour.", "Name a fruit.", "Name a city."] * 2, ["blue", "apple", "paris"] * 2
    params = {"model": make_tiny_causal_lm(), "epochs": 3, "batch_size": 2, "learning_rate": 1e-2, "verbose": 0,
              "random_state": 0, "max_new_tokens": 4}
    reference = nlpipe.TextGenerator(**params).fit(prompts, answers)
    gen = nlpipe.TextGenerator(checkpoint_dir=tmp_path, **params)
    _interrupt_at_batch(monkeypatch, 7)  # third epoch
    with pytest.raises(KeyboardInterrupt):
        gen.fit(prompts, answers)
    monkeypatch.undo()
    gen.set_params(resume=True).fit(prompts, answers)
    assert gen.history_ == reference.history_
    assert gen.predict(prompts) == reference.predict(prompts)
