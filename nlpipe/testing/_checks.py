"""The estimator contract checks: each takes an unfitted estimator and raises when the contract does not hold."""

import copy
import io
import pickle
import shutil
import tempfile
import warnings

import joblib
import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks as _sk_checks

from ._data import make_question_answering, make_summarization, make_text_classification


def _is_summarizer(est):
    return getattr(est, "_nlpipe_task", None) in ("summarization", "text-generation", "translation")


def _is_question_answerer(est):
    return getattr(est, "_nlpipe_task", None) == "question-answering"


def _fitted(est, X, y):
    return clone(est).fit(X, y) if y is not None else clone(est).fit(X)


def _predict_like(est, X):
    """The main output of a fitted estimator: predictions or transformed texts."""
    out = est.predict(X) if hasattr(est, "predict") else est.transform(X)
    return np.asarray(out, dtype=object) if isinstance(out, list) else np.asarray(out)


def _assert_same(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7, err_msg=what)
    else:
        assert a.shape == b.shape and (a == b).all(), f"{what}: {a[:5]} != {b[:5]}"


# ----------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------


def check_sklearn_api(est, X, y):
    """scikit-learn's own data-independent API checks."""
    name = type(est).__name__
    _sk_checks.check_parameters_default_constructible(name, clone(est))
    _sk_checks.check_no_attributes_set_in_init(name, clone(est))
    _sk_checks.check_get_params_invariance(name, clone(est))
    _sk_checks.check_set_params(name, clone(est))
    _sk_checks.check_estimator_repr(name, clone(est))
    _sk_checks.check_mixin_order(name, clone(est))
    _sk_checks.check_do_not_raise_errors_in_init_or_set_params(name, clone(est))
    _sk_checks.check_estimator_cloneable(name, clone(est))
    _sk_checks.check_valid_tag_types(name, clone(est))
    tags = est.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array, "string input must be declared in tags"


def check_params_roundtrip(est, X, y):
    """get_params/set_params round trip; unknown parameters are refused."""
    params = est.get_params(deep=False)
    other = clone(est).set_params(**params)
    assert other.get_params(deep=False).keys() == params.keys()
    try:
        clone(est).set_params(not_a_parameter_xyz=1)
    except ValueError:
        pass
    else:
        raise AssertionError("set_params accepted an unknown parameter")


def check_fit_returns_self_and_keeps_params(est, X, y):
    """fit returns self, changes no parameter, and sets fitted attributes ending in _."""
    est = clone(est)
    before = copy.deepcopy(est.get_params(deep=False))
    returned = est.fit(X, y) if y is not None else est.fit(X)
    assert returned is est, "fit must return self"
    after = est.get_params(deep=False)
    for key, value in before.items():
        assert repr(after[key]) == repr(value), f"fit changed parameter {key!r}: {value!r} -> {after[key]!r}"
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert fitted, "fit set no attribute ending in '_'"


def check_unfitted_raises(est, X, y):
    """Prediction before fit raises NotFittedError."""
    method = "predict" if hasattr(est, "predict") else "transform"
    try:
        getattr(clone(est), method)(X)
    except NotFittedError:
        return
    raise AssertionError(f"{method} before fit did not raise NotFittedError")


def check_clone_is_unfitted(est, X, y):
    """clone of a fitted estimator: equal params, no fitted state."""
    fitted = _fitted(est, X, y)
    fresh = clone(fitted)
    assert repr(fresh.get_params(deep=False)) == repr(fitted.get_params(deep=False))
    leaked = [k for k in vars(fresh) if k.endswith("_") and not k.startswith("__")]
    assert not leaked, f"clone carries fitted attributes {leaked}"
    check_unfitted_raises(fresh, X, y)


def check_refit_from_scratch(est, X, y):
    """A second fit (seeded) gives the same model as the first: nothing carries over."""
    if "random_state" in est.get_params():
        est = clone(est).set_params(random_state=0)
    a = _fitted(est, X, y)
    first = _predict_like(a, X)
    a.fit(X[::-1], y[::-1]) if y is not None else a.fit(X[::-1])
    a.fit(X, y) if y is not None else a.fit(X)
    _assert_same(first, _predict_like(a, X), "refit on the same data changed the output")


