"""OnnxExporter: a fitted transformer estimator whose inference runs in ONNX Runtime, without torch."""

import copy
import logging
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..base import Interval, Options, check_texts, fit_context, store_params, validate_params
from ..finetune import import_neural
from ..inference import OnnxModel, quantize_onnx

logger = logging.getLogger(__name__)

# Texts on which the exported graph is checked against the torch model (tokens and outputs).
_CHECK_TEXTS = ["A short one.", "an example text, with punctuation; and numbers 1 2 3!", "", "ÉLAN naïve café"]


def check_exportable(model):
    """TypeError/NotFittedError/ValueError unless ``model`` is a fitted fp32 torch estimator ONNX can take."""
    from ..classification import TransformerClassifier, TransformerEmbedder, TransformerRegressor

    if not isinstance(model, (TransformerClassifier, TransformerRegressor, TransformerEmbedder)):
        raise TypeError(
            f"Cannot export a {type(model).__name__} to ONNX: OnnxExporter takes a fitted TransformerClassifier, "
            "TransformerRegressor or TransformerEmbedder (TF-IDF baselines run without torch already)."
        )
    if "model_" not in vars(model):
        raise NotFittedError(f"This {type(model).__name__} is not fitted: fit it before exporting it.")
    if isinstance(model.model_, OnnxModel):
        raise ValueError(f"This {type(model).__name__} is already exported to ONNX; export the torch model it came "
                         "from (refit, or keep the original) with other settings.")
    done = [step["step"] for step in getattr(model, "compression_", [])]
    if done:
        raise ValueError(
            f"This {type(model).__name__} was compressed in torch ({', '.join(done)}); export the fp32 model and "
            "let OnnxExporter quantize it (quantize='dynamic' or 'static')."
        )
    if getattr(model.tokenizer_, "backend_tokenizer", None) is None:
        raise ValueError(f"{type(model.tokenizer_).__name__} is not a fast tokenizer: the exported model tokenizes "
                         "with the `tokenizers` library, which needs one (tokenizer.json).")


