"""Documents in, documents out: corpus validation, document ids, and a compact, checked form of both for files."""

import numbers

import numpy as np

from ..base import check_load_size, check_texts

_CORPUS = "a list of str, or a DataFrame with a text column (and metadata columns)"


def check_documents(X, *, ids=None, text_column="text", id_column="id", name="X"):
    """Validate a corpus; return ``(texts, ids, metadata)``.

    ``X`` is a collection of str (as :func:`nlpipe.base.check_texts` takes) or a
    pandas DataFrame with ``text_column`` and, optionally, ``id_column`` and any
    metadata columns. ``ids`` wins over the id column; without either the ids
    are the positions ``0 .. n-1``.

    Returns
    -------
    texts : list of str
    ids : ndarray of int64 or object (str)
    metadata : pandas.DataFrame or None
        The other columns of a DataFrame corpus (index reset), None otherwise.
    """
    metadata = None
    frame_ids = None
    if type(X).__name__ == "DataFrame" and (type(X).__module__ or "").startswith("pandas"):
        columns = list(X.columns)
        if text_column not in columns:
            if len(columns) == 1:
                texts = check_texts(X, name=name)
            else:
                raise ValueError(f"{name} is a DataFrame with {len(columns)} columns {columns[:6]} but no "
                                 f"{text_column!r} column (text_column={text_column!r}); expected {_CORPUS}.")
        else:
            texts = check_texts(X[text_column], name=f"{name}.{text_column}")
            rest = [c for c in columns if c != text_column]
            if id_column is not None and id_column in rest:
                frame_ids = X[id_column].tolist()
                rest.remove(id_column)
            if rest:
                metadata = X[rest].reset_index(drop=True)
    else:
        texts = check_texts(X, name=name)
    if ids is not None:
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids is a single string; pass one id per document.")
        frame_ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        where = "ids"
    else:
        where = f"{name}.{id_column}"
    if frame_ids is None:
        return texts, np.arange(len(texts), dtype=np.int64), metadata
    if len(frame_ids) != len(texts):
        raise ValueError(f"{where} has {len(frame_ids)} ids for {len(texts)} documents; give one id per document.")
    return texts, check_ids(frame_ids, name=where), metadata


def check_ids(values, *, name="ids"):
    """Document ids as an int64 array (all ints) or an object array of str (all str); unique."""
    values = list(values)
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        out = np.asarray(values, dtype=np.int64)
    else:
        first = isinstance(values[0], str) if values else True
        for i, v in enumerate(values):
            if not isinstance(v, str) or not first:
                kind = "int" if isinstance(v, numbers.Integral) and not isinstance(v, bool) else type(v).__name__
                if kind == "int" and not first:
                    continue
                raise TypeError(f"{name}[{i}] is {type(v).__name__} ({v!r:.40}) but {name}[0] is "
                                f"{type(values[0]).__name__}; ids must be all int or all str.")
        out = np.empty(len(values), dtype=object)
        out[:] = values
    _check_unique(out, name)
    return out


def _check_unique(ids, name):
    uniques, counts = np.unique(ids.astype(str) if ids.dtype == object else ids, return_counts=True)
    if len(uniques) < len(ids):
        raise ValueError(f"{name} holds duplicate ids, e.g. {uniques[counts > 1][0]!r}; each document needs its own.")


def join_ids(old, new, *, name="ids"):
    """The ids of a fitted index followed by those of added documents; kinds must agree, no duplicates."""
    if (old.dtype == object) != (new.dtype == object):
        raise TypeError(f"{name} are {'str' if new.dtype == object else 'int'} but the index holds "
                        f"{'str' if old.dtype == object else 'int'} ids.")
    out = np.concatenate([old, new])
    _check_unique(out, name)
    return out


# --------------------------------------------------------------------------- #
# Compact state: strings as one UTF-8 buffer + offsets (skops stores plain arrays, never
# one node per string), checked when read back.
# --------------------------------------------------------------------------- #


def pack_strings(values):
    """``{"utf8": uint8 array, "offsets": int64 array}`` of a list of str (None allowed: ``"missing"`` mask)."""
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    encoded = [b"" if v is None else v.encode("utf-8", "surrogatepass") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    state = {"utf8": np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), "offsets": offsets}
    if missing.any():
        state["missing"] = missing
    return state


