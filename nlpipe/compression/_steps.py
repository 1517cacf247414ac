"""Compression steps: take a fitted nlpipe model, return a smaller fitted copy with the same API."""

import copy
import logging
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from ..base import Interval, Options, fit_context, parameter_docs, validate_params
from ..inference import OnnxModel
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

        Returns
        -------
        self : object
        """
        validate_params(self)
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
        family = _family(X)
        model = copy.deepcopy(X)
        getattr(self, f"_{family}")(model)
        model.compression_ = [*getattr(X, "compression_", []), {"step": type(self).__name__, **self.get_params()}]
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        return tags


class Quantizer(_CompressionStep):
    """Store a fitted model's weights in fewer bits.

    Transformer models: ``"int8"`` replaces every linear layer by a dynamic int8
    one (int8 weights with one scale per output row, activations quantized per
    batch; torch's x86 kernels, so the model moves to the CPU); ``"float16"`` /
    ``"bfloat16"`` cast all weights. TF-IDF baselines: the linear model's
    coefficients become int8 with one scale per class (``"int8"``) or float16.
    The quantized model pickles and reloads quantized (int8 tensors and their
    scales are stored, not float weights), keeps ``predict``/``predict_proba``/
    ``score`` and works inside ``cross_val_score`` only as a fitted model (it
    has nothing to learn: refitting a clone starts from the original class).

    Parameters
    ----------
    dtype : {"int8", "float16", "bfloat16"}, default="int8"
        Storage type of the weights ("bfloat16": transformer models only).
    embeddings : bool, default=True
        With ``"int8"``, also round a transformer's word-embedding table to int8
        with one scale per 32 values (weight-only: lookups stay float, the pickle
        stores int8). It is about half of a small encoder's bytes.

    See Also
    --------
    Pruner : drop the least important weights.

    Examples
    --------
    >>> from nlpipe import TfidfSVMClassifier
    >>> from nlpipe.compression import Quantizer
    >>> X = ["good film", "great film", "bad film", "awful film"] * 3
    >>> y = ["pos", "pos", "neg", "neg"] * 3
    >>> small = Quantizer(dtype="int8").fit_transform(TfidfSVMClassifier(min_df=1).fit(X, y))
    >>> small.predict(["a great film", "an awful film"]).tolist()
    ['pos', 'neg']
    """

    _parameter_constraints = {"dtype": [Options(["int8", "float16", "bfloat16"])], "embeddings": ["boolean"]}

    def __init__(self, *, dtype="int8", embeddings=True):
        self.dtype = dtype
        self.embeddings = embeddings

    def _linear(self, model):
        if self.dtype == "bfloat16":
            raise ValueError("dtype='bfloat16' is for transformer models; TF-IDF baselines take 'int8' or 'float16'.")
        W, b, kind = linear_form(model.estimator_)
        model.estimator_ = _CompressedLinear(W, b, kind, model.classes_, dtype=self.dtype)

    def _transformer(self, model):
        import torch

        from .. import neural

        if self.dtype == "int8":
            if model.device_.type != "cpu":
                warnings.warn("Dynamic int8 layers run on the CPU: the quantized model moves there.", UserWarning,
                              stacklevel=3)
            model.model_ = neural.quantize_dynamic_int8(model.model_.to("cpu").eval())
            if self.embeddings:
                neural.quantize_embeddings_int8(model.model_)
            model.device_ = torch.device("cpu")
        else:
            model.model_ = model.model_.to(getattr(torch, self.dtype))


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
        self.amount = amount
        self.method = method

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
