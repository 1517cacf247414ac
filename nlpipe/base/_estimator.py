"""The estimator base: ``BaseTextEstimator`` and ``fit_context``, the decorator of every ``fit``."""

import functools
import inspect
import warnings

from sklearn.base import BaseEstimator

from .._version import __version__
from ..exceptions import InconsistentVersionWarning
from ._constraints import validate_params


# --------------------------------------------------------------------------- #
# Estimator base
# --------------------------------------------------------------------------- #


def fit_context(fit):
    """Decorate an estimator's ``fit``: it checks the parameters, starts from scratch and is all-or-nothing.

    The parameters are checked against the class's ``_parameter_constraints`` table
    (:func:`validate_params`) before ``fit`` runs, so ``fit`` itself never repeats
    that call. Fitted attributes (public names ending in ``_``) of an earlier fit are
    dropped, and whatever a failed or interrupted ``fit`` had set is
    dropped too (``KeyboardInterrupt`` included), so the estimator is either
    fitted by this call or plainly unfitted (``predict`` raises ``NotFittedError``),
    never a mix of two fits. A ``fit`` that calls another decorated ``fit``
    (``super().fit``) is one fit. scikit-learn's own estimators make the same
    guarantee with their ``_fit_context`` decorator.

    Parameters
    ----------
    fit : callable
        The ``fit(self, X, y=None, ...)`` method.

    Returns
    -------
    wrapper : callable
        The decorated method.

    Examples
    --------
    >>> from nlpipe.base import BaseTextEstimator, check_texts, fit_context
    >>> class Counter(BaseTextEstimator):
    ...     @fit_context
    ...     def fit(self, X, y=None):
    ...         self.n_texts_ = len(check_texts(X))
    ...         return self
    >>> counter = Counter().fit(["a", "b"])
    >>> counter.fit([None])
    Traceback (most recent call last):
    ...
    ValueError: X[0] is a missing value (None); every sample must be a str. Drop or fill missing texts first (empty strings are valid).
    >>> hasattr(counter, "n_texts_")
    False
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        outer = not self.__dict__.get("_nlpipe_fitting", False)  # super().fit calls run inside one fit
        if outer:
            _forget_fit(self)
            self.__dict__["_nlpipe_fitting"] = True
        try:
            if outer and hasattr(type(self), "_parameter_constraints"):
                validate_params(self)
            return fit(self, *args, **kwargs)
        except BaseException:
            if outer:
                _forget_fit(self)
            raise
        finally:
            if outer:
                self.__dict__.pop("_nlpipe_fitting", None)

    wrapper._nlpipe_fit_context = True
    return wrapper


def inherit_params(estimator_class, docs=None):
    """Give ``cls.__init__`` the parameters it forwards to its parent, and its docstring the shared descriptions.

    An estimator whose ``__init__`` lists its own keyword-only parameters and
    passes the rest on (``super().__init__(**params)``, as skorch's
    ``NeuralNetClassifier`` does) gets the full signature, which is what
    ``get_params``, ``clone``, ``GridSearchCV``, ``help`` and the API pages read:
    its own parameters first, then the parent's (a parameter it redeclares keeps
    the parent's position with the new default).

    Parameters
    ----------
    estimator_class : type
        The estimator class; completed in place.
    docs : dict of str to str or None, default=None
        Markers of the class docstring (``"%TFIDF%"``, alone on a line) and the
        parameter descriptions that replace them; ``{name}`` fields are filled with
        the class's defaults.

    Returns
    -------
    estimator_class : type
        The same class.

    Examples
    --------
    >>> import inspect
    >>> from nlpipe.base import BaseTextEstimator, inherit_params
    >>> class Base(BaseTextEstimator):
    ...     def __init__(self, *, size=10, verbose=1):
    ...         self.size = size
    ...         self.verbose = verbose
    >>> class Child(Base):
    ...     \"\"\"Parameters: model, then %SHARED%\"\"\"
    ...     def __init__(self, *, model="m", size=20, **params):
    ...         super().__init__(size=size, **params)
    ...         self.model = model
    >>> Child = inherit_params(Child, docs={"%SHARED%": "size={size}"})
    >>> str(inspect.signature(Child))
    "(*, model='m', size=20, verbose=1)"
    >>> Child(verbose=0).get_params()
    {'model': 'm', 'size': 20, 'verbose': 0}
    >>> Child.__doc__
    'Parameters: model, then size=20'
    """
    cls = estimator_class
    own = inspect.signature(cls.__dict__["__init__"])
    if any(p.kind is p.VAR_KEYWORD for p in own.parameters.values()):
        # ``_init_parent``: the class whose ``__init__`` takes the forwarded parameters, when it is not the
        # nearest one (a subclass that keeps its parent's methods but not all of its parameters).
        parent = cls.__dict__.get("_init_parent") or next(k for k in cls.__mro__[1:] if "__init__" in k.__dict__)
        inherited = [p for p in inspect.signature(parent.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY]
        names = {p.name for p in inherited}
        mine = {p.name: p for p in own.parameters.values() if p.kind is p.KEYWORD_ONLY}
        params = [p for name, p in mine.items() if name not in names] + [mine.get(p.name, p) for p in inherited]
        cls.__init__.__signature__ = own.replace(parameters=[next(iter(own.parameters.values())), *params])
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    for marker, text in (docs or {}).items():
        if cls.__doc__ and marker in cls.__doc__:
            cls.__doc__ = cls.__doc__.replace(marker, text.format(**defaults))
    return cls


def store_params(estimator, values):
    """Store each ``__init__`` argument unchanged under its own name (scikit-learn's rule).

    Call it as ``store_params(self, locals())`` first thing in ``__init__`` (after
    ``super().__init__(**params)`` where the class forwards parameters): it sets
    ``estimator.<name> = values[name]`` for every named parameter of the calling
    ``__init__``, and nothing else. It is the one-line form of the ``self.name = name``
    lines scikit-learn asks for: no checks, no conversions (those happen in ``fit``),
    so ``get_params``, ``set_params`` and ``clone`` see the arguments as given. A
    subclass that redeclares a parent's parameter with another default stores it
    after ``super().__init__``, so its value wins.

    Parameters
    ----------
    estimator : estimator
        The estimator being initialised.
    values : dict
        ``locals()`` of its ``__init__``.

    Returns
    -------
    None

    Examples
    --------
    >>> from nlpipe.base import BaseTextEstimator, store_params
    >>> class Shouter(BaseTextEstimator):
    ...     def __init__(self, *, times=1, suffix="!"):
    ...         store_params(self, locals())
    >>> Shouter(times=2).get_params()
    {'suffix': '!', 'times': 2}
    """
    # The caller's own parameters, read from its code object: the ``**params`` dict and the
    # ``__class__`` cell are locals too but not parameters, and a subclass's signature may not
    # list its parent's parameters, so neither ``values`` alone nor the class signature will do.
    caller = inspect.currentframe().f_back.f_code
    names = caller.co_varnames[1 : caller.co_argcount + caller.co_kwonlyargcount]
    for name in names:
        setattr(estimator, name, values[name])


def _forget_fit(est):
    """Drop ``est``'s fitted attributes; an estimator that holds more (a model's memory) frees it in ``_reset``."""
    reset = getattr(est, "_reset", None)
    if reset is not None:
        reset()
        return
    for name in [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]:
        del est.__dict__[name]


class BaseTextEstimator(BaseEstimator):
    """Base class of nlpipe estimators: string input, constraint table, versioned pickles.

    Subclasses declare ``_parameter_constraints`` and decorate ``fit`` with
    :func:`fit_context` (it checks the parameters against the table, starts from
    scratch and is all-or-nothing); ``__init__`` only stores its keyword arguments
    (:func:`store_params`).

    See Also
    --------
    fit_context : the decorator of every ``fit``.

    Examples
    --------
    A minimal text transformer on this base:

    >>> import numbers
    >>> from nlpipe.base import BaseTextEstimator, Interval, check_texts, fit_context, store_params
    >>> class Shouter(BaseTextEstimator):
    ...     _parameter_constraints = {"times": [Interval(numbers.Integral, 1, None)]}
    ...
    ...     def __init__(self, *, times=1):
    ...         store_params(self, locals())
    ...
    ...     @fit_context
    ...     def fit(self, X, y=None):
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

    def _reset(self):
        """Drop every fitted attribute (public names ending in ``_``), as ``fit_context`` does around a fit."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            del self.__dict__[name]

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
        # A parameter added since the pickle was written takes its default, which keeps the old
        # behaviour: without it get_params, clone and repr would fail on the loaded estimator.
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if param.kind is param.KEYWORD_ONLY and param.default is not param.empty and name not in self.__dict__:
                setattr(self, name, param.default)
