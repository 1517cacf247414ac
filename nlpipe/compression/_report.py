"""Before/after report of compressed models: size, sparsity, latency and score side by side."""

import pickle
import time

import numpy as np


def _parameters(model):
    """``(parameters, non-zero parameters)`` of a fitted nlpipe model."""
    from ._steps import _family

    if _family(model) == "linear":
        from ._linear import _CompressedLinear, linear_form

        est = model.estimator_
        if isinstance(est, _CompressedLinear):
            return est.W_.shape[0] * est.W_.shape[1] + est.intercept_.size, est.nonzero() + np.count_nonzero(est.intercept_)
        W, b, _ = linear_form(est)
        return W.size + b.size, int(np.count_nonzero(W) + np.count_nonzero(b))
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

    total = nonzero = 0
    for module in model.model_.modules():
        tensors = list(module.parameters(recurse=False))
        # A dynamic int8 layer keeps its weights outside parameters(), in a packed-params child
        # that has _weight_bias() too: count them once, at the layer.
        if isinstance(module, DynamicQuantizedLinear):
            tensors += [t for t in module._weight_bias() if t is not None]
        for t in tensors:
            values = t.int_repr() if t.is_quantized else t.detach()
            total += values.numel()
            nonzero += int((values != 0).sum())
    return total, nonzero


def _latency_ms(model, X, repeats):
    run = model.predict if hasattr(model, "predict") else model.transform
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run(X)
        best = min(best, time.perf_counter() - start)
    return 1000.0 * best / len(X) * 1000.0


def report(models, X, y=None, *, repeats=3):
    """Compare fitted models (e.g. a model and its compressed versions) on the same texts.

    Parameters
    ----------
    models : dict of str to fitted model
        Names and models; the first is the reference for the deltas.
    X : list of str
        Texts to time and score on.
    y : array-like or None, default=None
        Labels or targets for ``score``; None leaves the score out.
    repeats : int, default=3
        Timing runs per model; the fastest counts.

    Returns
    -------
    table : pandas.DataFrame
        One row per model: ``parameters``, ``nonzero``, ``pickle_bytes``,
        ``ms_per_1000`` (prediction time per 1,000 texts), ``score`` and, against the
        first model, ``size_ratio``, ``speedup`` and ``score_delta``.

    See Also
    --------
    plot_report : score against latency.

    Examples
    --------
    >>> from nlpipe import TfidfSVMClassifier
    >>> from nlpipe.compression import Pruner, Quantizer, report
    >>> X = ["a good film", "a great film", "a bad film", "an awful film", "good and great", "bad and awful"] * 2
    >>> y = ["pos", "pos", "neg", "neg", "pos", "neg"] * 2
    >>> model = TfidfSVMClassifier(min_df=1, random_state=0).fit(X, y)
    >>> models = {"full": model, "pruned": Pruner(amount=0.5).fit_transform(model),
    ...           "int8": Quantizer().fit_transform(model)}
    >>> table = report(models, X, y, repeats=1)
    >>> table[["parameters", "nonzero", "score"]]  # doctest: +NORMALIZE_WHITESPACE
            parameters  nonzero  score
    model
    full            17       17    1.0
    pruned           8        8    1.0
    int8            17       16    1.0
    >>> list(table.columns[-3:])  # against the first model; timings vary from run to run
    ['size_ratio', 'speedup', 'score_delta']
    """
    import pandas as pd

    from ..base import check_texts

    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict of name -> fitted model.")
    texts = check_texts(X)
    rows = []
    for name, model in models.items():
        params, nonzero = _parameters(model)
        rows.append({
            "model": name,
            "parameters": params,
            "nonzero": nonzero,
            "pickle_bytes": len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)),
            "ms_per_1000": _latency_ms(model, texts, repeats),
            "score": model.score(texts, y) if y is not None else np.nan,
        })
    table = pd.DataFrame(rows).set_index("model")
    first = table.iloc[0]
    table["size_ratio"] = table["pickle_bytes"] / first["pickle_bytes"]
    table["speedup"] = first["ms_per_1000"] / table["ms_per_1000"]
    table["score_delta"] = table["score"] - first["score"]
    return table


def plot_report(table, ax=None):
    """Score against latency (ms per 1,000 texts) of a :func:`report` table; needs matplotlib.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`report`.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one labelled point per model, latency on a log scale.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from nlpipe import TfidfSVMClassifier
    >>> from nlpipe.compression import Quantizer, plot_report, report
    >>> X = ["a good film", "a great film", "a bad film", "an awful film"] * 3
    >>> y = ["pos", "pos", "neg", "neg"] * 3
    >>> model = TfidfSVMClassifier(min_df=1, random_state=0).fit(X, y)
    >>> table = report({"full": model, "int8": Quantizer().fit_transform(model)}, X, y, repeats=1)
    >>> ax = plot_report(table)
    >>> ax.get_xlabel(), ax.get_ylabel(), [label.get_text() for label in ax.texts]
    ('ms per 1,000 texts', 'score', ['full', 'int8'])
    >>> plt.close(ax.figure)
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        from ..exceptions import MissingExtraError

        raise MissingExtraError("plot_report needs matplotlib: pip install 'nlpipe[plot]'") from exc
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(table["ms_per_1000"], table["score"])
    for name, row in table.iterrows():
        ax.annotate(str(name), (row["ms_per_1000"], row["score"]), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("ms per 1,000 texts")
    ax.set_ylabel("score")
    ax.set_xscale("log")
    ax.margins(x=0.25, y=0.12)  # room for the point labels, which are written right of each point
    return ax
