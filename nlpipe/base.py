"""Shared foundations: text-input validation, constraint tables, estimator base.

Everything here is light (numpy, scikit-learn) and imported by every task module.
"""

import functools
import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import type_of_target

from ._version import __version__
from .exceptions import InconsistentVersionWarning, InvalidParameterError

__all__ = [
    "BaseTextEstimator",
    "HasMethods",
    "Interval",
    "NgramRange",
    "Options",
    "check_texts",
    "check_classification_targets",
    "check_regression_targets",
    "label_lists_to_indicator",
    "validate_params",
]

_TEXT_CONTAINERS = "a list, tuple, numpy array, pandas Series or one-column DataFrame of str"


# --------------------------------------------------------------------------- #
# Constraint tables
#
# Each estimator declares ``_parameter_constraints = {"name": [c1, c2, ...]}``;
# a value is valid when it satisfies any one constraint.  Subclasses extend
# the table with ``{**Parent._parameter_constraints, "new": [...]}``.
# A constraint is one of: ``None``, a type, ``callable``, ``"boolean"``,
# ``"random_state"``, or an instance of the small classes below.
# --------------------------------------------------------------------------- #


class Interval:
    """Numbers of a type in a range.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        Accepted number type; ``bool`` is never accepted.
    left, right : float or None
        Bounds; None means unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds are included.

    Examples
    --------
    >>> import numbers
    >>> from nlpipe.base import Interval
    >>> alpha = Interval(numbers.Real, 0, 1, closed="right")
    >>> alpha.is_satisfied_by(0.5), alpha.is_satisfied_by(0), alpha.is_satisfied_by(True)
    (True, False, False)
    >>> print(alpha)
    a float in the range (0, 1]
    """

    def __init__(self, type, left, right, *, closed="both"):
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value):
        """Whether ``value`` is a number of ``type`` (never a bool, never NaN) within the bounds.

        Parameters
        ----------
        value : object
            The parameter value to check.

        Returns
        -------
        satisfied : bool
            True when the constraint holds.
        """
        if isinstance(value, bool) or not isinstance(value, self.type):
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self):
        kind = "an int" if self.type is numbers.Integral else "a float"
        lb = "[" if self.closed in ("both", "left") else "("
        rb = "]" if self.closed in ("both", "right") else ")"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        return f"{kind} in the range {lb}{left}, {right}{rb}"


class Options:
    """One of a fixed set of values.

    Parameters
    ----------
    options : iterable
        The accepted values.

    Examples
    --------
    >>> from nlpipe.base import Options
    >>> penalty = Options(["l1", "l2"])
    >>> penalty.is_satisfied_by("l2"), penalty.is_satisfied_by("elasticnet"), penalty.is_satisfied_by(["l1"])
    (True, False, False)
    >>> print(penalty)
    one of {'l1', 'l2'}
    """

    def __init__(self, options):
        self.options = tuple(options)

    def is_satisfied_by(self, value):
        """Whether ``value`` is one of the options.

        Parameters
        ----------
        value : object
            The parameter value to check.

        Returns
        -------
        satisfied : bool
            True when the constraint holds.
        """
        try:
            return value in self.options
        except TypeError:  # unhashable / incomparable values
            return False

    def __str__(self):
        return "one of {" + ", ".join(repr(o) for o in self.options) + "}"


class HasMethods:
    """Any object with the given methods.

    Parameters
    ----------
    methods : list of str
        Method names the object must have.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from nlpipe.base import HasMethods
    >>> vectorizer = HasMethods(["fit", "transform"])
    >>> vectorizer.is_satisfied_by(CountVectorizer()), vectorizer.is_satisfied_by("tfidf")
    (True, False)
    >>> print(vectorizer)
    an object implementing 'fit', 'transform'
    """

    def __init__(self, methods):
        self.methods = list(methods)

    def is_satisfied_by(self, value):
        """Whether ``value`` has every one of the methods.

        Parameters
        ----------
        value : object
            The parameter value to check.

        Returns
        -------
        satisfied : bool
            True when the constraint holds.
        """
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self):
        return "an object implementing " + ", ".join(repr(m) for m in self.methods)


