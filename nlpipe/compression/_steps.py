"""Compression steps: take a fitted nlpipe model, return a smaller fitted copy with the same API."""

import copy
import logging
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from sklearn.utils.validation import check_is_fitted

from ..base import Interval, Options, check_texts, fit_context, parameter_docs, store_params, validate_params
from ..inference import OnnxModel
from . import _auto
from ._linear import _CompressedLinear, linear_form, magnitude_prune, shrink_vocabulary

logger = logging.getLogger(__name__)


def _family(model):
    """``"linear"`` (TF-IDF baselines) or ``"transformer"``; TypeError/NotFittedError otherwise."""
    from ..finetune import TransformerEstimator
    from ..text import TfidfNBClassifier, TfidfSVMClassifier

    if isinstance(model, (TfidfSVMClassifier, TfidfNBClassifier)):
        if not hasattr(model, "estimator_"):
            raise NotFittedError(f"This {type(model).__name__} is not fitted: fit it before compressing it.")
        return "linear"
    if isinstance(model, TransformerEstimator):
        if "model_" not in vars(model):
            raise NotFittedError(f"This {type(model).__name__} is not fitted: fit it before compressing it.")
        if isinstance(model.model_, OnnxModel):
            raise ValueError(f"This {type(model).__name__} runs in ONNX Runtime (OnnxExporter): compress the torch "
                             "model before exporting it, or export with OnnxExporter(quantize='dynamic').")
        return "transformer"
    raise TypeError(
        f"Cannot compress a {type(model).__name__}: compression steps take a fitted TfidfSVMClassifier, "
        "TfidfNBClassifier, TransformerClassifier, TransformerRegressor or TransformerEmbedder."
    )


