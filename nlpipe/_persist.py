"""Safe persistence: ``nlpipe.save`` / ``nlpipe.load``, a format that never runs code on load.

A saved model is a zip archive with two members:

* ``manifest.json`` — format name and version, the estimator's class and parameters (JSON), the
  versions of nlpipe, Python, scikit-learn, numpy, skops, torch, transformers, onnxruntime and
  tokenizers that wrote it, and the SHA-256 of the payload;
* ``estimator.skops`` — the fitted estimator in skops' format: scikit-learn parts as a JSON schema
  with numpy arrays stored by ``np.save`` (no pickle), and only allow-listed types are rebuilt.
  Neural models are there as the bytes of their ``safetensors`` weights, config and tokenizer
  files (what their pickles hold), rebuilt on the CPU like an unpickled model.

``load`` refuses files that are not such archives, whose payload does not match the manifest's
hash (truncated, edited), that declare more decompressed bytes than ``max_size``, that would call
any function, method, partial or operator, or that would rebuild a class outside the allow-list
(nlpipe's estimators and data classes, the types skops trusts by default, ``trusted``). These checks
read the payload's schema before skops builds anything; the state given to allow-listed classes is
checked again where it is rebuilt (sizes against ``max_size``, files only in private temp folders).
"""

import functools
import hashlib
import json
import os
import platform
import warnings
import zipfile

from ._version import __version__
from .base import DEFAULT_MAX_LOAD_BYTES

FORMAT = "nlpipe-safe"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_PAYLOAD = "estimator.skops"
# Library versions recorded on save and compared on load (the estimator may depend on any of them).
_LIBRARIES = ("nlpipe", "scikit-learn", "numpy", "scipy", "skops", "torch", "transformers", "onnxruntime", "tokenizers")


def _skops():
    try:
        import skops.io as sio
    except ImportError as exc:  # pragma: no cover - skops is a core dependency
        from .exceptions import MissingExtraError

        raise MissingExtraError("nlpipe.save/load need skops: pip install skops") from exc
    return sio


def _versions():
    """Installed versions of the libraries a saved estimator may depend on (None when absent or not loaded)."""
    from importlib import metadata

    out = {"python": platform.python_version(), "nlpipe": __version__}
    for name in _LIBRARIES[1:]:
        try:
            out[name] = metadata.version(name)  # read from the installed metadata: nothing is imported
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _jsonable_params(est):
    """The estimator's parameters as JSON (``repr`` for values JSON cannot hold: they are informative only)."""
    out = {}
    for key, value in est.get_params(deep=False).items():
        try:
            json.dumps(value)
            out[key] = value
        except TypeError:
            out[key] = {"repr": repr(value)}
    return out


def save(estimator, path):
    """Save a fitted (or unfitted) estimator in nlpipe's safe format.

    The file is a zip archive: ``manifest.json`` (class, parameters, library
    versions, payload hash) and the estimator in skops' format (scikit-learn parts
    as JSON and ``.npy`` arrays, neural weights as safetensors bytes). Loading it
    never runs code from the file.

    Parameters
    ----------
    estimator : estimator
        Any nlpipe estimator, or a scikit-learn estimator or Pipeline built from
        nlpipe and scikit-learn parts.
    path : str or path-like
        File to write (conventionally ending in ``.nlpipe``); replaced if it exists.

    Returns
    -------
    path : str
        The path written.

    See Also
    --------
    load : read it back.

    Examples
    --------
    >>> import os, tempfile
    >>> import nlpipe
    >>> from nlpipe.testing import make_text_classification
    >>> X, y = make_text_classification(2)
    >>> clf = nlpipe.TfidfNBClassifier().fit(X, y)
    >>> path = nlpipe.save(clf, os.path.join(tempfile.mkdtemp(), "spam.nlpipe"))
    >>> (nlpipe.load(path).predict(X) == clf.predict(X)).all()
    np.True_
    """
    from sklearn.base import BaseEstimator

    if not isinstance(estimator, BaseEstimator):
        raise TypeError(f"save expects a scikit-learn or nlpipe estimator, got {type(estimator).__name__}.")
    sio = _skops()
    payload = sio.dumps(estimator)
    cls = type(estimator)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": f"{cls.__module__}.{cls.__qualname__}",
        "params": _jsonable_params(estimator),
        "versions": _versions(),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    # Written beside the target and renamed: an interrupted save never leaves a half-written file.
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
            zf.writestr(_PAYLOAD, payload)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _refuse(path, why):
    return ValueError(f"Cannot load {str(path)!r}: {why}")