class NgramRange:
    """A ``(min_n, max_n)`` tuple of ints with ``1 <= min_n <= max_n``.

    Examples
    --------
    >>> from nlpipe.base import NgramRange
    >>> [NgramRange().is_satisfied_by(v) for v in [(1, 2), (2, 1), [1, 2], (0, 1)]]
    [True, False, False, False]
    """

    def is_satisfied_by(self, value):
        """Whether ``value`` is a valid ``(min_n, max_n)`` tuple.

        Parameters
        ----------
        value : object
            The parameter value to check.

        Returns
        -------
        satisfied : bool
            True when the constraint holds.
        """
        return (
            isinstance(value, tuple)
            and len(value) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
            and 1 <= value[0] <= value[1]
        )

    def __str__(self):
        return "a tuple (min_n, max_n) of ints with 1 <= min_n <= max_n"


def _satisfies(constraint, value):
    if constraint is None:
        return value is None
    if constraint is callable:
        return callable(value)
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "random_state":
        return value is None or isinstance(value, (numbers.Integral, np.random.RandomState)) and not isinstance(value, bool)
    if isinstance(constraint, type):
        return isinstance(value, constraint) and not (constraint is not bool and isinstance(value, bool))
    return constraint.is_satisfied_by(value)


def _describe(constraint):
    if constraint is None:
        return "None"
    if constraint is callable:
        return "a callable"
    if constraint == "boolean":
        return "a bool"
    if constraint == "random_state":
        return "an int, a numpy RandomState or None"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    return str(constraint)


def validate_params(estimator):
    """Check every parameter of ``estimator`` against its constraint table.

    Parameters
    ----------
    estimator : BaseTextEstimator
        The estimator whose ``get_params(deep=False)`` is checked against
        ``type(estimator)._parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        Naming the parameter, the estimator, what is allowed and what was given.

    Examples
    --------
    >>> from nlpipe import TfidfSVMClassifier
    >>> from nlpipe.base import validate_params
    >>> validate_params(TfidfSVMClassifier(C=0.5))  # silent when every value is allowed
    >>> validate_params(TfidfSVMClassifier(ngram_range=[1, 2]))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    nlpipe.exceptions.InvalidParameterError: The 'ngram_range' parameter of TfidfSVMClassifier must be
    a tuple (min_n, max_n) of ints with 1 <= min_n <= max_n. Got [1, 2] instead.
    """
    table = type(estimator)._parameter_constraints
    name = type(estimator).__name__
    for param, value in estimator.get_params(deep=False).items():
        if param not in table:
            raise RuntimeError(f"{name}._parameter_constraints has no entry for {param!r}")
        constraints = table[param]
        if any(_satisfies(c, value) for c in constraints):
            continue
        allowed = [_describe(c) for c in constraints]
        allowed = allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + " or " + allowed[-1]
        raise InvalidParameterError(
            f"The {param!r} parameter of {name} must be {allowed}. Got {value!r} instead."
        )


# --------------------------------------------------------------------------- #
# Input validation
# --------------------------------------------------------------------------- #


def _is_missing(x):
    if x is None:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    try:  # pandas.NA / NaT without importing pandas
        return type(x).__name__ in ("NAType", "NaTType")
    except Exception:  # pragma: no cover
        return False


def _bad_item_error(name, i, x):
    where = f"{name}[{i}]"
    if _is_missing(x):
        return ValueError(
            f"{where} is a missing value ({x!r}); every sample must be a str. "
            "Drop or fill missing texts first (empty strings are valid)."
        )
    if isinstance(x, (bytes, bytearray)):
        return TypeError(f"{where} is bytes, expected str; decode it first, e.g. x.decode('utf-8').")
    if isinstance(x, (list, tuple, np.ndarray, set, frozenset, dict)):
        return TypeError(
            f"{where} is a {type(x).__name__}, expected one str per sample; "
            "if these are tokens, join them into one string."
        )
    return TypeError(f"{where} is {type(x).__name__} ({x!r}), expected str.")


