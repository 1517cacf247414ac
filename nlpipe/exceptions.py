"""Warnings and errors raised by nlpipe.

This module imports nothing from nlpipe, so every other module may use it.

Examples
--------
A bad parameter value is reported by ``fit``, naming the parameter:

>>> from nlpipe import TfidfSVMClassifier
>>> from nlpipe.exceptions import InvalidParameterError
>>> try:
...     TfidfSVMClassifier(C=-1.0).fit(["a good film", "a bad film"], ["pos", "neg"])
... except InvalidParameterError as exc:
...     print(exc)
The 'C' parameter of TfidfSVMClassifier must be a float in the range (0, inf). Got -1.0 instead.

The warnings are ``UserWarning`` subclasses, and the errors subclass the built-in
exceptions that callers already catch:

>>> from nlpipe import exceptions
>>> {name: getattr(exceptions, name).__mro__[1].__name__ for name in exceptions.__all__}
... # doctest: +NORMALIZE_WHITESPACE
{'DeviceWarning': 'UserWarning', 'InconsistentVersionWarning': 'UserWarning',
 'InvalidParameterError': 'ValueError', 'MissingExtraError': 'ImportError'}
"""

__all__ = [
    "DeviceWarning",
    "InconsistentVersionWarning",
    "InvalidParameterError",
    "MissingExtraError",
]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has a value its constraint table forbids.

    It subclasses both ``ValueError`` and ``TypeError`` (like scikit-learn's own)
    so callers catching either keep working.

    Examples
    --------
    >>> from nlpipe import TfidfNBClassifier
    >>> from nlpipe.exceptions import InvalidParameterError
    >>> try:
    ...     TfidfNBClassifier(ngram_range=(2, 1)).fit(["a good film", "a bad film"], ["pos", "neg"])
    ... except ValueError as exc:  # an InvalidParameterError is a ValueError (and a TypeError)
    ...     print(type(exc).__name__, "-", exc)  # doctest: +NORMALIZE_WHITESPACE
    InvalidParameterError - The 'ngram_range' parameter of TfidfNBClassifier must be
    a tuple (min_n, max_n) of ints with 1 <= min_n <= max_n. Got (2, 1) instead.
    """


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the extra to install.

    It is an ``ImportError``, so ``except ImportError`` also catches it.

    Examples
    --------
    >>> from nlpipe.exceptions import MissingExtraError
    >>> try:
    ...     raise MissingExtraError("ROUGE needs the rouge-score package. Install the extra: "
    ...                             "pip install 'nlpipe[summarization]'")
    ... except ImportError as exc:
    ...     print(exc)
    ROUGE needs the rouge-score package. Install the extra: pip install 'nlpipe[summarization]'
    """


class DeviceWarning(UserWarning):
    """Weights were moved to another device than the one they were saved on.

    Issued when a model fitted on a GPU is loaded where that GPU is missing (it
    then runs on the CPU).

    Examples
    --------
    Make the fallback an error, e.g. in a deployment that must run on the GPU:

    >>> import warnings
    >>> from nlpipe.exceptions import DeviceWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DeviceWarning)
    ...     try:
    ...         warnings.warn("This model was fitted on cuda:0 ...; it is loaded on the CPU.", DeviceWarning)
    ...     except DeviceWarning as exc:
    ...         print("refused:", exc)
    refused: This model was fitted on cuda:0 ...; it is loaded on the CPU.
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator is unpickled with another nlpipe version than it was pickled with.

    Parameters
    ----------
    estimator_name : str
        Class name of the unpickled estimator.
    current_version : str
        The nlpipe version doing the loading.
    original_version : str
        The nlpipe version that pickled the estimator.

    Examples
    --------
    >>> from nlpipe.exceptions import InconsistentVersionWarning
    >>> w = InconsistentVersionWarning(estimator_name="TfidfSVMClassifier", current_version="0.2.0",
    ...                                original_version="0.1.0")
    >>> w.original_version
    '0.1.0'
    >>> print(w)  # doctest: +NORMALIZE_WHITESPACE
    Trying to unpickle TfidfSVMClassifier from nlpipe 0.1.0 with nlpipe 0.2.0. This might lead to
    breaking code or invalid results; refit the model with the current version.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(
            f"Trying to unpickle {estimator_name} from nlpipe {original_version} "
            f"with nlpipe {current_version}. This might lead to breaking code or "
            "invalid results; refit the model with the current version."
        )
