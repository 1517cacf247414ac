"""Input validation: texts (``check_texts``) and classification, regression and multilabel targets."""

import math
import numbers

import numpy as np
from sklearn.utils.multiclass import type_of_target

_TEXT_CONTAINERS = "a list, tuple, numpy array, pandas Series or one-column DataFrame of str"


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


def check_classification_targets(y, n_samples, *, multilabel=True, name="y"):
    """Validate classification targets against ``n_samples`` texts.

    Parameters
    ----------
    y : array-like of shape (n_samples,), list of label lists, or indicator matrix
        Class labels (str or int), one label collection per sample for
        multilabel problems, or a 0/1 indicator matrix (dense or sparse).
    n_samples : int
        Number of texts the labels go with.
    multilabel : bool, default=True
        Whether label lists and indicator matrices are accepted; when False they
        raise a ValueError (for estimators that take one label per text).
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
    y, kind = _classification_targets(y, n_samples, name)
    if kind != "single" and not multilabel:
        raise ValueError(f"{name} holds several labels per text (multilabel); this estimator takes one label per text.")
    return y, kind


def _classification_targets(y, n_samples, name):
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


def check_references(y, n_samples, *, name="y"):
    """Validate reference texts (summaries, completions, translations): one str per input.

    Parameters
    ----------
    y : list, tuple, ndarray, pandas Series or one-column DataFrame of str
        One reference per input; items are checked as :func:`check_texts` does.
    n_samples : int
        Number of inputs the references go with.
    name : str, default="y"
        Name used in error messages.

    Returns
    -------
    references : list of str

    Examples
    --------
    >>> from nlpipe.base import check_references
    >>> check_references(["a summary", "another"], 2)
    ['a summary', 'another']
    >>> check_references(["only one"], 2)
    Traceback (most recent call last):
    ...
    ValueError: X and y have different lengths: 2 inputs, 1 references.
    """
    if y is None:
        raise ValueError(f"{name} is None: this needs one reference text (str) per input.")
    if isinstance(y, str):
        raise TypeError(f"{name} is a single string; pass one reference per input.")
    refs = check_texts(y, name=name)
    if len(refs) != n_samples:
        raise ValueError(f"X and {name} have different lengths: {n_samples} inputs, {len(refs)} references.")
    return refs