class OnnxExporter(TransformerMixin, BaseEstimator):
    """Run a fitted transformer estimator in ONNX Runtime: faster on CPU, and without torch.

    ``fit_transform(model)`` (or ``fit(model, texts).transform(model)``) returns a copy
    of the fitted ``TransformerClassifier``, ``TransformerRegressor`` or
    ``TransformerEmbedder`` with the same API (``predict``, ``predict_proba``,
    ``decision_function``, ``transform``, ``score``, ``classes_``) whose ``model_`` is
    an :class:`nlpipe.inference.OnnxModel`: the forward pass exported by
    ``torch.onnx`` (pooling and head included) and the tokenizer, run by an
    ``onnxruntime.InferenceSession`` with graph optimizations. The copy pickles as
    the ONNX bytes and the tokenizer's JSON and rebuilds its session on load; it
    loads and predicts where ``onnxruntime`` and ``tokenizers`` are installed and
    torch is not. Outputs equal the torch model's within 1e-4 in fp32 (checked on
    export, where tokens must match too).

    Parameters
    ----------
    quantize : {None, "dynamic", "static"}, default=None
        None keeps fp32 weights. "dynamic": int8 weights, activations quantized per
        batch (usually the fastest on CPU). "static": activations too, with ranges
        calibrated on the texts given to ``fit``; the products with weight
        matrices and the embedding table are quantized (attention scores and
        softmax stay float).
    per_channel : bool, default=True
        int8: one weight scale per output channel (measured on MiniLM: embedding
        cosine 0.957 with one scale per tensor, 0.992 per channel, same speed).
    reduce_range : bool, default=False
        int8: 7-bit weights, against the saturation of int8 products on CPUs
        without VNNI (AVX2-only); costs some accuracy elsewhere.
    n_threads : int or None, default=None
        ONNX Runtime's intra-op threads (None: one per core). Set in the session
        options; ONNX Runtime ignores the process's CPU affinity.
    optimization : {"all", "extended", "basic", "none"}, default="all"
        ONNX Runtime's graph optimization level.
    calibration_size : int, default=128
        "static": at most this many of the ``fit`` texts calibrate the ranges.

    Attributes
    ----------
    calibration_ : list of str
        The calibration texts kept by ``fit`` (empty unless ``quantize="static"``).

    See Also
    --------
    Quantizer : torch int8 / bf16, and ``dtype="auto"`` to let the CPU decide.
    nlpipe.inference.OnnxModel : what the exported estimator holds.

    Examples
    --------
    >>> import pickle
    >>> from nlpipe import TransformerClassifier
    >>> from nlpipe.compression import OnnxExporter
    >>> from nlpipe.testing import make_text_classification, make_tiny_backbone
    >>> X, y = make_text_classification(2)
    >>> clf = TransformerClassifier(model=make_tiny_backbone(), epochs=2, random_state=0, verbose=0).fit(X, y)
    >>> fast = OnnxExporter().fit_transform(clf)
    >>> type(fast.model_).__name__, (fast.predict(X) == clf.predict(X)).all()
    ('OnnxModel', np.True_)
    >>> restored = pickle.loads(pickle.dumps(fast))  # ONNX bytes in, session rebuilt
    >>> bool(abs(restored.predict_proba(X) - clf.predict_proba(X)).max() < 1e-4)
    True
    """

    _parameter_constraints = {
        "quantize": [None, Options(["dynamic", "static"])],
        "per_channel": ["boolean"],
        "reduce_range": ["boolean"],
        "n_threads": [None, Interval(numbers.Integral, 1, None)],
        "optimization": [Options(["all", "extended", "basic", "none"])],
        "calibration_size": [Interval(numbers.Integral, 1, None)],
    }

    def __init__(self, *, quantize=None, per_channel=True, reduce_range=False, n_threads=None, optimization="all",
                 calibration_size=128):
        store_params(self, locals())

    @fit_context
    def fit(self, X, y=None):
        """Check the model and keep the calibration texts.

        Parameters
        ----------
        X : fitted TransformerClassifier, TransformerRegressor or TransformerEmbedder
            The model to export.
        y : list of str or None, default=None
            Calibration texts: needed for ``quantize="static"``, ignored otherwise
            (at most ``calibration_size`` of them, spread over the list, are kept).

        Returns
        -------
        self : OnnxExporter
        """
        check_exportable(X)
        self.calibration_ = []
        if self.quantize == "static":
            if y is None:
                raise ValueError("quantize='static' calibrates on texts: pass them as fit(model, texts).")
            texts = check_texts(y)
            keep = np.unique(np.linspace(0, len(texts) - 1, min(len(texts), self.calibration_size)).astype(int))
            self.calibration_ = [texts[i] for i in keep]
        return self

    def transform(self, X):
        """Return a copy of the fitted model ``X`` that runs in ONNX Runtime (``X`` is left unchanged).

        Parameters
        ----------
        X : fitted TransformerClassifier, TransformerRegressor or TransformerEmbedder
            The model to export.

        Returns
        -------
        model : fitted estimator of the same class
            ``model_`` is an :class:`~nlpipe.inference.OnnxModel`; ``compression_``
            lists the steps applied.
        """
        check_is_fitted(self, "calibration_")
        validate_params(self)
        check_exportable(X)
        return self._quantized(X, self._fp32(X))

    def _fp32(self, X):
        """``X`` exported in fp32 (a copy; checked against the torch model)."""
        neural = import_neural()
        graph = neural.export_onnx(X.model_, X._forward, X.tokenizer_, max_length=X.max_length_)
        onnx_model = self._runtime(graph, X, {"backend": "onnxruntime", "precision": "fp32"})
        self._check_against_torch(X, onnx_model, neural)
        exported = _copy_without_model(X)
        exported.model_, exported.tokenizer_, exported.device_ = onnx_model, onnx_model.tokenizer, "cpu"
        exported.compression_ = [*getattr(X, "compression_", []), {"step": type(self).__name__, **self.get_params()}]
        return exported

    def _runtime(self, graph, X, info):
        return OnnxModel(graph, X.tokenizer_.backend_tokenizer.to_str(), pad_id=X.tokenizer_.pad_token_id,
                         n_threads=self.n_threads, optimization=self.optimization, info=info)

    def _quantized(self, X, exported):
        """``exported`` (fp32) with this step's quantization applied to its graph (a new copy when it has one)."""
        if self.quantize is None:
            return exported
        fp32 = exported.model_
        calibration = None
        if self.quantize == "static":
            rows, _ = fp32.encode(self.calibration_, X.max_length_)
            calibration = _calibration_batches(fp32, rows, X.batch_size)
        graph = quantize_onnx(fp32.graph, mode=self.quantize, calibration=calibration, per_channel=self.per_channel,
                              reduce_range=self.reduce_range)
        onnx_model = OnnxModel(graph, fp32.tokenizer_json, pad_id=fp32.pad_id, n_threads=self.n_threads,
                               optimization=self.optimization,
                               info={**fp32.info, "precision": f"int8-{self.quantize}",
                                     "per_channel": self.per_channel, "reduce_range": self.reduce_range})
        ids, _ = onnx_model.encode(_CHECK_TEXTS, X.max_length_)
        onnx_model.run(ids, batch_size=len(ids))  # fails here, not at the first predict, if the graph is bad
        quantized = copy.copy(exported)
        quantized.model_, quantized.tokenizer_ = onnx_model, onnx_model.tokenizer
        return quantized

    @staticmethod
    def _check_against_torch(model, onnx_model, neural):
        """The graph's tokens and fp32 outputs against the torch model's on a few texts."""
        ids = neural.encode(model.tokenizer_, _CHECK_TEXTS, model.max_length_)
        mine, _ = onnx_model.encode(_CHECK_TEXTS, model.max_length_)  # the same ids, or no export
        if mine != ids:
            raise ValueError(f"The exported tokenizer ({type(model.tokenizer_).__name__}'s tokenizer.json) does not "
                             "reproduce the transformers tokenizer's ids; this model cannot run without it.")
        expected = neural.run_inference(model.model_, ids, forward=model._forward, batch_size=len(ids),
                                        device=model.device_, amp_dtype=None, pad_id=model.tokenizer_.pad_token_id)
        got = onnx_model.run(ids, batch_size=len(ids))
        gap = float(np.abs(got - expected).max())
        onnx_model.info["max_abs_diff_fp32"] = gap
        if gap > 1e-3:
            raise RuntimeError(f"The ONNX graph's outputs differ from the torch model's by {gap:.2g} (more than "
                               "1e-3): the export went wrong for this architecture.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


def _calibration_batches(onnx_model, rows, batch_size):
    """Feeds of ``batch_size`` rows, all padded to the longest row: percentile calibration stacks them."""
    width = max(len(r) for r in rows)
    batches = []
    for start in range(0, len(rows), batch_size):
        feeds = onnx_model.feeds(rows[start : start + batch_size])
        for name, value in feeds.items():
            padded = np.full((value.shape[0], width), onnx_model.pad_id if name == "input_ids" else 0, dtype=value.dtype)
            padded[:, : value.shape[1]] = value
            feeds[name] = padded
        batches.append(feeds)
    return batches


def _copy_without_model(model):
    """A deep copy of a fitted estimator without its torch model and tokenizer (they are replaced)."""
    state = {k: v for k, v in vars(model).items() if k not in ("model_", "tokenizer_")}
    clone = object.__new__(type(model))
    clone.__dict__.update(copy.deepcopy(state))
    return clone

