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
hash (truncated, edited), or that would rebuild a type outside nlpipe and skops' own allow-list.
"""

import hashlib
import json
import os
import platform
import warnings
import zipfile

from ._version import __version__

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


def _read(path):
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            members = {n: zf.read(n) for n in (_MANIFEST, _PAYLOAD) if n in names}
    except Exception as exc:  # noqa: BLE001 - any failure to read untrusted bytes means a bad file
        # zipfile raises BadZipFile, EOFError, OSError, NotImplementedError, zlib.error, RuntimeError...
        # depending on which header the damage hit (found by benchmarks/fuzz.py).
        raise _refuse(path, f"not an nlpipe file, or a damaged one ({type(exc).__name__}: {exc}).") from None
    if len(members) != 2:
        raise _refuse(path, f"not an nlpipe file (the archive has no {_MANIFEST} and {_PAYLOAD}).")
    manifest_bytes, payload = members[_MANIFEST], members[_PAYLOAD]
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"its manifest is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(path, "not an nlpipe file (unknown manifest format).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(path, f"written in format version {manifest.get('format_version')!r}; this nlpipe "
                            f"{__version__} reads version {FORMAT_VERSION}.")
    if hashlib.sha256(payload).hexdigest() != manifest.get("payload_sha256"):
        raise _refuse(path, "the estimator data does not match the manifest's checksum: the file was "
                            "modified or damaged after it was saved.")
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


def _allowed(type_name):
    return type_name.startswith("nlpipe.") and not type_name.startswith("nlpipe._persist")


def load(path, *, trusted=None):
    """Load an estimator written by :func:`save`, without running code from the file.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    trusted : list of str or None, default=None
        Extra fully qualified type names the file may rebuild, beyond nlpipe's own
        classes and the scikit-learn, numpy and scipy types skops trusts (for
        pipelines with third-party steps). Review them before trusting.

    Returns
    -------
    estimator : estimator
        The saved estimator, fitted if it was; neural models on the CPU, or on
        their saved device when it is available here.

    Raises
    ------
    ValueError
        If the file is not an nlpipe file, is truncated or was modified, or holds a
        type that is not trusted.

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
    sio = _skops()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    manifest, payload = _read(path)
    _check_versions(path, manifest.get("versions", {}))
    extra = set(trusted or ())
    try:
        untrusted = sio.get_untrusted_types(data=payload)
    except Exception as exc:  # skops raises several types on a malformed schema
        raise _refuse(path, f"its estimator data is malformed ({type(exc).__name__}: {exc}).") from None
    foreign = sorted(t for t in untrusted if not _allowed(t) and t not in extra)
    if foreign:
        raise _refuse(path, f"it would rebuild types outside nlpipe and scikit-learn: {foreign}. If you know "
                            "where the file comes from, pass them as load(path, trusted=[...]).")
    try:
        return sio.loads(payload, trusted=list(untrusted))
    except Exception as exc:
        raise _refuse(path, f"its estimator data could not be rebuilt ({type(exc).__name__}: {exc}).") from exc


__all__ = ["load", "save"]