def unpack_strings(state, *, name):
    """The list of str of :func:`pack_strings`, after checking the arrays describe one."""
    if not isinstance(state, dict) or not {"utf8", "offsets"} <= set(state) or set(state) - {"utf8", "offsets",
                                                                                              "missing"}:
        raise ValueError(f"{name}: not a packed string column.")
    buf, offsets = state["utf8"], state["offsets"]
    if not (isinstance(buf, np.ndarray) and buf.dtype == np.uint8 and buf.ndim == 1):
        raise ValueError(f"{name}: the text buffer must be a 1-D uint8 array.")
    if not (isinstance(offsets, np.ndarray) and offsets.dtype == np.int64 and offsets.ndim == 1 and len(offsets)):
        raise ValueError(f"{name}: the offsets must be a non-empty 1-D int64 array.")
    if offsets[0] != 0 or offsets[-1] != len(buf) or (np.diff(offsets) < 0).any():
        raise ValueError(f"{name}: the offsets do not cut the text buffer into strings.")
    raw = buf.tobytes()
    try:
        values = [raw[a:b].decode("utf-8", "surrogatepass") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: a string is not valid UTF-8 ({exc.reason}).") from None
    missing = state.get("missing")
    if missing is not None:
        if not (isinstance(missing, np.ndarray) and missing.dtype == bool and missing.shape == (len(values),)):
            raise ValueError(f"{name}: the missing-value mask does not match the strings.")
        for i in np.flatnonzero(missing):
            values[i] = None
    return values


def pack_ids(ids):
    return {"strings": pack_strings(list(ids))} if ids.dtype == object else {"ints": ids}


def unpack_ids(state, n, *, name="ids"):
    if not isinstance(state, dict) or len(state) != 1:
        raise ValueError(f"{name}: not a packed id column.")
    if "ints" in state:
        ids = state["ints"]
        if not (isinstance(ids, np.ndarray) and ids.dtype == np.int64 and ids.shape == (n,)):
            raise ValueError(f"{name}: expected {n} int64 ids.")
    else:
        values = unpack_strings(state.get("strings"), name=name)
        if len(values) != n or any(v is None for v in values):
            raise ValueError(f"{name}: expected {n} str ids.")
        ids = np.empty(n, dtype=object)
        ids[:] = values
    _check_unique(ids, name)
    return ids


def pack_frame(frame):
    """A DataFrame's columns as ``[(name, kind, data)]``: numbers and bools as arrays, everything else as str."""
    columns = []
    for col in frame.columns:
        values = frame[col].to_numpy()
        if values.dtype.kind in "biuf" and values.dtype.itemsize <= 8:
            columns.append((str(col), "array", np.ascontiguousarray(values)))
        else:
            as_str = [None if _missing(v) else (v if isinstance(v, str) else str(v)) for v in values.tolist()]
            columns.append((str(col), "strings", pack_strings(as_str)))
    return columns


def _missing(value):
    return value is None or (isinstance(value, float) and value != value) or type(value).__name__ in ("NAType",
                                                                                                      "NaTType")


def unpack_frame(columns, n, *, name="documents"):
    import pandas as pd

    if not isinstance(columns, list):
        raise ValueError(f"{name}: expected a list of columns.")
    data = {}
    for entry in columns:
        if not (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], str) and entry[1] in ("array",
                                                                                                           "strings")):
            raise ValueError(f"{name}: a column entry is not (name, kind, data).")
        col, kind, values = entry
        if col in data:
            raise ValueError(f"{name}: column {col!r} appears twice.")
        if kind == "array":
            if not (isinstance(values, np.ndarray) and values.dtype.kind in "biuf" and values.shape == (n,)):
                raise ValueError(f"{name}: column {col!r} is not {n} numbers.")
        else:
            values = unpack_strings(values, name=f"{name}.{col}")
            if len(values) != n:
                raise ValueError(f"{name}: column {col!r} has {len(values)} values for {n} documents.")
        data[col] = values
    return pd.DataFrame(data) if data else pd.DataFrame(index=pd.RangeIndex(n))


def check_count(value, *, name, limit=None):
    """A non-negative int from a file (document counts, dimensions), optionally at most ``limit``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0 or (limit is not None
                                                                                            and value > limit):
        raise ValueError(f"{name}: {value!r} is not a valid count.")
    return int(value)


def check_array_size(nbytes, what):
    """Refuse state that would allocate more than the load limit (``nlpipe.load(max_size=)``)."""
    check_load_size(int(nbytes), what)
