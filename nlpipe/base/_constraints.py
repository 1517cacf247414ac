"""Constraint tables: the constraint classes and ``validate_params``, which checks an estimator against them."""

import math
import numbers

import numpy as np

from ..exceptions import InvalidParameterError


# --------------------------------------------------------------------------- #
# Constraint tables
#
# Each estimator declares ``_parameter_constraints = {"name": [c1, c2, ...]}``;
# a value is valid when it satisfies any one constraint.  Subclasses extend
# the table with ``{**Parent._parameter_constraints, "new": [...]}``.
# A constraint is one of: ``None``, a type, ``callable``, ``"boolean"``,
# ``"random_state"``, or an instance of a ``Constraint`` subclass below.
# --------------------------------------------------------------------------- #


class Constraint:
    """Base of the constraint classes: one rule a parameter value may satisfy.

    A subclass writes ``is_satisfied_by`` and ``__str__`` (the phrase that
    completes "must be ..." in the error message); a constraint table may hold
    instances of any subclass, a user's own included.

    Examples
    --------
    >>> from nlpipe.base import Constraint
    >>> class Even(Constraint):
    ...     def is_satisfied_by(self, value):
    ...         return isinstance(value, int) and value % 2 == 0
    ...     def __str__(self):
    ...         return "an even int"
    >>> Even().is_satisfied_by(4), Even().is_satisfied_by(3), str(Even())
    (True, False, 'an even int')
    """

    def is_satisfied_by(self, value):
        """Whether ``value`` satisfies the constraint.

        Parameters
        ----------
        value : object
            The parameter value to check.

        Returns
        -------
        satisfied : bool
            True when the constraint holds.
        """
        raise NotImplementedError

    def __str__(self):
        raise NotImplementedError


class Interval(Constraint):
    """Numbers of a type in a range.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        Accepted number type; ``bool`` and NaN are never accepted.
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


class Options(Constraint):
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
        try:
            return value in self.options
        except TypeError:  # unhashable / incomparable values
            return False

    def __str__(self):
        return "one of {" + ", ".join(repr(o) for o in self.options) + "}"


class HasMethods(Constraint):
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
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self):
        return "an object implementing " + ", ".join(repr(m) for m in self.methods)


class NgramRange(Constraint):
    """A ``(min_n, max_n)`` tuple of ints with ``1 <= min_n <= max_n``.

    Examples
    --------
    >>> from nlpipe.base import NgramRange
    >>> [NgramRange().is_satisfied_by(v) for v in [(1, 2), (2, 1), [1, 2], (0, 1)]]
    [True, False, False, False]
    """

    def is_satisfied_by(self, value):
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