def check_texts(X, *, name="X"):
    """Validate a collection of texts and return it as a list of str.

    Parameters
    ----------
    X : list, tuple, ndarray, pandas Series or one-column DataFrame of str
        The texts. Empty strings are valid.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    texts : list of str

    Raises
    ------
    TypeError
        If ``X`` is not a collection of texts, or an item is not a str; the
        message names the position of the first bad item.
    ValueError
        If ``X`` is empty, has the wrong shape, or holds a missing value.

    Examples
    --------
    >>> from nlpipe.base import check_texts
    >>> check_texts(("a b", ""))
    ['a b', '']
    >>> check_texts(["ok", None])
    Traceback (most recent call last):
    ...
    ValueError: X[1] is a missing value (None); every sample must be a str. Drop or fill missing texts first (empty strings are valid).
    """
    if X is None:
        raise TypeError(f"{name} is None; expected {_TEXT_CONTAINERS}.")
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} is a single {type(X).__name__}; expected {_TEXT_CONTAINERS}. "
            "Wrap a single text in a list: [text]."
        )
    kind = type(X).__name__
    module = type(X).__module__ or ""
    if module.startswith("pandas"):
        if kind == "DataFrame":
            if X.shape[1] != 1:
                cols = list(X.columns)
                raise ValueError(
                    f"{name} is a DataFrame with {X.shape[1]} columns {cols[:5]}; pass the text "
                    f"column alone, e.g. {name}[{cols[0]!r}]" if cols else
                    f"{name} is a DataFrame with no columns; expected one text column."
                )
            X = X.iloc[:, 0]
        if type(X).__name__ == "Series":
            values = X.tolist()
        else:
            raise TypeError(f"{name} is a pandas {kind}; expected {_TEXT_CONTAINERS}.")
    elif isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one text per sample); got an array of shape {X.shape}.")
        values = X.tolist()
    elif hasattr(X, "tocsr") or isinstance(X, (dict, set, frozenset)):
        raise TypeError(f"{name} is a {kind}; expected {_TEXT_CONTAINERS}.")
    else:
        try:
            values = list(X)
        except TypeError:
            raise TypeError(f"{name} is a {kind}; expected {_TEXT_CONTAINERS}.") from None
    if not values:
        raise ValueError(f"{name} contains 0 texts; at least 1 is required.")
    # One pass in order, so the error names the first bad item whatever is wrong with it.
    for i, x in enumerate(values):
        if not isinstance(x, str):
            raise _bad_item_error(name, i, x)
        if not x.isascii():
            _check_encodable(x, name, i)
    return values