def check_input_containers(est, X, y):
    """list, tuple, ndarray, Series and one-column DataFrame give the same output."""
    import pandas as pd

    if "random_state" in est.get_params():
        est = clone(est).set_params(random_state=0)
    fitted = _fitted(est, X, y)
    ref = _predict_like(fitted, list(X))
    for variant in (tuple(X), np.asarray(X, dtype=object), pd.Series(X), pd.DataFrame({"text": X})):
        _assert_same(ref, _predict_like(fitted, variant), f"{type(variant).__name__} input")
    series_fit = _fitted(est, pd.Series(X), pd.Series(y) if y is not None else None)
    _assert_same(ref, _predict_like(series_fit, X), "fit on pandas Series")


def check_empty_strings(est, X, y):
    """Empty strings are valid text, in fit and in predict."""
    X2 = list(X) + [""]
    y2 = None if y is None else np.concatenate([y, y[:1]])
    fitted = _fitted(est, X2, y2)
    out = _predict_like(fitted, ["", X[0]])
    if getattr(est, "_nlpipe_task", None) == "chunking":  # one or more passages per document
        assert len(out) >= 2 and len(_predict_like(fitted, [""])) == 1, "an empty document must give one passage"
    else:
        assert len(out) == 2


def check_pickle_roundtrip(est, X, y):
    """pickle and joblib round trips give identical outputs; the version is stamped."""
    fitted = _fitted(est, X, y)
    ref = _predict_like(fitted, X)
    blob = pickle.dumps(fitted)
    assert b"_nlpipe_version" in blob, "pickle carries no nlpipe version stamp"
    for loaded in (pickle.loads(blob), _joblib_roundtrip(fitted)):
        _assert_same(ref, _predict_like(loaded, X), "output after unpickling")
        if hasattr(fitted, "predict_proba"):
            _assert_same(fitted.predict_proba(X), loaded.predict_proba(X), "predict_proba after unpickling")


