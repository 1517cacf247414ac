"""Method docstrings: the parameters every estimator method shares, described once."""

import inspect
import re

# The descriptions of the method parameters that mean the same in every estimator
# (docs/conventions.md, "Method parameters"). A method's own docstring entry wins.
_STANDARD = {
    "X": "list of str",
    "y": "None\n    Ignored.",
    "sample_weight": "None\n    Not supported; must be None.",
}
_HEADER = re.compile(r"^(\S[^\n]*)\n-{3,}$", re.MULTILINE)


def _standard_entry(name, param, X, X_type):
    if name == "X":
        return f"X : {X_type}\n    {X}"
    if name in ("y", "sample_weight") and param.default is None:
        return f"{name} : {_STANDARD[name]}"
    return None


def parameter_docs(method=None, /, *, X="Texts.", X_type=_STANDARD["X"]):
    """Complete a method's Parameters section with nlpipe's standard descriptions.

    ``predict(self, X)`` in every estimator takes ``X : list of str``; a ``y=None`` that a
    transformer's ``fit`` ignores and a ``sample_weight=None`` that a ``score`` does not
    support mean the same everywhere too. Those entries are written here once: the
    decorator adds each such parameter of the signature that the docstring does not
    document itself (``X`` first, the others last), creating the Parameters section
    where the docstring has none. ``help``, numpydoc and the API pages see the result.

    Parameters
    ----------
    method : callable or None, default=None
        The method, when used as ``@parameter_docs`` without arguments.
    X : str, default="Texts."
        The description of ``X`` (``"Documents."``, ``"Prompts."``).
    X_type : str, default="list of str"
        The type of ``X`` (question answering takes question/passage pairs).

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

    def decorate(func):
        func.__doc__ = _complete(func, X, X_type)
        return func

    return decorate if method is None else decorate(method)


def _complete(func, X, X_type):
    doc = inspect.cleandoc(func.__doc__ or "")
    params = list(inspect.signature(func).parameters.items())[1:]  # without self
    headers = [(m.start(), m.end(), m.group(1)) for m in _HEADER.finditer(doc)]
    section = next(((start, end) for start, end, title in headers if title == "Parameters"), None)
    if section is None:
        before = next((start for start, _, _ in headers), len(doc))
        head, own, tail = doc[:before].rstrip("\n"), "", doc[before:]
    else:
        following = next((start for start, _, _ in headers if start > section[0]), len(doc))
        head, own, tail = doc[: section[0]].rstrip("\n"), doc[section[1] : following].strip("\n"), doc[following:]
    documented = set(re.findall(r"^(\w+) :", own, re.MULTILINE))
    first, last = [], []
    for name, param in params:
        if name in documented:
            continue
        entry = _standard_entry(name, param, X, X_type)
        if entry is None:
            raise TypeError(f"{func.__qualname__}: parameter {name!r} is not documented and has no standard description")
        (first if name == "X" else last).append(entry)
    entries = "\n".join([*first, own, *last] if own else [*first, *last])
    body = f"{head}\n\nParameters\n----------\n{entries}"
    return (f"{body}\n\n{tail}" if tail else body).rstrip("\n")
