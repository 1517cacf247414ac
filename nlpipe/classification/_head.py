"""What the classifier and the regressor share: a linear head on pooled tokens, optionally started by a probe."""

import dataclasses
import numbers
import os
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..base import Interval, Options, inherit_params
from ..finetune import FineTunedEstimator, TrainingExamples, import_neural, shared_parameters


_HEAD_DOC = """\
    pooling : {{"cls", "mean", "auto"}}, default="cls"
        What the head reads: "cls" is the architecture's own head ([CLS] pooler for
        BERT), as ``AutoModelForSequenceClassification`` and ``pipeline()`` run it;
        "mean" puts the linear head on the average of the token vectors (BERT-style
        heads only); "auto" is "mean" for sentence-transformers backbones, which
        were trained with mean pooling, and "cls" otherwise.
    head_init : {{"auto", "random", "probe"}}, default="auto"
        "probe" starts the linear head from a linear model fitted on the frozen
        mean-pooled features (logistic regression for classes, ridge for values),
        then fine-tunes everything (LP-FT); it needs mean pooling and costs one
        extra forward pass over the training texts. "auto" probes when the
        pooling in use is "mean", else starts at random.
    long_texts : {{"truncate", "mean", "max"}}, default="truncate"
        How ``predict`` reads a text longer than ``max_length`` tokens: "truncate"
        reads its first ``max_length`` tokens; "mean" and "max" read all of it as
        windows of ``max_length`` tokens (sharing ``doc_stride``) and pool the
        windows' head outputs by their mean or maximum. Training reads the first
        window. Changing it on a fitted model needs no refit.
    doc_stride : int, default=128
        Tokens shared by consecutive windows with ``long_texts="mean"``/``"max"``
        (at most half of a window's text tokens).
"""


def _head_params(cls):
    """``shared_parameters`` plus the head's parameter descriptions where the docstring says ``%HEAD%``."""
    return inherit_params(shared_parameters(cls), docs={"    %HEAD%\n": _HEAD_DOC})


class _PooledHeadEstimator(FineTunedEstimator):
    """A sequence-level head (``AutoModelForSequenceClassification``) on [CLS] or mean-pooled tokens.

    Subclasses write ``_validate_data`` (returning a ``_HeadData``, which carries the head's loss) and
    ``_linear_probe``.
    """

    _task = "sequence-classification"
    # Whether a mean-pooled head reads L2-normalized vectors (SetFit's head), in training, predict and export.
    _normalize_pooled = False
    _parameter_constraints = {
        **FineTunedEstimator._parameter_constraints,
        "pooling": [Options(["cls", "mean", "auto"])],
        "head_init": [Options(["auto", "random", "probe"])],
        "long_texts": [Options(["truncate", "mean", "max"])],
        "doc_stride": [Interval(numbers.Integral, 1, None)],
    }

    # ------------------------------------------------------------- fit hooks
    def _build_model(self, neural, data):
        model, tokenizer = self._load_pretrained(neural, data.head)
        self.pooling_ = neural.resolve_pooling(self.pooling, os.fspath(self.model), model)
        return model, tokenizer

    def _training_examples(self, neural, data):
        ids = neural.encode(self.tokenizer_, data.texts, self.max_length_)
        return TrainingExamples(ids, data.targets, stratify=data.stratify, aux=data.probe)

    def _loss(self, neural, data):
        return lambda model, batch, target: data.loss(self._forward(model, batch).float(), target)

    def _before_training(self, neural, examples):
        if self._head_init() != "probe":
            return
        # LP-FT (Kumar et al., 2022): a head fitted on the frozen features first, so the early
        # large gradients of a random head do not distort the pretrained encoder.
        targets = examples.targets.numpy() if examples.aux is None else np.asarray(examples.aux)
        self._fit_probe_head(neural, examples.ids, targets)

    def _fit_probe_head(self, neural, ids, targets):
        """Set the linear head to ``_linear_probe`` fitted on the encoder's pooled features of ``ids``.

        The features are what ``_forward`` gives the head: mean-pooled, L2-normalized when
        ``_normalize_pooled``.
        """
        features = neural.run_inference(
            self.model_, ids, forward=neural.mean_pooled_features, batch_size=self.batch_size,
            device=self.device_, amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
            pad_id=self.tokenizer_.pad_token_id,
        )
        if self._normalize_pooled:
            features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fine-tuning or the data size decides, not lbfgs
            neural.set_linear_head(self.model_, *self._linear_probe(features, targets))

    def _linear_probe(self, features, targets):
        """Weights ``(n_outputs, hidden)`` and bias of the head fitted on frozen features."""
        raise NotImplementedError

    def _head_init(self):
        if self.head_init == "auto":
            return "probe" if self.pooling_ == "mean" else "random"
        if self.head_init == "probe" and self.pooling_ != "mean":
            raise ValueError(
                "head_init='probe' fits the linear head on mean-pooled features and needs mean pooling; "
                f"this fit uses pooling_={self.pooling_!r}. Set pooling='mean' or head_init='random'."
            )
        return self.head_init

    # ---------------------------------------------------------------- forward
    def _windows(self):
        return None if self.long_texts == "truncate" else (self.long_texts, self.doc_stride)

    def _forward(self, model, batch):
        if self.__dict__.get("pooling_") == "mean":
            self._require_unwrapped(model)
            return import_neural().mean_pooled_logits(model, batch, normalize=self._normalize_pooled)
        return model(**batch).logits

    def _require_unwrapped(self, model):
        """Refuse a DDP-wrapped or FSDP-sharded model: reading its encoder directly bypasses their forward."""
        if hasattr(model, "module") or import_neural().is_sharded(model):
            raise ValueError(f"{type(self).__name__} with mean pooling does not run under torchrun yet (its head "
                             "reads the encoder past the DistributedDataParallel / FSDP forward); use a "
                             "TransformerClassifier with pooling='cls' for data-parallel fits.")

    # ------------------------------------------------------------ persistence
    def _before_save(self):
        if self.pooling_ == "mean":
            warnings.warn(
                "This model puts its head on mean-pooled tokens (pooling_='mean'); transformers' "
                "AutoModelForSequenceClassification and pipeline() apply the [CLS] pooler instead and "
                f"predict differently. Load the folder with {type(self).__name__}.from_pretrained, "
                "or fit with pooling='cls' for a folder plain transformers reproduces.",
                UserWarning,
                stacklevel=3,
            )

    def _load_saved(self, neural, path):
        from transformers import AutoConfig

        # The folder's config knows the head; without these the head would be rebuilt at its default size.
        config = AutoConfig.from_pretrained(path)
        head = {"num_labels": config.num_labels, "problem_type": config.problem_type, "id2label": config.id2label}
        return neural.load_backbone(path, self._task, **head), neural.load_tokenizer(path)

    def _fitted_meta(self):
        return {**super()._fitted_meta(), "pooling_": self.pooling_}

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.pooling_ = meta.get("pooling_", "cls")


@dataclasses.dataclass
class _HeadData:
    """What ``_validate_data`` hands to the other hooks of a pooled-head estimator."""

    texts: list
    targets: np.ndarray  # one row per text, in the layout ``loss`` expects
    head: dict  # ``load_backbone``'s head arguments: num_labels, problem_type, id2label
    loss: object  # ``loss(outputs, target)`` on the head's outputs
    stratify: object = None  # labels the validation split keeps the proportions of
    probe: object = None  # labels of the linear probe, when not ``targets`` themselves
    ids: list = None  # the texts' token ids, once encoded (kept for a head fitted after training)