def _declared_size_error(zf, max_size, where):
    """Why an archive whose members declare more than ``max_size`` bytes is refused, or None (nothing inflated yet).

    ``zipfile`` never returns more than a member's declared size (it stops there and checks the
    CRC), so the declared sizes bound what reading the members can allocate.
    """
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if total > max_size:
            return (f"{where} declares {total:,} bytes or more once decompressed (member {info.filename!r}), over "
                    f"max_size={max_size:,}: a decompression bomb, or a larger model than expected. For a file you "
                    "trust, pass load(path, max_size=...).")
    return None


def _read(path, max_size):
    try:
        with zipfile.ZipFile(path) as zf:
            too_big = _declared_size_error(zf, max_size, "the archive")
            names = set(zf.namelist())
            members = {} if too_big else {n: zf.read(n) for n in (_MANIFEST, _PAYLOAD) if n in names}
    except Exception as exc:  # noqa: BLE001 - any failure to read untrusted bytes means a bad file
        # zipfile raises BadZipFile, EOFError, OSError, NotImplementedError, zlib.error, RuntimeError...
        # depending on which header the damage hit (found by benchmarks/fuzz.py).
        raise _refuse(path, f"not an nlpipe file, or a damaged one ({type(exc).__name__}: {exc}).") from None
    if too_big:
        raise _refuse(path, too_big)
    if len(members) != 2:
        raise _refuse(path, f"not an nlpipe file (the archive has no {_MANIFEST} and {_PAYLOAD}).")
    manifest_bytes, payload = members[_MANIFEST], members[_PAYLOAD]
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _refuse(path, f"its manifest is not valid JSON ({type(exc).__name__}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(path, "not an nlpipe file (unknown manifest format).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(path, f"written in format version {manifest.get('format_version')!r}; this nlpipe "
                            f"{__version__} reads version {FORMAT_VERSION}.")
    if hashlib.sha256(payload).hexdigest() != manifest.get("payload_sha256"):
        raise _refuse(path, "the estimator data does not match the manifest's checksum: the file was "
                            "modified or damaged after it was saved.")
    if not isinstance(manifest.get("versions", {}), dict):
        raise _refuse(path, "its manifest's versions are not a mapping.")
    return manifest, payload


def _check_versions(path, saved):
    here = _versions()
    if saved.get("nlpipe") != __version__:
        from .exceptions import InconsistentVersionWarning

        warnings.warn(InconsistentVersionWarning(estimator_name=str(path), current_version=__version__,
                                                 original_version=saved.get("nlpipe")), stacklevel=3)
    changed = [f"{name} {saved[name]} -> {here.get(name)}" for name in _LIBRARIES[1:]
               if saved.get(name) and here.get(name) and saved[name] != here[name]]
    if changed:
        warnings.warn(f"{str(path)!r} was saved with other library versions ({'; '.join(changed)}); "
                      "predictions may differ. Re-fit or re-save with the versions installed here.",
                      UserWarning, stacklevel=3)


# ------------------------------------------------------------------ what a file may rebuild
# skops rebuilds a file's objects node by node; each node names a loader and a type. These loaders
# rebuild a container and call its type with no arguments: the type must be that container.
_CONTAINERS = {
    "DictNode": {("builtins", "dict"), ("collections", "OrderedDict")},
    "ListNode": {("builtins", "list")},
    "SetNode": {("builtins", "set")},
    "TupleNode": {("builtins", "tuple")},
    "BytesNode": {("builtins", "bytes")},
    "BytearrayNode": {("builtins", "bytearray")},
    "SliceNode": {("builtins", "slice")},
    "DefaultDictNode": {("collections", "defaultdict")},
}
# These never look their type up (JSON values; references to a node read before).
_INERT = {"JsonNode", "CachedNode"}
# These rebuild an instance of (or return) the type they name: a class that nlpipe allow-lists, that
# the caller trusts, or that skops trusts for that loader by default (scikit-learn's estimators, numpy's
# and scipy's array types).
_CLASSES = {"ObjectNode", "ConstructorFromReduceNode", "TypeNode", "NdArrayNode", "DTypeNode", "MaskedArrayNode",
            "RandomStateNode", "RandomGeneratorNode", "SparseMatrixNode", "TreeNode", "LossNode"}
# These would call a function, method, partial or operator named by the file: never.
_CALLS = {"FunctionNode", "MethodNode", "PartialNode", "OperatorFuncNode"}
# nlpipe's own classes that estimators hold as state (beside the estimators themselves).
_DATA_CLASSES = ("nlpipe.inference.OnnxModel", "nlpipe.sentiment.NegationMarker",
                 "nlpipe.sentiment.SocialTextNormalizer")


@functools.lru_cache(maxsize=1)
def _allowed_classes():
    """``{(module, qualname)}`` of nlpipe's estimators (as the contract suite finds them) and data classes."""
    import importlib

    from sklearn.base import BaseEstimator

    import nlpipe

    found = set()
    for package in (nlpipe, importlib.import_module("nlpipe.compression")):
        for name in package.__all__:
            obj = getattr(package, name)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator):
                found.add((obj.__module__, obj.__qualname__))
    for dotted in _DATA_CLASSES:
        module, _, name = dotted.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        found.add((cls.__module__, cls.__qualname__))
    return frozenset(found)


