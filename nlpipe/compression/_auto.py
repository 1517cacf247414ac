"""Quantizer(dtype="auto"): the fastest precision on this CPU that keeps the model's outputs, measured."""

import importlib.util
import logging
import pickle
import time

import numpy as np

from ..inference import cpu_features

logger = logging.getLogger(__name__)

# Within this share of the fastest time, the smaller pickle wins: timings on a few texts are that noisy.
_TIE = 0.05
_ROUNDS = 3


def onnx_available():
    """Whether ONNX export and runtime are installed (the ``onnx`` extra)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx", "onnxscript"))


def candidates(family, features):
    """The dtypes worth timing for a model ``family`` (``"linear"``, ``"transformer"``) on a CPU with ``features``."""
    if family == "linear":
        return ["float32", "float16", "int8"]
    out = ["float32"] + (["bfloat16"] if features["bf16"] else []) + ["int8"]
    return out + (["onnx-float32", "onnx-int8"] if onnx_available() else [])


def skipped(family, features):
    """``[(dtype, why)]`` of the candidates this CPU or environment rules out before timing."""
    if family == "linear":
        return []
    out = []
    if not features["bf16"]:
        out.append(("bfloat16", "no native bf16 on this CPU (no avx512_bf16 or amx_bf16): emulated, slower than fp32"))
    if not onnx_available():
        out.append(("onnx-int8", "the onnx extra is not installed (pip install 'nlpipe[onnx]')"))
    return out


def _outputs(model, texts):
    """What a candidate is compared on: labels of classifiers, numbers of regressors, embeddings."""
    if hasattr(model, "classes_") and hasattr(model, "predict"):
        return "labels", np.asarray(model.predict(texts), dtype=object)
    if hasattr(model, "transform"):
        return "embeddings", np.asarray(model.transform(texts), dtype=np.float64)
    return "values", np.asarray(model.predict(texts), dtype=np.float64)


def loss(kind, reference, outputs):
    """How much a candidate departs from the fp32 model on the calibration texts, in [0, 1]-ish units.

    Labels: the share of texts whose label changed (an upper bound on the accuracy lost);
    numbers: mean absolute difference over the spread of the fp32 predictions;
    embeddings: one minus the mean cosine similarity.

    Parameters
    ----------
    kind : {"labels", "values", "embeddings"}
        What the outputs are.
    reference, outputs : ndarray
        The fp32 model's outputs and the candidate's.

    Returns
    -------
    loss : float
    """
    if kind == "labels":
        if reference.ndim > 1:  # multilabel indicator rows: a text changed when any label did
            return float(np.mean(np.any(reference != outputs, axis=1)))
        return float(np.mean([a != b for a, b in zip(reference, outputs)]))
    if kind == "values":
        spread = float(np.std(reference)) or 1.0
        return float(np.mean(np.abs(reference - outputs)) / spread)
    norms = np.linalg.norm(reference, axis=1) * np.linalg.norm(outputs, axis=1)
    return float(1.0 - np.mean(np.sum(reference * outputs, axis=1) / np.maximum(norms, 1e-12)))


def measure(models, texts, labels=None):
    """``{dtype: {"seconds", "loss", "bytes"}}``: predict time on ``texts``, departure from fp32, pickle size.

    Each candidate is warmed up on all the texts (ONNX Runtime sessions, first-call allocations),
    then timed in ``_ROUNDS`` round-robin rounds, keeping its best time: a burst of load from
    elsewhere on the machine slows one round of every candidate rather than one candidate.
    With ``labels``, the loss is the score lost against fp32 (``model.score``: accuracy for
    classifiers), not the share of changed outputs.
    """
    kind, reference = _outputs(models["float32"], texts)
    base_score = models["float32"].score(texts, labels) if labels is not None else None
    out = {}
    for dtype, model in models.items():
        _, outputs = _outputs(model, texts)
        if labels is not None:
            lost = max(0.0, float(base_score - model.score(texts, labels)))
        else:
            lost = loss(kind, reference, outputs)
        out[dtype] = {"seconds": np.inf, "loss": lost, "bytes": len(pickle.dumps(model))}
    for _ in range(_ROUNDS):
        for dtype, model in models.items():
            start = time.perf_counter()
            _outputs(model, texts)
            out[dtype]["seconds"] = min(out[dtype]["seconds"], time.perf_counter() - start)
    return out


def choose(measured, tolerance):
    """The dtype to use, and the table behind it (one row per candidate, fastest first).

    Only candidates whose loss is at most ``tolerance`` are eligible (fp32 always is);
    the fastest eligible one wins, and among those within 5% of its time the smallest.

    Parameters
    ----------
    measured : dict
        ``measure``'s result.
    tolerance : float
        The largest loss allowed.

    Returns
    -------
    dtype : str
    rows : list of dict
        ``dtype``, ``seconds``, ``speedup`` (over fp32), ``loss``, ``bytes``, ``eligible``.
    """
    base = measured["float32"]["seconds"]
    rows = [{"dtype": dtype, **m, "speedup": base / m["seconds"] if m["seconds"] > 0 else np.inf,
             "eligible": dtype == "float32" or m["loss"] <= tolerance} for dtype, m in measured.items()]
    rows.sort(key=lambda r: r["seconds"])
    eligible = [r for r in rows if r["eligible"]]
    fastest = eligible[0]["seconds"]
    close = [r for r in eligible if r["seconds"] <= fastest * (1 + _TIE)]
    return min(close, key=lambda r: (r["bytes"], r["seconds"]))["dtype"], rows


def describe(dtype, rows, tolerance, n_texts, labelled=False):
    """The reason recorded on the step: what won, by how much, on which CPU."""
    features = cpu_features()
    row = next(r for r in rows if r["dtype"] == dtype)
    cpu = (f"{features['model']}; int8 kernels: {features['int8']}; native bf16: {'yes' if features['bf16'] else 'no'}")
    refused = [r["dtype"] for r in rows if not r["eligible"]]
    what = "score lost" if labelled else "outputs changed"
    text = (f"{dtype}: {row['speedup']:.2f}x as fast as fp32 on {n_texts} calibration texts, {what} "
            f"{row['loss']:.4f} (tolerance {tolerance}), {row['bytes'] / 1e6:.1f} MB; CPU: {cpu}.")
    if refused:
        text += f" Over the tolerance: {', '.join(refused)}."
    return text