def _check_encodable(text, name, i):
    """Lone surrogates (from a bad decode, e.g. ``errors="surrogateescape"``) cannot reach a tokenizer."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{name}[{i}] is not valid Unicode: a lone surrogate {text[exc.start]!r} at character {exc.start}. "
            "Decode the source with errors='replace' (or fix its encoding)."
        ) from None


def _n_samples(y):
    shape = getattr(y, "shape", None)
    return shape[0] if shape is not None and len(shape) else len(y)


def _check_label_types(labels, name):
    is_str = [isinstance(v, str) for v in labels]
    for i, v in enumerate(labels):
        if isinstance(v, (bytes, bytearray)):
            raise TypeError(f"{name}[{i}] is bytes; labels must be str or int.")
    if any(is_str) and not all(is_str):
        i = is_str.index(not is_str[0])
        raise TypeError(
            f"{name} mixes label types: {name}[{i}] is {type(labels[i]).__name__} while "
            f"{name}[0] is {type(labels[0]).__name__}; use one type for all labels."
        )


def check_classification_targets(y, n_samples, *, name="y"):
    """Validate classification targets against ``n_samples`` texts.

    Parameters
    ----------
    y : array-like of shape (n_samples,), list of label lists, or indicator matrix
        Class labels (str or int), one label collection per sample for
        multilabel problems, or a 0/1 indicator matrix (dense or sparse).
    n_samples : int
        Number of texts the labels go with.
    name : str, default="y"
        Name used in error messages.

    Returns
    -------
    y : ndarray, list of tuple, or indicator matrix
        The labels, ready for fitting.
    kind : {"single", "lists", "indicator"}
        Single-label, multilabel as label collections, or multilabel indicator.

    Examples
    --------
    >>> from nlpipe.base import check_classification_targets
    >>> y, kind = check_classification_targets(["pos", "neg", "pos"], 3)
    >>> y.tolist(), kind
    (['pos', 'neg', 'pos'], 'single')
    >>> check_classification_targets([["sport"], ["sport", "politics"], []], 3)
    ([('sport',), ('politics', 'sport'), ()], 'lists')
    >>> check_classification_targets(["pos", "neg"], 3)
    Traceback (most recent call last):
    ...
    ValueError: X and y have different lengths: 3 texts but 2 labels.
    """
    if y is None:
        raise ValueError(f"This estimator requires {name} to be passed, but {name} is None.")
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{name} is a single {type(y).__name__}; expected one label per sample.")
    if type(y).__name__ == "DataFrame":
        y = y.to_numpy() if y.shape[1] > 1 else y.iloc[:, 0]
    if hasattr(y, "tocsr"):  # sparse indicator matrix
        if y.shape[0] != n_samples:
            raise ValueError(f"X and {name} have different lengths: {n_samples} texts but {y.shape[0]} label rows.")
        return y.tocsr(), "indicator"
    if type(y).__name__ == "Series":
        y = y.tolist()
    n_y = _n_samples(y)
    if n_y != n_samples:
        raise ValueError(f"X and {name} have different lengths: {n_samples} texts but {n_y} labels.")

    if not isinstance(y, np.ndarray):
        y = list(y)
        collections = [isinstance(v, (list, tuple, set, frozenset, np.ndarray)) for v in y]
        if any(collections):
            if not all(collections):
                i = collections.index(False)
                raise TypeError(
                    f"{name}[{i}] is a {type(y[i]).__name__} but other samples have label lists; "
                    "for multilabel targets give every sample a list of labels (possibly empty)."
                )
            for i, labels in enumerate(y):
                for lab in labels:
                    if _is_missing(lab) or not isinstance(lab, (str, numbers.Integral)) or isinstance(lab, bool):
                        raise TypeError(f"{name}[{i}] holds {lab!r}; labels must be str or int.")
            return [tuple(sorted(set(v), key=str)) for v in y], "lists"
        for i, v in enumerate(y):
            if _is_missing(v):
                raise ValueError(f"{name}[{i}] is a missing value ({v!r}); every sample needs a label.")
        _check_label_types(y, name)
        y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        target = type_of_target(y)
        if target != "multilabel-indicator":
            raise ValueError(f"{name} is 2-D but not a 0/1 multilabel indicator matrix (type: {target}).")
        return y, "indicator"
    if y.ndim == 2:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {y.shape}.")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(y))
        if bad.size:
            raise ValueError(f"{name}[{bad[0]}] is a missing value (nan); every sample needs a label.")
    if y.dtype.kind == "O":
        _check_label_types(y.tolist(), name)
    target = type_of_target(y, input_name=name)
    if target not in ("binary", "multiclass"):
        raise ValueError(
            f"{name} holds {target} values; a classifier needs discrete labels (str or int). "
            "Use a regressor for continuous targets."
        )
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"{name} has only one class ({classes[0]!r}); a classifier needs at least 2.")
    return y, "single"


def check_regression_targets(y, n_samples, *, name="y"):
    """Validate regression targets: finite numbers, one row per text.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    n_samples : int
        Number of texts the targets go with.
    name : str, default="y"
        Name used in error messages.

    Returns
    -------
    y : ndarray of float64, shape (n_samples, n_outputs)
    was_1d : bool
        Whether ``y`` was one-dimensional (predictions then are too).

    Examples
    --------
    >>> from nlpipe.base import check_regression_targets
    >>> y, was_1d = check_regression_targets([0.5, 1, 0.25], 3)
    >>> y.tolist(), was_1d
    ([[0.5], [1.0], [0.25]], True)
    >>> check_regression_targets([0.5, None], 2)
    Traceback (most recent call last):
    ...
    ValueError: y[1] is a missing value (None); every sample needs a target.
    """
    if y is None:
        raise ValueError(f"This estimator requires {name} to be passed, but {name} is None.")
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{name} is a single {type(y).__name__}; expected numeric targets.")
    if type(y).__name__ in ("Series", "DataFrame"):
        y = y.to_numpy()
    arr = np.asarray(y, dtype=object) if not isinstance(y, np.ndarray) else y
    n_y = arr.shape[0] if arr.ndim else 0
    if n_y != n_samples:
        raise ValueError(f"X and {name} have different lengths: {n_samples} texts but {n_y} targets.")
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] < 1):
        raise ValueError(f"{name} must be 1-D or 2-D (n_samples, n_outputs); got shape {arr.shape}.")
    flat = arr.reshape(n_y, -1)
    if flat.dtype.kind not in "biuf":
        for i, row in enumerate(flat.tolist()):
            for v in row:
                if _is_missing(v):
                    raise ValueError(f"{name}[{i}] is a missing value ({v!r}); every sample needs a target.")
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise TypeError(f"{name}[{i}] is {type(v).__name__} ({v!r}); regression targets must be numbers.")
    out = flat.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is not a finite number ({arr[bad[0]]!r}).")
    return out, arr.ndim == 1


def label_lists_to_indicator(binarizer, y, n_samples, *, name="y"):
    """Indicator matrix of label lists ``y`` for a fitted ``MultiLabelBinarizer``.

    Labels never seen in fit are an error: the binarizer would drop them and
    inflate any score computed from the result.

    Parameters
    ----------
    binarizer : sklearn.preprocessing.MultiLabelBinarizer
        Fitted on the label lists given to ``fit``.
    y : sequence of label lists
        One list (or tuple, set) of labels per sample.
    n_samples : int
        Number of texts the labels go with.
    name : str, default="y"
        Name used in error messages.

    Returns
    -------
    indicator : ndarray of shape (n_samples, n_classes)
        0/1 matrix with columns in the order of ``binarizer.classes_``.

    Raises
    ------
    ValueError
        If ``y`` is not label lists, or holds a label never seen in fit.

    Examples
    --------
    >>> from sklearn.preprocessing import MultiLabelBinarizer
    >>> from nlpipe.base import label_lists_to_indicator
    >>> binarizer = MultiLabelBinarizer().fit([["sport", "politics"], ["tech"]])
    >>> label_lists_to_indicator(binarizer, [["tech"], ["sport", "tech"]], 2)
    array([[0, 0, 1],
           [0, 1, 1]])
    >>> label_lists_to_indicator(binarizer, [["music"]], 1)
    Traceback (most recent call last):
    ...
    ValueError: y holds labels never seen in fit: ['music']
    """
    y, kind = check_classification_targets(y, n_samples, name=name)
    if kind != "lists":
        raise ValueError(f"{name} must be label lists, the form given to fit.")
    unseen = {lab for labels in y for lab in labels} - set(binarizer.classes_.tolist())
    if unseen:
        raise ValueError(f"{name} holds labels never seen in fit: {sorted(unseen, key=str)[:5]}")
    return binarizer.transform(y)


# --------------------------------------------------------------------------- #
# Estimator base
# --------------------------------------------------------------------------- #


def _fitted_attributes(est):
    return [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]


def _all_or_nothing(fit):
    """Wrap ``fit`` so that an exception or interruption leaves the estimator unfitted, never half-fitted."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        outer = not self.__dict__.get("_nlpipe_fitting", False)  # super().fit calls run inside one fit
        if outer:
            self.__dict__["_nlpipe_fitting"] = True
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            # KeyboardInterrupt included: whatever the fit had replaced so far is dropped, so the
            # estimator is plainly unfitted (predict raises NotFittedError) instead of mixing two fits.
            if outer:
                for name in _fitted_attributes(self):
                    del self.__dict__[name]
            raise
        finally:
            if outer:
                self.__dict__.pop("_nlpipe_fitting", None)

    wrapper._nlpipe_all_or_nothing = True
    return wrapper