def _resolve_trusted(trusted):
    """``trusted=`` as ``{(module, qualname)}``: class names only, each resolved to the class it names."""
    import importlib

    if trusted is None:
        return set()
    if isinstance(trusted, str) or not all(isinstance(t, str) for t in trusted):
        raise TypeError(f"trusted must be a list of fully qualified class names, got {trusted!r}.")
    out = set()
    for dotted in trusted:
        parts = dotted.split(".")
        obj = None
        for cut in range(len(parts) - 1, 0, -1):  # the longest importable module prefix
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                obj = None
            break
        if obj is None:
            raise ValueError(f"trusted names a class that cannot be found here: {dotted!r}.")
        if not isinstance(obj, type):
            raise ValueError(f"trusted takes class names only; {dotted!r} is a {type(obj).__name__}. A file "
                             "may never make nlpipe.load call a function.")
        out.add((".".join(parts[:cut]), ".".join(parts[cut:])))
        out.add((obj.__module__, obj.__qualname__))
    return out


def _nodes(schema):
    """Every node (a dict with a string ``__loader__``) in a skops schema, depth-first, without recursion."""
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("__loader__"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_npy(path, zf, name, max_size):
    """An ``.npy`` member's header must describe no more data than the member holds, and no objects."""
    import numpy as np

    try:
        info = zf.getinfo(name)
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(f, max_header_size=10_000)
    except Exception as exc:  # noqa: BLE001 - a bad header is a bad file
        raise _refuse(path, f"array {name!r} has no valid .npy header ({type(exc).__name__}: {exc}).") from None
    if dtype.hasobject:
        raise _refuse(path, f"array {name!r} holds Python objects, which only pickle can rebuild.")
    n_bytes = dtype.itemsize
    for dim in shape:
        n_bytes *= dim
    if n_bytes > max(info.file_size, 0) or n_bytes > max_size:
        raise _refuse(path, f"array {name!r} declares shape {shape} of {dtype} ({n_bytes:,} bytes), more than "
                            f"its {info.file_size:,} bytes of data.")


def _audit(path, payload, max_size, trusted):
    """Refuse, before skops builds anything, a payload that would call code or rebuild an untrusted class."""
    import io

    allowed = _allowed_classes() | trusted
    try:
        zf = zipfile.ZipFile(io.BytesIO(payload))
        too_big = _declared_size_error(zf, max_size, "the estimator data")
        schema = None if too_big else json.loads(zf.read("schema.json"))
    except Exception as exc:  # noqa: BLE001 - BadZipFile, KeyError, ValueError, RecursionError...: all a bad file
        raise _refuse(path, f"its estimator data is malformed ({type(exc).__name__}: {exc}).") from None
    if too_big:
        zf.close()
        raise _refuse(path, too_big)
    needed = set()
    with zf:
        for node in _nodes(schema):
            loader = node["__loader__"]
            module, cls = node.get("__module__"), node.get("__class__")
            if loader in _INERT:
                continue
            if not isinstance(module, str) or not isinstance(cls, str):
                raise _refuse(path, f"a {loader} names no type.")
            if loader in _CALLS:
                raise _refuse(path, f"it would call {module}.{cls} ({loader}); nlpipe.load never calls a function, "
                                    "method, partial or operator named by a file.")
            if loader in _CONTAINERS:
                if (module, cls) not in _CONTAINERS[loader]:
                    raise _refuse(path, f"a {loader} would be built by calling {module}.{cls}.")
            elif loader in _CLASSES:
                if (module, cls) in allowed:
                    needed.add(f"{module}.{cls}")
                if loader == "NdArrayNode" and node.get("type") == "numpy":
                    _check_npy(path, zf, node.get("file"), max_size)
            else:
                raise _refuse(path, f"it uses skops loader {loader!r}, which nlpipe does not rebuild.")
    sio = _skops()
    try:
        untrusted = set(sio.get_untrusted_types(data=payload))
    except Exception as exc:  # skops raises several types on a malformed schema
        raise _refuse(path, f"its estimator data is malformed ({type(exc).__name__}: {exc}).") from None
    foreign = sorted(untrusted - needed)
    if foreign:
        raise _refuse(path, f"it would rebuild types outside nlpipe and scikit-learn: {foreign}. If you know "
                            "where the file comes from and these are classes, pass load(path, trusted=[...]).")
    return sorted(untrusted)


def load(path, *, trusted=None, max_size=DEFAULT_MAX_LOAD_BYTES):
    """Load an estimator written by :func:`save`, without running code from the file.

    What the file may rebuild is checked before anything is built: only classes on
    an allow-list (nlpipe's estimators and the data classes they hold, the
    scikit-learn, numpy and scipy types skops trusts by default, and ``trusted``),
    never a function, method, partial or operator the file names; arrays no larger
    than the bytes that hold them; archives whose members declare no more than
    ``max_size`` bytes in all.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    trusted : list of str or None, default=None
        Extra fully qualified *class* names the file may rebuild (for pipelines
        with third-party steps). Trusting a class lets the file create instances of
        it with state of its choosing, so trust only classes whose state cannot
        make them run code or touch files; a name that is not a class is refused.
    max_size : int, default=8589934592
        The most bytes (8 GiB by default) the archive's members may declare once
        decompressed, and the most that rebuilding one model may allocate. Raise it
        for a larger model you trust.

    Returns
    -------
    estimator : estimator
        The saved estimator, fitted if it was; neural models on the CPU, or on
        their saved device when it is available here.

    Raises
    ------
    ValueError
        If the file is not an nlpipe file, is truncated or was modified, holds a
        type that is not trusted or a call of any function, or declares more data
        than ``max_size``.

    See Also
    --------
    save : write a file.

    Examples
    --------
    >>> import nlpipe
    >>> nlpipe.load("no-such-file.nlpipe")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: 'no-such-file.nlpipe'
    """
    from .base import load_limit

    if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1:
        raise ValueError(f"max_size must be a positive number of bytes, got {max_size!r}.")
    trusted = _resolve_trusted(trusted)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    manifest, payload = _read(path, max_size)
    _check_versions(path, manifest.get("versions", {}))
    names = _audit(path, payload, max_size, trusted)
    sio = _skops()
    try:
        with load_limit(max_size):
            return sio.loads(payload, trusted=names)
    except Exception as exc:
        raise _refuse(path, f"its estimator data could not be rebuilt ({type(exc).__name__}: {exc}).") from exc


def read_model(path, *, trust_pickle=False, max_size=DEFAULT_MAX_LOAD_BYTES):
    """The estimator in a model file: ``.nlpipe`` through :func:`load`; a pickle only with ``trust_pickle``.

    What the command line and the server load a ``--model`` with.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.suffix != ".nlpipe" and not trust_pickle:
        raise ValueError(f"{str(path)!r} is not an .nlpipe file, so it would be loaded as a pickle, which runs "
                         "code from the file. Save the model with nlpipe.save / 'nlpipe fit --out model.nlpipe', "
                         "or pass --trust-pickle if you made this file yourself.")
    if path.suffix == ".nlpipe":
        return load(path, max_size=max_size)
    import joblib

    return joblib.load(path)


__all__ = ["load", "save"]
