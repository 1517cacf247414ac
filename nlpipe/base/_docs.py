"""Method docstrings: the parameters every estimator method shares, described once."""

import inspect
import re

# The descriptions of the method parameters that mean the same in every estimator
# (docs/conventions.md, "Method parameters"). A method's own docstring entry wins.
_STANDARD = {
    "X": "list of str",
    "y": "None\n    Ignored.",
    "sample_weight": "None\n    Not supported; must be None.",
    "input_features": "None\n    Ignored.",
}
# ``y`` of the estimators that learn from it, by kind (``@parameter_docs(y="labels")``).
_TARGETS = {
    "labels": "array-like of shape (n_samples,)\n    Labels (str or int).",
    "intensities": "array-like of shape (n_samples,) or (n_samples, n_outputs)\n    Intensities, usually in [0, 1].",
    "summaries": "list of str\n    One reference summary per document.",
}
# What these methods return, when their docstring does not say more (scikit-learn's wording for fit).
_RETURNS = {
    "fit": "self : object\n    The fitted estimator.",
    "predict_proba": "proba : ndarray of shape (n_samples, n_classes)\n    Class probabilities; columns follow ``classes_``.",
    "predict_log_proba": "log_proba : ndarray of shape (n_samples, n_classes)\n    Log of ``predict_proba``.",
    "get_feature_names_out": "names : ndarray of str\n    One name per output column.",
}
_HEADER = re.compile(r"^(\S[^\n]*)\n-{3,}$", re.MULTILINE)


def _standard_entry(name, param, X, X_type, y, entries):
    if name in entries:
        return f"{name} : {entries[name]}"
    if name == "X":
        return f"X : {X_type}\n    {X}"
    if name == "y" and y is not None:
        return f"y : {_TARGETS[y]}"
    if name in ("y", "sample_weight", "input_features") and param.default is None:
        return f"{name} : {_STANDARD[name]}"
    return None


def parameter_docs(method=None, /, *, X="Texts.", X_type=_STANDARD["X"], y=None, entries=None, returns=None):
    """Complete a method's Parameters section with nlpipe's standard descriptions.

    ``predict(self, X)`` in every estimator takes ``X : list of str``; a ``y=None`` that a
    transformer's ``fit`` ignores and a ``sample_weight=None`` that a ``score`` does not
    support mean the same everywhere too, and so does the ``y`` of a kind of target
    (``y="labels"``). Those entries are written here once: the decorator adds each
    such parameter of the signature that the docstring does not document itself,
    in signature order around the docstring's own entries, creating the Parameters
    section where the docstring has none. ``fit``, ``predict_proba``, ``predict_log_proba`` and
    ``get_feature_names_out`` return the same thing in every estimator: without a
    Returns section of their own they get the standard one (``fit``: scikit-learn's
    ``self : object``). ``help``, numpydoc and the API pages see the result.

    Parameters
    ----------
    method : callable or None, default=None
        The method, when used as ``@parameter_docs`` without arguments.
    X : str, default="Texts."
        The description of ``X`` (``"Documents."``, ``"Prompts."``).
    X_type : str, default="list of str"
        The type of ``X`` (question answering takes question/passage pairs).
    y : {"labels", "intensities", "summaries"} or None, default=None
        The kind of target a ``y`` without a default is; None: ``y`` is documented
        by the method, or is a ``y=None`` that is ignored.
    entries : dict of str to str or None, default=None
        More standard entries, ``{name: "type\\n    description"}``, for a family
        of functions that share parameters (the ranking metrics' ``y_true``,
        ``y_pred`` and ``k``). A function works as well as a method: the first
        parameter is skipped only when it is ``self``.
    returns : str or None, default=None
        The whole Returns entry (``"score : float\\n    In [0, 1]."``) when the
        docstring has no Returns section.

    Returns
    -------
    method or decorator : callable
        The same function, its docstring completed.

    Raises
    ------
    TypeError
        When the method has a parameter that is neither documented nor standard.

    Examples
    --------
    >>> from nlpipe.base import parameter_docs
    >>> @parameter_docs(X="Documents.")
    ... def summarize(self, X):
    ...     '''Summarize each document.
    ...
    ...     Returns
    ...     -------
    ...     summaries : list of str
    ...     '''
    >>> print(summarize.__doc__)
    Summarize each document.
    <BLANKLINE>
    Parameters
    ----------
    X : list of str
        Documents.
    <BLANKLINE>
    Returns
    -------
    summaries : list of str
    """

    if y is not None and y not in _TARGETS:
        raise ValueError(f"parameter_docs: y must be one of {sorted(_TARGETS)} or None, got {y!r}")

    def decorate(func):
        func.__doc__ = _complete(func, X, X_type, y, entries or {}, returns)
        return func

    return decorate if method is None else decorate(method)


def _complete(func, X, X_type, y, entries, returns):
    doc = inspect.cleandoc(func.__doc__ or "")
    params = list(inspect.signature(func).parameters.items())
    if params and params[0][0] == "self":
        params = params[1:]
    headers = [(m.start(), m.end(), m.group(1)) for m in _HEADER.finditer(doc)]
    section = next(((start, end) for start, end, title in headers if title == "Parameters"), None)
    if section is None:
        before = next((start for start, _, _ in headers), len(doc))
        head, own, tail = doc[:before].rstrip("\n"), "", doc[before:]
    else:
        following = next((start for start, _, _ in headers if start > section[0]), len(doc))
        head, own, tail = doc[: section[0]].rstrip("\n"), doc[section[1] : following].strip("\n"), doc[following:]
    documented = set(re.findall(r"^(\w+) :", own, re.MULTILINE))
    # Standard entries of the parameters before the first documented one go before the docstring's own
    # entries, the others after them: signature order wherever the own entries are contiguous.
    first, last = [], []
    for name, param in params:
        if name in documented:
            first, last = first + last, []
            continue
        entry = _standard_entry(name, param, X, X_type, y, entries)
        if entry is None:
            raise TypeError(f"{func.__qualname__}: parameter {name!r} is not documented and has no standard description")
        last.append(entry)
    if not documented:
        first, last = last, []
    lines = "\n".join([*first, own, *last] if own else [*first, *last])
    body = f"{head}\n\nParameters\n----------\n{lines}"
    returns = returns or _RETURNS.get(func.__name__)
    if returns and not any(title == "Returns" for _, _, title in headers):
        body = f"{body}\n\nReturns\n-------\n{returns}"
    return (f"{body}\n\n{tail}" if tail else body).rstrip("\n")
