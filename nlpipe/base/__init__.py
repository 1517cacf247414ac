"""Shared foundations: constraint tables, input validation, the estimator base, optional imports.

Everything here is light (numpy, scikit-learn) and imported by every task module. The
constraint classes and ``validate_params`` live in ``_constraints.py``, the input checks in
``_validation.py``, ``BaseTextEstimator`` and ``fit_context`` in ``_estimator.py``,
the shared method-parameter descriptions (``parameter_docs``) in ``_docs.py``, the size limit
that state rebuilt from a loaded file is checked against (``load_limit``) in ``_limits.py``, and the
length-sorted inference batches (``length_batches``) in ``_batches.py``.
"""

from ._batches import length_batches
from ._constraints import Constraint, HasMethods, Interval, NgramRange, Options, validate_params
from ._docs import parameter_docs
from ._estimator import BaseTextEstimator, fit_context, inherit_params, store_params
from ._extras import import_optional
from ._limits import DEFAULT_MAX_LOAD_BYTES, check_load_size, load_limit
from ._validation import (
    check_classification_targets,
    check_references,
    check_regression_targets,
    check_texts,
    label_lists_to_indicator,
)

__all__ = [
    "BaseTextEstimator",
    "Constraint",
    "HasMethods",
    "Interval",
    "NgramRange",
    "Options",
    "check_classification_targets",
    "check_load_size",
    "check_references",
    "check_regression_targets",
    "check_texts",
    "fit_context",
    "import_optional",
    "inherit_params",
    "label_lists_to_indicator",
    "length_batches",
    "load_limit",
    "parameter_docs",
    "store_params",
    "validate_params",
]
