"""Warnings and errors raised by nlpipe.

This module imports nothing from nlpipe, so every other module may use it.
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
    """


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class DeviceWarning(UserWarning):
    """Weights were moved to another device than the one they were saved on."""


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
