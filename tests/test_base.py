"""Input validation, constraint tables, versioned pickling, lazy import."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import nlpipe
from nlpipe.base import BaseTextEstimator, Interval, Options, check_classification_targets, check_texts, store_params
from nlpipe.exceptions import InconsistentVersionWarning, InvalidParameterError


def test_import_is_lazy():
    code = (
        "import sys, nlpipe; nlpipe.__version__; "
        "heavy = [m for m in ('torch', 'transformers', 'spacy', 'sklearn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import nlpipe imported {out}"
    code = (
        "import sys, nlpipe; nlpipe.TfidfSVMClassifier; nlpipe.TransformerClassifier; "
        "print('torch' in sys.modules or 'spacy' in sys.modules or 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_unknown_public_name():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        nlpipe.Nope  # noqa: B018
    assert "TfidfSVMClassifier" in dir(nlpipe)


@pytest.mark.parametrize(
    "X, exc, match",
    [
        (None, TypeError, "X is None"),
        ("one text", TypeError, r"wrap a single text in a list|Wrap a single text"),
        (b"bytes", TypeError, "single bytes"),
        (["a", None], ValueError, r"X\[1\] is a missing value"),
        (["a", "b", np.nan], ValueError, r"X\[2\] is a missing value"),
        (pd.Series(["a", pd.NA], dtype=object), ValueError, r"X\[1\] is a missing value"),
        (["a", b"b"], TypeError, r"X\[1\] is bytes.*decode"),
        (["a", 3], TypeError, r"X\[1\] is int"),
        ([["a", "b"]], TypeError, r"X\[0\] is a list.*join"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "1-D"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, r"2 columns.*X\['a'\]"),
        ([], ValueError, "0 texts"),
        ({"a": 1}, TypeError, "dict"),
        (42, TypeError, "int"),
    ],
)
def test_check_texts_errors(X, exc, match):
    with pytest.raises(exc, match=match):
        check_texts(X)


def test_check_texts_accepts_containers():
    assert check_texts(np.array(["a", "b"])) == ["a", "b"]
    assert check_texts(np.array([["a"], ["b"]], dtype=object)) == ["a", "b"]
    assert check_texts(pd.DataFrame({"t": ["a", ""]})) == ["a", ""]
    assert check_texts(x for x in ["a"]) == ["a"]


@pytest.mark.parametrize(
    "y, exc, match",
    [
        ([0, 1], ValueError, "different lengths: 3 texts but 2 labels"),
        (["a", "a", "a"], ValueError, "only one class"),
        (["a", None, "b"], ValueError, r"y\[1\] is a missing value"),
        ([0.0, np.nan, 1.0], ValueError, r"y\[1\] is a missing value"),
        (["a", 1, "b"], TypeError, r"mixes label types: y\[1\]"),
        ([0.1, 0.5, 0.7], ValueError, "continuous"),
        (None, ValueError, "y is None"),
        ([["a"], ["b"], "c"], TypeError, r"y\[2\]"),
    ],
)
def test_check_targets_errors(y, exc, match):
    with pytest.raises(exc, match=match):
        check_classification_targets(y, 3)


def test_check_targets_kinds():
    y, kind = check_classification_targets(pd.Series(["b", "a", "b"]), 3)
    assert kind == "single" and y.tolist() == ["b", "a", "b"]
    y, kind = check_classification_targets([["b", "a"], [], ("a",)], 3)
    assert kind == "lists" and y == [("a", "b"), (), ("a",)]
    _, kind = check_classification_targets(np.array([[1, 0], [0, 1], [1, 1]]), 3)
    assert kind == "indicator"


def test_constraint_descriptions():
    import numbers

    assert str(Interval(numbers.Real, 0, None, closed="neither")) == "a float in the range (0, inf)"
    assert Interval(numbers.Integral, 1, None).is_satisfied_by(3)
    assert not Interval(numbers.Integral, 1, None).is_satisfied_by(True)
    assert not Interval(numbers.Real, 0, 1).is_satisfied_by(float("nan"))
    assert Options(["a"]).is_satisfied_by("a") and not Options(["a"]).is_satisfied_by(["a"])


def test_invalid_param_message_names_everything():
    clf = nlpipe.TfidfSVMClassifier(C="big")
    with pytest.raises(InvalidParameterError, match=r"'C' parameter of TfidfSVMClassifier must be a float in the range \(0, inf\). Got 'big'"):
        clf.fit(["a b", "c d"], [0, 1])
    with pytest.raises(ValueError, match="'analyzer'.*one of"):
        nlpipe.TfidfNBClassifier(analyzer="chars").fit(["a b", "c d"], [0, 1])


def test_pickle_version_stamp_checked():
    X, y = ["good good", "bad bad", "good", "bad"], [1, 0, 1, 0]
    clf = nlpipe.TfidfNBClassifier(min_df=1).fit(X, y)
    state = clf.__getstate__()
    assert state["_nlpipe_version"] == nlpipe.__version__
    state["_nlpipe_version"] = "0.0.1"
    fresh = nlpipe.TfidfNBClassifier.__new__(nlpipe.TfidfNBClassifier)
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        fresh.__setstate__(state)
    assert fresh.predict(["good"]).tolist() == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(clf))  # same version: silent


def test_parameter_docs_adds_standard_entries_in_signature_order():
    from numpydoc.docscrape import NumpyDocString

    from nlpipe.base import parameter_docs

    @parameter_docs(X="Prompts.")
    def score(self, X, y, sample_weight=None):
        """Score the prompts.

        Parameters
        ----------
        y : list of str
            References.

        Returns
        -------
        score : float
        """

    params = NumpyDocString(score.__doc__)["Parameters"]
    assert [(p.name, p.type, " ".join(p.desc)) for p in params] == [
        ("X", "list of str", "Prompts."),
        ("y", "list of str", "References."),
        ("sample_weight", "None", "Not supported; must be None."),
    ]
    assert NumpyDocString(score.__doc__)["Returns"][0].name == "score"


def test_parameter_docs_keeps_own_entries_and_refuses_undocumented_ones():
    from nlpipe.base import parameter_docs

    @parameter_docs
    def fit(self, X, y=None):
        """Fit.

        Parameters
        ----------
        X : list of str
            Texts, validated only.
        """

    assert "Texts, validated only." in fit.__doc__ and "y : None\n    Ignored." in fit.__doc__
    assert fit.__doc__.count("X :") == 1
    with pytest.raises(TypeError, match="'n_steps' is not documented"):
        @parameter_docs
        def predict(self, X, n_steps):
            """Predict."""


def test_parameter_docs_on_a_function_family_and_standard_returns():
    from numpydoc.docscrape import NumpyDocString

    from nlpipe.base import parameter_docs

    family = parameter_docs(entries={"y_true": "sequence\n    Gold ids.", "k": "int, default=10\n    Ranks."},
                            returns="score : float\n    In [0, 1].")

    @family
    def hits(y_true, y_pred, *, k=10):
        """Hits at k.

        Parameters
        ----------
        y_pred : array-like
            Ranked ids.
        """

    doc = NumpyDocString(hits.__doc__)
    # a function's first parameter is documented (only a method's ``self`` is skipped), in signature order
    assert [p.name for p in doc["Parameters"]] == ["y_true", "y_pred", "k"]
    assert [(r.name, r.type) for r in doc["Returns"]] == [("score", "float")]

    @parameter_docs(y="labels")
    def fit(self, X, y):
        """Fit."""

    doc = NumpyDocString(fit.__doc__)
    assert [(p.name, " ".join(p.desc)) for p in doc["Parameters"]] == [("X", "Texts."), ("y", "Labels (str or int).")]
    assert [(r.name, r.type) for r in doc["Returns"]] == [("self", "object")]  # scikit-learn's wording for fit
    with pytest.raises(ValueError, match="y must be one of"):
        parameter_docs(y="targets")


def test_fit_context_checks_the_parameters_before_fit_runs():
    import numbers

    from nlpipe.base import fit_context
    from nlpipe.exceptions import InvalidParameterError

    class Counter(BaseTextEstimator):
        _parameter_constraints = {"size": [Interval(numbers.Integral, 1, None)]}

        def __init__(self, *, size=1):
            store_params(self, locals())

        @fit_context
        def fit(self, X, y=None):
            self.calls_ = getattr(self, "calls_", 0) + 1
            return self

    with pytest.raises(InvalidParameterError, match="'size' parameter of Counter"):
        Counter(size=0).fit(["a"])
    counter = Counter(size=0)
    with pytest.raises(InvalidParameterError):
        counter.fit(["a"])
    assert not hasattr(counter, "calls_")  # fit's body never ran
    assert Counter(size=2).fit(["a"]).calls_ == 1


def test_store_params_stores_the_callers_parameters_as_given():
    class Parent(BaseTextEstimator):
        def __init__(self, *, size=10, tags=None, verbose=1):
            store_params(self, locals())

    # A user's subclass without inherit_params: its signature does not list the parent's
    # parameters, which must still be stored by the parent's __init__.
    class Child(Parent):
        def __init__(self, *, name="x", size=20, **params):
            super().__init__(**params)
            helper = "not a parameter"  # noqa: F841  (a local that is not a parameter is not stored)
            store_params(self, locals())

    tags = ["a"]
    child = Child(name="y", tags=tags)
    assert child.tags is tags  # unchanged, not copied
    assert (child.name, child.size, child.verbose) == ("y", 20, 1)  # the child's default wins over the parent's
    assert "params" not in vars(child) and "helper" not in vars(child)
    assert Parent(size=3).get_params() == {"size": 3, "tags": None, "verbose": 1}


def test_single_label_targets_refuse_multilabel():
    y, kind = check_classification_targets(["a", "b"], 2, multilabel=False)
    assert kind == "single"
    with pytest.raises(ValueError, match="labels per text"):
        check_classification_targets([["a"], ["a", "b"]], 2, multilabel=False)


@pytest.mark.parametrize("seed", range(5))
def test_length_batches_partition_the_texts_longest_first(seed):
    from nlpipe.base import length_batches

    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 300, size=int(rng.integers(1, 200)))
    batches = length_batches(lengths, batch_size=16)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))  # every text once
    assert all(1 <= len(b) <= 16 for b in batches)
    ordered = lengths[flat]
    assert (np.diff(ordered) <= 0).all()  # longest first, so each batch pads to its first text
    # Never more padded tokens than fixed batches of 16 over the same order, counting each call's cost.
    cost = sum(len(b) * lengths[b].max() + 64 for b in batches)
    fixed = sum(len(c) * c.max() + 64 for c in np.split(ordered, range(16, len(ordered), 16)))
    assert cost <= fixed
