"""The HTTP app: endpoints derived from the estimator, limits, errors as JSON, health and metrics."""

import contextlib
import hashlib
import json
import logging
import time

import numpy as np

from .._version import __version__
from ..base import import_optional
from ._batching import MicroBatcher, QueueFull
from ._page import PAGE

logger = logging.getLogger(__name__)

# Methods served when the estimator has them; the JSON key of their outputs.
METHODS = {
    "predict": "predictions",
    "predict_proba": "probabilities",
    "decision_function": "scores",
    "transform": "embeddings",
    "predict_spans": "spans",
    "predict_sources": "answers",  # RetrievalQA: answers with their passage, offsets and scores
}


class RequestError(Exception):
    """A request the server refuses: its status code and a message naming the problem."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _is_qa(estimator):
    return getattr(estimator, "_nlpipe_task", None) == "question-answering"


def _jsonable(value):
    """Model outputs as JSON: labels in their own type (str, int, float, bool), arrays as lists."""
    if hasattr(value, "to_dict"):  # a DataFrame (predict_spans)
        return [{k: _jsonable(v) for k, v in row.items()} for row in value.to_dict("records")]
    if hasattr(value, "toarray"):  # a sparse matrix
        value = value.toarray()
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value] if value.dtype == object else value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _jsonable_params(estimator):
    out = {}
    for key, value in estimator.get_params(deep=False).items():
        value = _jsonable(value)
        out[key] = value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else repr(value)
    return out


def _check_items(body, qa, *, max_texts, max_text_chars):
    """The request's texts (or question/context dicts), or a RequestError naming what is wrong."""
    key = "pairs" if qa else "texts"
    if not isinstance(body, dict) or key not in body:
        example = '{"pairs": [{"question": "...", "context": "..."}]}' if qa else '{"texts": ["..."]}'
        raise RequestError(422, f"the body must be a JSON object with a {key!r} list, like {example}")
    items = body[key]
    if not isinstance(items, list):
        raise RequestError(422, f"{key!r} must be a list, got {type(items).__name__}")
    if not items:
        raise RequestError(422, f"{key!r} is empty; send at least one")
    if len(items) > max_texts:
        raise RequestError(413, f"{len(items)} {key} in one request; at most {max_texts}")
    checked = []
    for i, item in enumerate(items):
        if qa:
            if not isinstance(item, dict) or not {"question", "context"} <= set(item):
                raise RequestError(422, f"{key}[{i}] must be an object with 'question' and 'context'")
            item = {"question": item["question"], "context": item["context"]}
            fields = item.values()
        else:
            fields = [item]
        for field in fields:
            if not isinstance(field, str):
                raise RequestError(422, f"{key}[{i}] holds a {type(field).__name__}; expected a string")
            if len(field) > max_text_chars:
                raise RequestError(413, f"{key}[{i}] has {len(field):,} characters; at most {max_text_chars:,}")
        checked.append(item)
    return checked