class BaseTextEstimator(BaseEstimator):
    """Base class of nlpipe estimators: string input, constraint table, versioned pickles.

    Subclasses declare ``_parameter_constraints`` and call ``self._validate_params()``
    first thing in ``fit``; ``__init__`` only stores its keyword arguments. Every
    subclass's ``fit`` is all-or-nothing: when it raises (or is interrupted) the
    estimator is left unfitted.

    Examples
    --------
    A minimal text transformer on this base:

    >>> import numbers
    >>> from nlpipe.base import BaseTextEstimator, Interval, check_texts
    >>> class Shouter(BaseTextEstimator):
    ...     _parameter_constraints = {"times": [Interval(numbers.Integral, 1, None)]}
    ...
    ...     def __init__(self, times=1):
    ...         self.times = times
    ...
    ...     def fit(self, X, y=None):
    ...         self._validate_params()
    ...         self.n_texts_ = len(check_texts(X))
    ...         return self
    ...
    ...     def transform(self, X):
    ...         return [text.upper() + "!" * self.times for text in check_texts(X)]
    >>> Shouter(times=2).fit(["hi"]).transform(["hello", "bye"])
    ['HELLO!!', 'BYE!!']
    >>> Shouter(times=0).fit(["hi"])
    Traceback (most recent call last):
    ...
    nlpipe.exceptions.InvalidParameterError: The 'times' parameter of Shouter must be an int in the range [1, inf]. Got 0 instead.
    >>> shouter = Shouter().fit(["hi"])
    >>> shouter.fit([None])  # a failed fit leaves no state of an earlier one behind
    Traceback (most recent call last):
    ...
    ValueError: X[0] is a missing value (None); every sample must be a str. Drop or fill missing texts first (empty strings are valid).
    >>> hasattr(shouter, "n_texts_")
    False
    """

    _parameter_constraints: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if fit is not None and not getattr(fit, "_nlpipe_all_or_nothing", False):
            cls.fit = _all_or_nothing(fit)

    def _validate_params(self):
        validate_params(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state["_nlpipe_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_nlpipe_version", None)
        if version is not None and version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