def check_safe_save_load(est, X, y):
    """``nlpipe.save``/``nlpipe.load`` give identical outputs and rebuild only nlpipe and scikit-learn types."""
    import os

    from nlpipe import load, save

    fitted = _fitted(est, X, y)
    ref = _predict_like(fitted, X)
    folder = tempfile.mkdtemp(prefix="nlpipe-save-")
    try:
        path = save(fitted, os.path.join(folder, "model.nlpipe"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # same versions: loading must not warn
            loaded = load(path)
        assert type(loaded) is type(fitted)
        _assert_same(ref, _predict_like(loaded, X), "output after nlpipe.load")
        assert repr(loaded.get_params(deep=False)) == repr(fitted.get_params(deep=False))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _joblib_roundtrip(obj):
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    buf.seek(0)
    return joblib.load(buf)


def check_in_pipeline(est, X, y):
    """Inside a Pipeline the estimator behaves exactly as alone."""
    if "random_state" in est.get_params():
        est = clone(est).set_params(random_state=0)
    alone = _predict_like(_fitted(est, X, y), X)
    pipe = make_pipeline(clone(est))
    pipe.fit(X, y)
    _assert_same(alone, _predict_like(pipe, X), "Pipeline output")


def check_cross_val_score(est, X, y):
    """cross_val_score runs and gives finite scores (classifiers)."""
    if y is None:
        return
    scores = cross_val_score(clone(est), X, y, cv=3, error_score="raise")
    assert scores.shape == (3,) and np.isfinite(scores).all()


def check_grid_search(est, X, y, param_grid):
    """GridSearchCV over ``param_grid`` fits and reports the best parameters."""
    if y is None:
        return
    search = GridSearchCV(clone(est), param_grid, cv=2, error_score="raise").fit(X, y)
    assert set(search.best_params_) == set(param_grid)
    assert len(search.cv_results_["params"]) == int(np.prod([len(v) for v in param_grid.values()]))


def check_classifier_labels(est, X, y):
    """Labels keep their type; proba columns follow classes_; predict == argmax(proba)."""
    if not is_classifier(est):
        return
    for labels in (np.asarray([f"class_{v}" for v in y]), np.unique(y, return_inverse=True)[1]):
        fitted = _fitted(est, X, labels)
        pred = fitted.predict(X)
        assert pred.dtype.kind == labels.dtype.kind, f"predict returned {pred.dtype}, labels were {labels.dtype}"
        assert set(np.unique(pred)) <= set(np.unique(labels))
        _assert_same(fitted.classes_, np.unique(labels), "classes_")
        if hasattr(fitted, "predict_proba"):
            proba = fitted.predict_proba(X)
            assert proba.shape == (len(X), len(fitted.classes_))
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
            _assert_same(fitted.classes_[np.argmax(proba, axis=1)], pred, "predict vs argmax(predict_proba)")


def check_bad_inputs(est, X, y):
    """Bad input raises ValueError/TypeError that names the problem and where it is."""
    import pandas as pd

    cases = [
        (None, None, "None"),
        ("a single string", None, "single"),
        ([X[0], None, X[1]], None, "X[1]"),
        ([X[0], float("nan")], None, "X[1]"),
        ([X[0], X[1], b"bytes"], None, "X[2]"),
        ([X[0], 42], None, "X[1]"),
        ([X[0], ["nested", "list"]], None, "X[1]"),
        (pd.DataFrame({"a": X, "b": X}), None, "2 columns"),
        ([], None, "0 texts"),
    ]
    fitted = _fitted(est, X, y)
    method = "predict" if hasattr(fitted, "predict") else "transform"
    for bad, _, needle in cases:
        for call in ("fit", method):
            try:
                if call == "fit":
                    clone(est).fit(bad, _labels_for(bad, y))
                else:
                    getattr(fitted, method)(bad)
            except (ValueError, TypeError) as exc:
                assert needle in str(exc), f"{call}({bad!r:.40}) raised {exc!r}, which does not mention {needle!r}"
            else:
                raise AssertionError(f"{call}({bad!r:.40}) raised nothing")
    if y is None:
        return
    label_cases = [
        (y[:-1], "different lengths"),
        ([y[0], None] + list(y[2:]), "y[1]"),
        (None, "y"),
    ]
    if is_classifier(est):
        label_cases += [(np.asarray([y[0]] * len(y)), "only one class"), (np.linspace(0, 1, len(y)), "continuous")]
    if is_regressor(est):
        label_cases += [([y[0], "high"] + list(y[2:]), "y[1]"), ([y[0], np.inf] + list(y[2:]), "y[1]")]
    for bad_y, needle in label_cases:
        try:
            clone(est).fit(X, bad_y)
        except (ValueError, TypeError) as exc:
            assert needle in str(exc), f"fit(X, {needle}) raised {exc!r}"
        else:
            raise AssertionError(f"fit with bad y ({needle}) raised nothing")


def _labels_for(bad_X, y):
    """Labels of the same length as a bad X, so fit fails on X and not on lengths."""
    if y is None or isinstance(bad_X, str) or not hasattr(bad_X, "__len__"):
        return y
    return y[: len(bad_X)] if 0 < len(bad_X) <= len(y) else y


def check_invalid_params_rejected(est, X, y):
    """An out-of-range parameter is reported by fit, naming the parameter."""
    params = est.get_params(deep=False)
    for name, bad in (("C", -1.0), ("alpha", -1.0), ("ngram_range", (2, 1)), ("batch_size", 0)):
        if name in params:
            try:
                clone(est).set_params(**{name: bad}).fit(X, y) if y is not None else clone(est).set_params(**{name: bad}).fit(X)
            except (ValueError, TypeError) as exc:
                assert repr(name) in str(exc), f"error for {name}={bad!r} does not name it: {exc}"
            else:
                raise AssertionError(f"fit accepted {name}={bad!r}")


def check_summarizer_scoring(est, X, references, param_grid=None):
    """Summaries are strings in document order; score, cross_val_score and GridSearchCV run on references."""
    from ..metrics import get_scorer

    fitted = _fitted(est, X, references)
    summaries = fitted.predict(X)
    assert isinstance(summaries, list) and len(summaries) == len(X)
    assert all(isinstance(s, str) for s in summaries)
    score = fitted.score(X, references)
    assert 0.0 <= score <= 1.0
    scores = cross_val_score(clone(est), X, references, cv=3, error_score="raise")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    # The named scorer on the fitted model: cross-validation itself was checked just above.
    rouge1 = get_scorer("rouge1")(fitted, X, references)
    assert 0.0 <= rouge1 <= 1.0
    if param_grid is not None:
        search = GridSearchCV(clone(est), param_grid, cv=2, error_score="raise").fit(X, references)
        assert set(search.best_params_) == set(param_grid)
    for bad, needle in ((references[:-1], "different lengths"), ([references[0], None] + references[2:], "y[1]"),
                        (None, "y"), ("one string", "single string")):
        try:
            fitted.score(X, bad)
        except (ValueError, TypeError) as exc:
            assert needle in str(exc), f"score with bad references ({needle}) raised {exc!r}"
        else:
            raise AssertionError(f"score with bad references ({needle}) raised nothing")


def check_qa_inputs_and_scoring(est, X, y, param_grid=None):
    """Question answering: every input layout gives the same answers; bad pairs and answers raise; scorers run."""
    import pandas as pd

    from ..metrics import get_scorer

    if "random_state" in est.get_params():
        est = clone(est).set_params(random_state=0)
    fitted = _fitted(est, X, y)
    answers = fitted.predict(X)
    assert isinstance(answers, list) and len(answers) == len(X) and all(isinstance(a, str) for a in answers)
    pairs = list(zip(X["question"], X["context"]))
    for variant in (pairs, [{"question": q, "context": c} for q, c in pairs],
                    X.assign(extra=1), {"question": list(X["question"]), "context": list(X["context"])}):
        assert fitted.predict(variant) == answers, f"{type(variant).__name__} input changed the answers"
    assert fitted.predict([(X["question"][0], "")]) == [""], "an empty passage must give an empty answer"
    assert 0.0 <= fitted.score(X, y) <= 1.0
    scores = cross_val_score(clone(est), X, y, cv=3, scoring=get_scorer("exact_match"), error_score="raise")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    if param_grid is not None:
        search = GridSearchCV(clone(est), param_grid, cv=2, error_score="raise").fit(X, y)
        assert set(search.best_params_) == set(param_grid)
    q0, c0 = pairs[0]
    bad_inputs = [
        (None, "None"), ("a question", "single"), (pd.DataFrame({"question": [q0]}), "'context'"),
        ([(q0, c0), (q0, None)], "X.context[1]"), ([(q0, c0), (42, c0)], "X.question[1]"),
        ([(q0, c0), (q0,)], "X[1]"), ([(q0, c0), {"question": q0}], "X[1]"), ([], "0 texts"),
    ]
    for bad, needle in bad_inputs:
        for call in (lambda b: clone(est).fit(b, y[: len(b)] if hasattr(b, "__len__") and 0 < len(b) < len(y)
                                              else y), fitted.predict):
            try:
                call(bad)
            except (ValueError, TypeError) as exc:
                assert needle in str(exc), f"{bad!r:.50} raised {exc!r}, which does not mention {needle!r}"
            else:
                raise AssertionError(f"{bad!r:.50} raised nothing")
    for bad_y, needle in ((y[:-1], "different lengths"), ([y[0], None] + list(y[2:]), "y[1]"), (None, "y"),
                          ([y[0], 3] + list(y[2:]), "y[1]")):
        try:
            clone(est).fit(X, bad_y) if bad_y is not None else fitted.score(X, bad_y)
        except (ValueError, TypeError) as exc:
            assert needle in str(exc), f"bad answers ({needle}) raised {exc!r}"
        else:
            raise AssertionError(f"bad answers ({needle}) raised nothing")


_CHECKS = [
    check_sklearn_api,
    check_params_roundtrip,
    check_fit_returns_self_and_keeps_params,
    check_unfitted_raises,
    check_clone_is_unfitted,
    check_refit_from_scratch,
    check_input_containers,
    check_empty_strings,
    check_pickle_roundtrip,
    check_safe_save_load,
    check_in_pipeline,
    check_cross_val_score,
    check_classifier_labels,
    check_bad_inputs,
    check_invalid_params_rejected,
]

# Question answering takes (question, passage) pairs: its own input, label and scoring checks
# (check_qa_inputs_and_scoring) replace the ones written for one text per sample.
_QA_CHECKS = [c for c in _CHECKS if c not in (check_input_containers, check_empty_strings, check_cross_val_score,
                                              check_classifier_labels, check_bad_inputs)]


def yield_contract_checks(estimator, X=None, y=None, *, param_grid=None):
    """Yield ``(check_name, callable)`` pairs, each running one contract check.

    Parameters
    ----------
    estimator : estimator
        An unfitted nlpipe-style text estimator.
    X : list of str, default=None
        Texts; a tiny built-in corpus when None.
    y : array-like, default=None
        Labels for classifiers; built-in labels when None and ``X`` is None.
    param_grid : dict, default=None
        Grid for the GridSearchCV check; skipped when None.

    Yields
    ------
    name : str
        The check's function name.
    check : callable taking no argument
        Runs the check; raises on failure.

    Examples
    --------
    >>> from nlpipe import TfidfNBClassifier
    >>> from nlpipe.testing import yield_contract_checks
    >>> checks = dict(yield_contract_checks(TfidfNBClassifier()))
    >>> list(checks)[:3]
    ['check_sklearn_api', 'check_params_roundtrip', 'check_fit_returns_self_and_keeps_params']
    >>> checks["check_pickle_roundtrip"]()  # one check; silent when it passes

    In a pytest suite, one test per check::

        @pytest.mark.parametrize("name, check", yield_contract_checks(MyEstimator()))
        def test_contract(name, check):
            check()
    """
    if _is_question_answerer(estimator):
        if X is None:
            X, y = make_question_answering()
        for check in _QA_CHECKS:
            yield check.__name__, (lambda c=check: c(estimator, X, y))
        yield "check_qa_inputs_and_scoring", (lambda: check_qa_inputs_and_scoring(estimator, X, y, param_grid))
        return
    if _is_summarizer(estimator):
        if X is None:
            X, y = make_summarization()
        references = y
        # Unsupervised summarizers ignore y in fit (their references are checked through score);
        # supervised ones learn from it, so the label checks run on the references.
        fit_y = references if estimator.__sklearn_tags__().target_tags.required else None
        for check in _CHECKS:
            yield check.__name__, (lambda c=check: c(estimator, X, fit_y))
        yield "check_summarizer_scoring", (lambda: check_summarizer_scoring(estimator, X, references, param_grid))
        return
    if X is None:
        X, labels = make_text_classification(3 if is_classifier(estimator) else 2, repeat=2)
        y = None
        if is_classifier(estimator):
            y = labels
        elif is_regressor(estimator):
            y = np.unique(labels, return_inverse=True)[1].astype(np.float64) + np.linspace(0, 0.1, len(labels))
    for check in _CHECKS:
        yield check.__name__, (lambda c=check: c(estimator, X, y))
    if param_grid is not None:
        yield "check_grid_search", (lambda: check_grid_search(estimator, X, y, param_grid))


def check_estimator_contract(estimator, X=None, y=None, *, param_grid=None):
    """Run every contract check on ``estimator``; raise on the first failure.

    Parameters
    ----------
    estimator : estimator
        An unfitted nlpipe-style text estimator.
    X : list of str, default=None
        Texts; a tiny built-in corpus when None.
    y : array-like, default=None
        Labels for classifiers.
    param_grid : dict, default=None
        Grid for the GridSearchCV check.

    Examples
    --------
    >>> from nlpipe import ExtractiveSummarizer, TfidfNBClassifier
    >>> from nlpipe.testing import check_estimator_contract, make_summarization
    >>> X, y = make_summarization(6)
    >>> check_estimator_contract(ExtractiveSummarizer(method="lead"), X, y, param_grid={"n_sentences": [1, 2]})

    An estimator that breaks the contract fails with the reason:

    >>> class Forgetful(TfidfNBClassifier):
    ...     def fit(self, X, y):
    ...         super().fit(X, y)
    ...         self.min_df = 1  # fit must not change a parameter
    ...         return self
    >>> try:
    ...     check_estimator_contract(Forgetful())
    ... except AssertionError as exc:
    ...     print(str(exc).splitlines()[0])
    fit changed parameter 'min_df': 2 -> 1
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        for _, check in yield_contract_checks(estimator, X, y, param_grid=param_grid):
            check()
