"""How much rebuilding a loaded object may allocate: set by ``nlpipe.load``, read where state is rebuilt.

A file's state says how large the things it describes are (a model's layer sizes, a matrix's
shape); the code that rebuilds them checks that size against this limit *before* allocating,
so a small file cannot make the process ask for terabytes.
"""

import contextlib
import contextvars

DEFAULT_MAX_LOAD_BYTES = 8 * 2**30
_LIMIT = contextvars.ContextVar("nlpipe_max_load_bytes", default=DEFAULT_MAX_LOAD_BYTES)


@contextlib.contextmanager
def load_limit(max_bytes):
    """Within the block, rebuilding loaded state may allocate at most ``max_bytes`` per object.

    Parameters
    ----------
    max_bytes : int
        The limit, in bytes (``nlpipe.load`` sets it from its ``max_size``).

    Examples
    --------
    >>> from nlpipe.base import check_load_size, load_limit
    >>> with load_limit(1000):
    ...     check_load_size(4000, "a 1000-float matrix")
    Traceback (most recent call last):
    ...
    ValueError: a 1000-float matrix needs 4,000 bytes, over the load limit of 1,000 bytes; nlpipe.load(path, max_size=...) raises it for a file you trust.
    """
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}.")
    token = _LIMIT.set(max_bytes)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def check_load_size(n_bytes, what):
    """Raise ``ValueError`` when ``n_bytes`` is over the current load limit (8 GiB outside :func:`load_limit`).

    Parameters
    ----------
    n_bytes : int
        What the state asks to allocate.
    what : str
        What it is, for the message.

    Examples
    --------
    >>> from nlpipe.base import check_load_size
    >>> check_load_size(2**20, "a 1 MiB table")  # under the default 8 GiB: silent
    >>> check_load_size(2**40, "a 1 TiB table")
    Traceback (most recent call last):
    ...
    ValueError: a 1 TiB table needs 1,099,511,627,776 bytes, over the load limit of 8,589,934,592 bytes; nlpipe.load(path, max_size=...) raises it for a file you trust.
    """
    limit = _LIMIT.get()
    if n_bytes > limit:
        raise ValueError(f"{what} needs {n_bytes:,} bytes, over the load limit of {limit:,} bytes; "
                         "nlpipe.load(path, max_size=...) raises it for a file you trust.")