def make_app(estimator, *, max_batch_size=32, max_latency_ms=10.0, max_queue=4096, max_batch_chars=100_000,
             max_texts=256, max_text_chars=20_000, model_sha256=None, warm_up=True):
    """A FastAPI app that serves ``estimator`` with adaptive micro-batching.

    Endpoints: ``POST /<method>`` for each of ``predict``, ``predict_proba``,
    ``decision_function``, ``transform``, ``predict_spans`` and ``predict_sources`` that the estimator has
    (body ``{"texts": [...]}``; question answering ``{"pairs": [{"question", "context"}]}``);
    ``GET /healthz`` and ``/livez`` (the process is up), ``/readyz`` (model loaded and
    warmed), ``/metadata``, ``/metrics`` (Prometheus), ``/docs`` (OpenAPI) and ``/`` (a
    page to try the model). Bodies must be JSON (415 otherwise) and are read up to what
    ``max_texts`` texts of ``max_text_chars`` characters need (413 beyond, before parsing).
    Bad requests get a 4xx JSON ``{"error": ...}``; a full queue a 503 with ``Retry-After``.

    Parameters
    ----------
    estimator : fitted estimator
        Any fitted nlpipe estimator or scikit-learn Pipeline of text steps.
    max_batch_size : int, default=32
        Most texts per model call.
    max_latency_ms : float, default=10.0
        Longest a request waits for its batch to fill.
    max_queue : int, default=4096
        Most texts waiting; beyond, 503.
    max_batch_chars : int, default=100000
        Most characters per model call.
    max_texts : int, default=256
        Most texts per request (413 beyond).
    max_text_chars : int, default=20000
        Most characters per text (413 beyond).
    model_sha256 : str or None, default=None
        The model file's hash, for ``/metadata``.
    warm_up : bool, default=True
        Run one prediction before ``/readyz`` says ready.

    Returns
    -------
    app : fastapi.FastAPI

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> from nlpipe import TfidfSVMClassifier
    >>> from nlpipe.serve import make_app
    >>> clf = TfidfSVMClassifier(min_df=1).fit(["good", "great", "bad", "awful"], ["pos", "pos", "neg", "neg"])
    >>> with TestClient(make_app(clf)) as client:
    ...     client.post("/predict", json={"texts": ["great", "awful"]}).json()
    {'predictions': ['pos', 'neg']}
    """
    fastapi = import_optional("fastapi", extra="serve", what="nlpipe serve")
    prometheus = import_optional("prometheus_client", extra="serve", what="nlpipe serve")
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    qa = _is_qa(estimator)
    # Enough for max_texts texts of max_text_chars characters (4 bytes each in UTF-8, or 6 as JSON escapes).
    max_body = max_texts * (6 * max_text_chars + 64) + 1024
    methods = [m for m in METHODS if hasattr(estimator, m)]
    if not methods:
        raise TypeError(f"{type(estimator).__name__} has none of {sorted(METHODS)}: nothing to serve.")
    registry = prometheus.CollectorRegistry()
    requests_total = prometheus.Counter("nlpipe_requests_total", "Requests answered", ["endpoint", "status"],
                                        registry=registry)
    latency = prometheus.Histogram("nlpipe_request_seconds", "Request latency", ["endpoint"], registry=registry,
                                   buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
    batch_sizes = prometheus.Histogram("nlpipe_batch_size", "Texts per model call", registry=registry,
                                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
    batch_seconds = prometheus.Histogram("nlpipe_batch_seconds", "Model call time", registry=registry)
    queue_depth = prometheus.Gauge("nlpipe_queue_depth", "Texts waiting for a batch", registry=registry)

    def on_batch(n, seconds):
        batch_sizes.observe(n)
        batch_seconds.observe(seconds)

    def call(method, items):
        return getattr(estimator, method)(items)

    batcher = MicroBatcher(call, max_batch_size=max_batch_size, max_latency_ms=max_latency_ms, max_queue=max_queue,
                           max_batch_chars=max_batch_chars, on_batch=on_batch)
    queue_depth.set_function(lambda: batcher.pending)
    state = {"ready": False}
    limits = {"max_batch_size": max_batch_size, "max_latency_ms": max_latency_ms, "max_queue": max_queue,
              "max_batch_chars": max_batch_chars, "max_texts": max_texts, "max_text_chars": max_text_chars}
    cls = type(estimator)
    metadata = {
        "estimator": f"{cls.__module__}.{cls.__qualname__}",
        "params": _jsonable_params(estimator),
        "classes": _jsonable(getattr(estimator, "classes_", None)),
        "methods": methods,
        "input": "pairs" if qa else "texts",
        "nlpipe_version": __version__,
        "model_sha256": model_sha256,
        "limits": limits,
    }

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        if warm_up:
            sample = [{"question": "What?", "context": "Warm-up."}] if qa else ["warm-up"]
            try:
                await batcher.submit(methods[0], sample)
            except Exception:  # noqa: BLE001 - a model that fails on a warm-up text still serves others
                logger.exception("the warm-up prediction failed")
        state["ready"] = True
        yield
        state["ready"] = False
        await batcher.close()  # every queued request is answered before the process ends

    app = fastapi.FastAPI(title=f"nlpipe: {cls.__name__}", version=__version__, lifespan=lifespan,
                          description="Endpoints derived from the served estimator; see /metadata.")

    def error(status, message, endpoint, headers=None):
        requests_total.labels(endpoint, str(status)).inc()
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def add_endpoint(method):
        key = METHODS[method]
        path = f"/{method}"

        async def endpoint(request: fastapi.Request):
            start = time.perf_counter()
            # JSON only: a plain-text or form POST from another site's page would skip the browser's CORS
            # preflight and spend this server's CPU.
            if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                return error(415, "send the body as JSON (Content-Type: application/json)", path)
            raw = bytearray()
            async for chunk in request.stream():  # read at most max_body bytes, whatever Content-Length says
                raw += chunk
                if len(raw) > max_body:
                    return error(413, f"the body is larger than {max_body:,} bytes", path)
            try:
                body = json.loads(raw)
            except Exception as exc:  # noqa: BLE001 - any undecodable body is the client's
                return error(400, f"the body is not valid JSON ({type(exc).__name__})", path)
            try:
                items = _check_items(body, qa, max_texts=max_texts, max_text_chars=max_text_chars)
                outputs = await batcher.submit(method, items)
            except RequestError as exc:
                return error(exc.status, str(exc), path)
            except QueueFull as exc:
                return error(503, f"the server is busy: {exc}; retry later", path, headers={"Retry-After": "1"})
            except (ValueError, TypeError) as exc:  # the estimator's own check of these inputs
                return error(422, str(exc), path)
            except Exception:  # noqa: BLE001 - logged here; the client gets no traceback
                logger.exception("%s failed", method)
                return error(500, f"the model failed on this request ({method}); see the server log", path)
            answer = {key: _jsonable(outputs)}
            if method == "predict_proba" and metadata["classes"] is not None:
                answer["classes"] = metadata["classes"]
            requests_total.labels(path, "200").inc()
            latency.labels(path).observe(time.perf_counter() - start)
            return answer

        endpoint.__name__ = method
        example = {"pairs": [{"question": "Who?", "context": "Ann wrote it."}]} if qa else {"texts": ["a text"]}
        app.post(path, summary=f"{method} of the served {cls.__name__}",
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object"}, "example": example}}}})(endpoint)

    for method in methods:
        add_endpoint(method)

    @app.get("/healthz")
    @app.get("/livez")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        if not state["ready"]:
            return JSONResponse({"status": "loading"}, status_code=503)
        return {"status": "ready"}

    @app.get("/metadata")
    async def get_metadata():
        return metadata

    @app.get("/metrics")
    async def metrics():
        return Response(prometheus.generate_latest(registry), media_type=prometheus.CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse)
    async def page():
        return PAGE

    @app.exception_handler(404)
    async def not_found(request, exc):
        return JSONResponse({"error": f"no endpoint {request.url.path}; see /docs"}, status_code=404)

    @app.exception_handler(405)
    async def wrong_method(request, exc):
        return JSONResponse({"error": f"{request.method} is not allowed on {request.url.path}"}, status_code=405)

    app.state.batcher = batcher
    app.state.metadata = metadata
    return app


def file_sha256(path):
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
