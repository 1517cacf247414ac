"""Optional dependencies: imported where they are used, with an error naming the extra to install."""

import importlib

from ..exceptions import MissingExtraError


def import_optional(module, *, extra, what, requires=None):
    """Import ``module``; when one of its dependencies is missing, say which extra installs it.

    Parameters
    ----------
    module : str
        The module to import (an nlpipe module or a third-party package).
    extra : str
        The nlpipe extra that installs what is missing (``pip install 'nlpipe[extra]'``).
    what : str
        What needs it, for the message (e.g. "Transformer estimators").
    requires : tuple of str or None, default=None
        Top-level packages whose absence means the extra is missing; None means
        ``module``'s own top-level package. Any other ImportError is re-raised as
        it is: it is a bug, not a missing extra.

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    nlpipe.exceptions.MissingExtraError
        Naming the missing package and the extra.

    Examples
    --------
    >>> from nlpipe.base import import_optional
    >>> import_optional("json", extra="none", what="This example").__name__
    'json'
    >>> import_optional("no_such_package", extra="plot", what="plot_report")
    Traceback (most recent call last):
    ...
    nlpipe.exceptions.MissingExtraError: plot_report needs no_such_package, which is not installed. Install the extra: pip install 'nlpipe[plot]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in (requires or (module.split(".")[0],)):
            raise
        raise MissingExtraError(
            f"{what} needs {missing}, which is not installed. Install the extra: pip install 'nlpipe[{extra}]'"
        ) from exc