class _CompressionStep(TransformerMixin, BaseEstimator):
    """A stateless step: ``transform(model)`` returns a compressed deep copy; ``fit`` only validates."""

    _parameter_constraints: dict = {}

    @fit_context
    @parameter_docs
    def fit(self, X, y=None):
        """Check the parameters and that ``X`` is a fitted model this step can compress.

        Parameters
        ----------
        X : fitted nlpipe model
            The model to compress.
        """
        _family(X)
        return self

    def transform(self, X):
        """Return a compressed copy of the fitted model ``X`` (``X`` itself is left unchanged).

        Parameters
        ----------
        X : fitted nlpipe model
            The model to compress.

        Returns
        -------
        model : fitted model of the same class
            With ``compression_``, the list of steps applied so far.
        """
        validate_params(self)
        model = self._compressed(X, _family(X))
        model.compression_ = [*getattr(X, "compression_", []), self._record()]
        return model

    def _compressed(self, X, family):
        """A compressed deep copy of ``X``, by the step's ``_linear`` or ``_transformer``."""
        model = copy.deepcopy(X)
        getattr(self, f"_{family}")(model)
        if vars(model).get("lora_adapter_") is not None:
            # The adapter no longer describes the compressed weights: the copy stores them in full.
            model.lora_adapter_ = None
        return model

    def _record(self):
        """The ``compression_`` entry of this step."""
        return {"step": type(self).__name__, **self.get_params()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        return tags


class Quantizer(_CompressionStep):
    """Store a fitted model's weights in fewer bits, or let the CPU at hand choose how.

    Transformer models: ``"int8"`` replaces every linear layer by a dynamic int8
    one (int8 weights with one scale per output row, activations quantized per
    batch; torch's x86 kernels, so the model moves to the CPU); ``"float16"`` /
    ``"bfloat16"`` cast all weights. TF-IDF baselines: the linear model's
    coefficients become int8 with one scale per class (``"int8"``) or float16.
    The quantized model pickles and reloads quantized (int8 tensors and their
    scales are stored, not float weights), keeps ``predict``/``predict_proba``/
    ``score`` and works inside ``cross_val_score`` only as a fitted model (it
    has nothing to learn: refitting a clone starts from the original class).

    ``"auto"`` chooses by measuring: ``fit(model, texts)`` applies each candidate
    this CPU can run well (fp32 as fitted; bf16 only with native bf16,
    ``avx512_bf16`` or ``amx_bf16``; torch int8; with the ``onnx`` extra, ONNX
    Runtime fp32 and dynamic int8, with 7-bit weights on CPUs without VNNI), times
    its predictions on the texts, and keeps the fastest one that loses at most
    ``tolerance`` against fp32: with ``fit(model, texts, labels=...)`` the score
    lost (accuracy for classifiers); without labels, the share of texts whose
    output changed, which bounds the accuracy lost from above. The choice, the reason and the
    timings are kept on the step; ``transform`` applies the choice, which the
    model's ``compression_`` entry records (``"chosen"``).

    Parameters
    ----------
    dtype : {"int8", "float16", "bfloat16", "auto"}, default="int8"
        Storage type of the weights ("bfloat16": transformer models only), or
        "auto" (see above).
    embeddings : bool, default=True
        With ``"int8"``, also round a transformer's word-embedding table to int8
        with one scale per 32 values (weight-only: lookups stay float, the pickle
        stores int8). It is about half of a small encoder's bytes.
    tolerance : float, default=0.01
        ``"auto"``: the most a candidate may lose against fp32: the score lost with
        labels (0.01: one accuracy point); without, the share of calibration texts
        whose label changes (regressors: mean absolute change over the spread of the
        predictions; embedders: one minus the mean cosine).
    calibration_size : int, default=128
        ``"auto"``: at most this many of the ``fit`` texts time the candidates.

    Attributes
    ----------
    dtype_ : str
        ``"auto"``: the choice (``"float32"``, ``"bfloat16"``, ``"int8"``,
        ``"onnx-float32"`` or ``"onnx-int8"``; ``"float16"`` for baselines).
    reason_ : str
        ``"auto"``: why, with the CPU it was measured on.
    candidates_ : list of dict
        ``"auto"``: per candidate ``dtype``, ``seconds``, ``speedup`` over fp32,
        ``loss``, ``bytes`` (pickle size) and ``eligible``, fastest first; and the
        candidates ruled out before timing, with ``why``.

    See Also
    --------
    Pruner : drop the least important weights.
    OnnxExporter : ONNX Runtime inference, fp32 or int8, chosen by hand.

    Examples
    --------
    >>> from nlpipe import TfidfSVMClassifier
    >>> from nlpipe.compression import Quantizer
    >>> X = ["good film", "great film", "bad film", "awful film"] * 3
    >>> y = ["pos", "pos", "neg", "neg"] * 3
    >>> model = TfidfSVMClassifier(min_df=1).fit(X, y)
    >>> small = Quantizer(dtype="int8").fit_transform(model)
    >>> small.predict(["a great film", "an awful film"]).tolist()
    ['pos', 'neg']
    >>> auto = Quantizer(dtype="auto").fit(model, X)
    >>> auto.dtype_ in ("float32", "float16", "int8"), len(auto.candidates_)
    (True, 3)
    """

    _parameter_constraints = {
        "dtype": [Options(["int8", "float16", "bfloat16", "auto"])],
        "embeddings": ["boolean"],
        "tolerance": [Interval(numbers.Real, 0, 1)],
        "calibration_size": [Interval(numbers.Integral, 1, None)],
    }

    def __init__(self, *, dtype="int8", embeddings=True, tolerance=0.01, calibration_size=128):
        store_params(self, locals())

    @fit_context
    def fit(self, X, y=None, labels=None):
        """Check the model; with ``dtype="auto"``, time the candidates on the texts ``y`` and choose.

        Parameters
        ----------
        X : fitted nlpipe model
            The model to compress.
        y : list of str or None, default=None
            ``"auto"``: the calibration texts (at most ``calibration_size``, spread
            over the list, are used). Ignored otherwise.
        labels : array-like or None, default=None
            ``"auto"``: the true labels (or targets) of ``y``. The tolerance then bounds
            the score lost against fp32 (``model.score``: accuracy for classifiers)
            rather than the share of outputs that changed.

        Returns
        -------
        self : Quantizer
        """
        family = _family(X)
        if self.dtype != "auto":
            return self
        if y is None:
            raise ValueError("dtype='auto' times the candidates on texts: pass them as fit(model, texts).")
        texts = check_texts(y)
        if labels is not None and len(labels) != len(texts):
            raise ValueError(f"labels has {len(labels)} entries for {len(texts)} texts; give one per text.")
        keep = np.unique(np.linspace(0, len(texts) - 1, min(len(texts), self.calibration_size)).astype(int))
        texts = [texts[i] for i in keep]
        labels = None if labels is None else [list(labels)[i] for i in keep]
        features = _auto.cpu_features()
        models = {}
        for dtype in _auto.candidates(family, features):
            # fp32 is the fitted model itself: timing and scoring it changes nothing, so no copy is made
            models[dtype] = X if dtype == "float32" else self._apply(X, family, dtype, exported=models.get("onnx-float32"))
        self.dtype_, rows = _auto.choose(_auto.measure(models, texts, labels), self.tolerance)
        self.reason_ = _auto.describe(self.dtype_, rows, self.tolerance, len(texts), labelled=labels is not None)
        self.candidates_ = rows + [{"dtype": d, "why": why} for d, why in _auto.skipped(family, features)]
        logger.info("Quantizer(dtype='auto') chose %s", self.reason_)
        return self

    def _compressed(self, X, family):
        if self.dtype != "auto":
            return super()._compressed(X, family)
        check_is_fitted(self, "dtype_")
        return self._apply(X, family, self.dtype_)

    def _record(self):
        record = super()._record()
        if self.dtype == "auto":
            record["chosen"] = self.dtype_
        return record

    def _apply(self, X, family, dtype, exported=None):
        """A copy of ``X`` with ``dtype`` applied; ONNX int8 quantizes the graph of ``exported`` when given."""
        if dtype == "float32":
            return copy.deepcopy(X)
        if dtype.startswith("onnx-"):
            from ._onnx import OnnxExporter

            reduce_range = _auto.cpu_features()["int8"] == "avx2"  # 7-bit weights against vpmaddubsw saturation
            exporter = OnnxExporter(quantize="dynamic" if dtype == "onnx-int8" else None, reduce_range=reduce_range)
            exporter.fit(X)
            model = exporter._quantized(X, exported if exported is not None else exporter._fp32(X))
            model.compression_ = model.compression_[:-1]  # the Quantizer's entry replaces the exporter's
            return model
        model = copy.deepcopy(X)
        getattr(self, f"_{family}")(model, dtype)
        return model

    def _linear(self, model, dtype=None):
        dtype = dtype or self.dtype
        if dtype == "bfloat16":
            raise ValueError("dtype='bfloat16' is for transformer models; TF-IDF baselines take 'int8' or 'float16'.")
        W, b, kind = linear_form(model.estimator_)
        model.estimator_ = _CompressedLinear(W, b, kind, model.classes_, dtype=dtype)

    def _transformer(self, model, dtype=None):
        import torch

        from .. import neural

        dtype = dtype or self.dtype
        if dtype == "int8":
            if model.device_.type != "cpu":
                warnings.warn("Dynamic int8 layers run on the CPU: the quantized model moves there.", UserWarning,
                              stacklevel=3)
            model.model_ = neural.quantize_dynamic_int8(model.model_.to("cpu").eval())
            if self.embeddings:
                neural.quantize_embeddings_int8(model.model_)
            model.device_ = torch.device("cpu")
        else:
            model.model_ = model.model_.to(getattr(torch, dtype))


class Pruner(_CompressionStep):
    """Remove a fitted model's least important weights, so that it gets smaller (and, structured, faster).

    ``method="magnitude"`` (unstructured): the ``amount`` fraction of weights
    smallest in absolute value become zero and are stored sparsely (a bitmask
    plus the remaining values), so the pickle shrinks; dense kernels run no
    faster. For TF-IDF baselines this prunes the linear model's coefficients
    (naive Bayes log-probabilities are first centred per word, which changes no
    prediction) and drops the words whose coefficients are all zero from the
    vectorizer's vocabulary. For transformer models it prunes every linear layer.

    ``method="heads"``, ``"neurons"`` or ``"structured"`` (both), transformer
    models with a BERT-style encoder: the ``amount`` fraction of each layer's
    attention heads and/or feed-forward neurons with the smallest weight norms
    are cut out of the query/key/value, output and feed-forward matrices, which
    shrink, so the model runs faster. Refit the pruned model briefly to recover
    accuracy if needed (its ``model_`` keeps training like any other).

    Parameters
    ----------
    amount : float in [0, 1), default=0.5
        Fraction of the weights (or heads / neurons per layer) to remove.
    method : {"magnitude", "heads", "neurons", "structured"}, default="magnitude"
        What to remove (see above).

    See Also
    --------
    Quantizer : store the weights in fewer bits.

    Examples
    --------
    >>> from nlpipe import TfidfNBClassifier
    >>> from nlpipe.compression import Pruner
    >>> X = ["good film", "great film", "bad film", "awful film"] * 3
    >>> y = ["pos", "pos", "neg", "neg"] * 3
    >>> model = TfidfNBClassifier(min_df=1).fit(X, y)
    >>> small = Pruner(amount=0.5).fit_transform(model)
    >>> len(small.vectorizer_.vocabulary_) < len(model.vectorizer_.vocabulary_)
    True
    """

    _parameter_constraints = {
        "amount": [Interval(numbers.Real, 0, 1, closed="left")],
        "method": [Options(["magnitude", "heads", "neurons", "structured"])],
    }

    def __init__(self, *, amount=0.5, method="magnitude"):
        store_params(self, locals())

    def _linear(self, model):
        if self.method != "magnitude":
            raise ValueError(
                f"method={self.method!r} removes attention heads / feed-forward neurons of transformer models; "
                f"a {type(model).__name__} takes method='magnitude'."
            )
        W, b, kind = linear_form(model.estimator_)
        W = magnitude_prune(W, self.amount)
        keep = np.flatnonzero(np.any(W != 0, axis=0))
        if len(keep) == 0:  # an all-zero model still needs one column to multiply
            keep = np.array([0])
        model.vectorizer_ = shrink_vocabulary(model.vectorizer_, keep)
        dtype = "int8" if getattr(model.estimator_, "int8", False) else "float32"
        model.estimator_ = _CompressedLinear(W[:, keep], b, kind, model.classes_, dtype=dtype)

    def _transformer(self, model):
        from .. import neural

        if neural.quantized_modules(model.model_):
            raise ValueError("Prune before quantizing: this model's linear layers are already int8.")
        if self.method == "magnitude":
            neural.magnitude_prune_linears(model.model_, self.amount)
        else:
            neural.prune_heads_and_neurons(
                model.model_, self.amount, heads=self.method in ("heads", "structured"),
                neurons=self.method in ("neurons", "structured"),
            )
