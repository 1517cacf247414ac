"""Serve a fitted model over HTTP: ``nlpipe serve MODEL`` or :func:`serve`, built on FastAPI and uvicorn.

Concurrent requests are gathered into batches (:func:`make_app`); endpoints follow the model's
methods. Needs the ``serve`` extra (``fastapi``, ``uvicorn``, ``prometheus-client``).

Examples
--------
>>> from fastapi.testclient import TestClient
>>> from nlpipe import TfidfNBClassifier
>>> from nlpipe.serve import make_app
>>> clf = TfidfNBClassifier(min_df=1).fit(["free prize", "win cash", "lunch at noon", "see you"], [1, 1, 0, 0])
>>> with TestClient(make_app(clf)) as client:
...     client.get("/readyz").json(), client.post("/predict_proba", json={"texts": ["cash prize"]}).json()["classes"]
({'status': 'ready'}, [0, 1])
"""

import json
import logging
import os
from pathlib import Path

from ..base import import_optional
from ._app import file_sha256, make_app

logger = logging.getLogger(__name__)

_CONFIG_ENV = "NLPIPE_SERVE_CONFIG"


def load_model(path, *, trust_pickle=False):
    """The model in ``path``: an ``.nlpipe`` file (safe), or a pickle/joblib file with ``trust_pickle``.

    Parameters
    ----------
    path : str or path-like
        The model file.
    trust_pickle : bool, default=False
        Allow ``.joblib`` / ``.pkl`` files. Unsafe: loading a pickle runs code from the
        file, so only for files you made yourself.

    Returns
    -------
    model : estimator
    sha256 : str
        The file's hash.

    Raises
    ------
    ValueError
        A pickle without ``trust_pickle``, or a file that does not load.

    Examples
    --------
    >>> from nlpipe.serve import load_model
    >>> load_model("model.joblib")
    Traceback (most recent call last):
    ...
    ValueError: 'model.joblib' is a pickle: loading it runs code from the file. Save the model with nlpipe.save (.nlpipe) or pass --trust-pickle if you made this file yourself.
    """
    path = Path(path)
    if path.suffix != ".nlpipe" and not trust_pickle:
        raise ValueError(f"{str(path)!r} is a pickle: loading it runs code from the file. Save the model with "
                         "nlpipe.save (.nlpipe) or pass --trust-pickle if you made this file yourself.")
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.suffix == ".nlpipe":
        from .. import load  # nlpipe.load: the safe format

        model = load(path)
    else:
        import joblib

        model = joblib.load(path)
    return model, file_sha256(path)


def _app_from_environment():
    """The app of one uvicorn worker process (``--workers K``): settings from the environment."""
    config = json.loads(os.environ[_CONFIG_ENV])
    model, digest = load_model(config.pop("model"), trust_pickle=config.pop("trust_pickle"))
    return make_app(model, model_sha256=digest, **config)


def serve(model, *, host="127.0.0.1", port=8000, workers=1, trust_pickle=False, log_level="info", access_log=True,
          **limits):
    """Load the model file and serve it until interrupted (Ctrl-C / SIGTERM finish in-flight requests).

    Parameters
    ----------
    model : str or path-like
        An ``.nlpipe`` file (or a pickle with ``trust_pickle``).
    host : str, default="127.0.0.1"
        Interface to bind; the default is reachable from this machine only.
    port : int, default=8000
        Port (0: any free port).
    workers : int, default=1
        Server processes, each with its own copy of the model.
    trust_pickle : bool, default=False
        Allow pickle/joblib files (unsafe, see :func:`load_model`).
    log_level : str, default="info"
        uvicorn's log level.
    access_log : bool, default=True
        Log one line per request (uvicorn's access log); off saves work at high request rates.
    **limits : dict
        ``max_batch_size``, ``max_latency_ms``, ... of :func:`make_app`.

    Examples
    --------
    >>> from nlpipe.serve import serve
    >>> serve("missing.nlpipe")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: 'missing.nlpipe'
    """
    uvicorn = import_optional("uvicorn", extra="serve", what="nlpipe serve")
    common = {"host": host, "port": port, "log_level": log_level, "access_log": access_log,
              "timeout_graceful_shutdown": 30}
    if workers > 1:
        load_model(model, trust_pickle=trust_pickle)  # fail here, once, rather than in every worker
        os.environ[_CONFIG_ENV] = json.dumps({"model": os.fspath(model), "trust_pickle": trust_pickle, **limits})
        uvicorn.run("nlpipe.serve:_app_from_environment", factory=True, workers=workers, **common)
        return
    loaded, digest = load_model(model, trust_pickle=trust_pickle)
    uvicorn.run(make_app(loaded, model_sha256=digest, **limits), **common)


__all__ = ["load_model", "make_app", "serve"]
