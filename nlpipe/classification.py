"""Fine-tuned transformers as scikit-learn estimators.

``TransformerClassifier`` and ``TransformerRegressor`` fine-tune a pretrained
backbone with a fresh task head through nlpipe's single training loop;
``TransformerEmbedder`` turns a frozen encoder into a feature extractor.
torch and transformers are imported inside the methods (``nlpipe.neural``),
so importing this module stays light.
"""

import gc
import json
import logging
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from ._version import __version__
from .base import (
    BaseTextEstimator,
    Interval,
    Options,
    check_classification_targets,
    check_regression_targets,
    check_texts,
    label_lists_to_indicator,
)
from .exceptions import MissingExtraError

logger = logging.getLogger(__name__)

__all__ = ["TransformerClassifier", "TransformerEmbedder", "TransformerRegressor"]

_META_FILE = "nlpipe.json"


def _neural():
    try:
        from . import neural
    except ImportError as exc:
        raise MissingExtraError(
            f"Transformer estimators need torch, transformers and safetensors ({exc.name} is missing). "
            "Install the extra: pip install 'nlpipe[neural]'"
        ) from exc
    return neural


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return list(value)
    return value


class _TransformerBase(BaseTextEstimator):
    """Loading, inference, pickling and save/load shared by the transformer estimators."""

    _task = "sequence-classification"
    _parameter_constraints = {
        "model": [str, os.PathLike],
        "max_length": [None, Interval(numbers.Integral, 1, None)],
        "batch_size": [Interval(numbers.Integral, 1, None)],
        "device": [str],
        "mixed_precision": [Options(["auto", "no", "fp16", "bf16"])],
        "verbose": [Interval(numbers.Integral, 0, None), "boolean"],
    }

    # ------------------------------------------------------------------ loading
    def _release(self):
        """Free the previous fit's model before loading the next (no growth across fits)."""
        had_model = self.__dict__.pop("model_", None) is not None
        self.__dict__.pop("tokenizer_", None)
        if had_model:
            gc.collect()
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def _load_pretrained(self, neural, device, **head):
        with neural.quiet_transformers(self.verbose):
            tokenizer = neural.load_tokenizer(os.fspath(self.model))
            model = neural.load_backbone(os.fspath(self.model), self._task, **head)
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        return model.to(device), tokenizer

    # ---------------------------------------------------------------- inference
    def _forward(self, model, batch):
        return model(**batch).logits

    def _outputs(self, X, desc="predict"):
        check_is_fitted(self, "model_")
        texts = check_texts(X)
        neural = _neural()
        ids = neural.encode(self.tokenizer_, texts, self.max_length_)
        return neural.run_inference(
            self.model_,
            ids,
            forward=self._forward,
            batch_size=self.batch_size,
            device=self.device_,
            amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
            pad_id=self.tokenizer_.pad_token_id,
            verbose=self.verbose,
            desc=desc,
        )

    # -------------------------------------------------------------- persistence
    def __getstate__(self):
        state = super().__getstate__()
        model = state.pop("model_", None)
        tokenizer = state.pop("tokenizer_", None)
        if model is not None:
            # Bytes only: no CUDA tensor and no live tokenizer handle in the pickle.
            state["_packed"] = _neural().pack(model, tokenizer)
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        packed = state.pop("_packed", None)
        super().__setstate__(state)
        if packed is not None:
            neural = _neural()
            model, tokenizer = neural.unpack(packed, self._task)
            self.device_ = neural.device_after_load(self.device_)
            self.model_ = model.to(self.device_)
            self.tokenizer_ = tokenizer

    def _fitted_meta(self):
        return {"max_length_": self.max_length_}

    def _set_fitted_meta(self, meta):
        self.max_length_ = meta["max_length_"]

    def save_pretrained(self, path):
        """Write the fitted model to a folder that plain ``transformers`` can load.

        The folder holds the model (``config.json``, ``model.safetensors``), the
        tokenizer files and ``nlpipe.json`` (parameters and fitted labels), so
        :meth:`from_pretrained` restores this estimator and
        ``AutoModel*.from_pretrained(path)`` / ``transformers.pipeline`` load the model.

        Parameters
        ----------
        path : str or path-like
            Target folder; created when missing.

        Returns
        -------
        path : pathlib.Path
        """
        check_is_fitted(self, "model_")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(path)
        self.tokenizer_.save_pretrained(path)
        params = {k: _jsonable(v) for k, v in self.get_params(deep=False).items()}
        meta = {
            "nlpipe_version": __version__,
            "estimator": type(self).__name__,
            "params": params,
            "fitted": {k: _jsonable(v) for k, v in self._fitted_meta().items()},
        }
        try:
            text = json.dumps(meta, indent=2, default=_jsonable)
        except TypeError as exc:
            raise ValueError(f"Cannot save parameters as JSON: {exc}") from None
        (path / _META_FILE).write_text(text, encoding="utf-8")
        return path

    @classmethod
    def from_pretrained(cls, path, *, device=None):
        """Restore an estimator written by :meth:`save_pretrained`.

        Parameters
        ----------
        path : str or path-like
            A folder written by ``save_pretrained``.
        device : str, default=None
            Device to load on; the saved ``device`` parameter when None.

        Returns
        -------
        estimator : fitted estimator of this class
        """
        path = Path(path)
        meta_path = path / _META_FILE
        if not meta_path.is_file():
            raise ValueError(
                f"{str(path)!r} has no {_META_FILE}: it was not written by {cls.__name__}.save_pretrained. "
                f"To fine-tune from a transformers folder, pass it as {cls.__name__}(model=...)."
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("estimator") != cls.__name__:
            raise ValueError(f"{str(path)!r} holds a {meta.get('estimator')}, not a {cls.__name__}.")
        est = cls(**meta["params"])
        if device is not None:
            est.set_params(device=device)
        neural = _neural()
        est.device_ = neural.resolve_device(est.device)
        with neural.quiet_transformers(est.verbose):
            est.tokenizer_ = neural.load_tokenizer(os.fspath(path))
            est.model_ = neural.load_backbone(os.fspath(path), cls._task, **est._head_from_config(path)).to(est.device_)
        est.model_.eval()
        est._set_fitted_meta(meta["fitted"])
        return est

    @staticmethod
    def _head_from_config(path):
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(path)
        return {"num_labels": config.num_labels, "problem_type": config.problem_type, "id2label": config.id2label}


class _FineTunedBase(_TransformerBase):
    """Adds the training parameters and the one ``fit`` that calls the shared loop."""

    _parameter_constraints = {
        **_TransformerBase._parameter_constraints,
        "epochs": [Interval(numbers.Integral, 1, None)],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None)],
        "warmup_ratio": [Interval(numbers.Real, 0, 1)],
        "gradient_accumulation_steps": [Interval(numbers.Integral, 1, None)],
        "max_grad_norm": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "validation_fraction": [None, Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping_patience": [None, Interval(numbers.Integral, 1, None)],
        "random_state": ["random_state"],
    }

    def _fit_backbone(self, texts, targets, *, head, loss_fn, stratify=None):
        import torch

        neural = _neural()
        self._release()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = neural.resolve_device(self.device)
        with neural.seeded(seed, device):
            model, tokenizer = self._load_pretrained(neural, device, **head)
            self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
            ids = neural.encode(tokenizer, texts, self.max_length_)
            targets = torch.as_tensor(targets)
            train_idx, validation = np.arange(len(ids)), None
            if self.validation_fraction is not None:
                try:
                    train_idx, val_idx = train_test_split(
                        train_idx, test_size=self.validation_fraction, random_state=seed, stratify=stratify
                    )
                except ValueError:  # a class too small to stratify
                    train_idx, val_idx = train_test_split(
                        train_idx, test_size=self.validation_fraction, random_state=seed
                    )
                validation = ([ids[i] for i in val_idx], targets[torch.as_tensor(val_idx)])
            self.history_ = neural.train(
                model,
                [ids[i] for i in train_idx],
                targets[torch.as_tensor(train_idx)],
                forward=self._forward,
                loss_fn=loss_fn,
                epochs=self.epochs,
                batch_size=self.batch_size,
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                warmup_ratio=self.warmup_ratio,
                gradient_accumulation_steps=self.gradient_accumulation_steps,
                max_grad_norm=self.max_grad_norm,
                device=device,
                amp_dtype=neural.autocast_dtype(device, self.mixed_precision),
                pad_id=tokenizer.pad_token_id,
                seed=seed,
                validation=validation,
                early_stopping_patience=self.early_stopping_patience,
                verbose=self.verbose,
            )
        self.model_, self.tokenizer_, self.device_ = model, tokenizer, device
        return self


class TransformerClassifier(ClassifierMixin, _FineTunedBase):
    """Fine-tune a pretrained transformer for binary, multiclass or multilabel text classification.

    A fresh classification head is put on the backbone and the whole model is
    fine-tuned by nlpipe's training loop (AdamW, linear warm-up/decay, gradient
    clipping). ``clone`` gives an unfitted copy, and every ``fit`` reloads the
    pretrained backbone, so each cross-validation fold starts from the same
    weights. Prediction runs in length-sorted, dynamically padded batches;
    texts longer than ``max_length`` tokens are truncated.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-uncased"
        Hub id or local folder of a pretrained backbone (``save_pretrained`` layout).
    max_length : int or None, default=None
        Truncate texts to this many tokens; None uses the backbone's limit.
        Larger values are clipped to that limit.
    batch_size : int, default=32
        Batch size for training and prediction.
    epochs : int, default=3
        Passes over the training data.
    learning_rate : float, default=5e-5
        Peak AdamW learning rate.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and norm weights).
    warmup_ratio : float, default=0.1
        Fraction of the steps with a linear learning-rate warm-up.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients are summed before each optimizer step.
    max_grad_norm : float or None, default=1.0
        Gradient clipping norm; None disables clipping.
    validation_fraction : float or None, default=None
        Hold out this fraction (stratified) to measure the validation loss
        after every epoch; the best epoch's weights are kept.
    early_stopping_patience : int or None, default=None
        With a validation split, stop after this many epochs without improvement.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss (single-label problems).
    device : str, default="auto"
        "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps".
    mixed_precision : {"auto", "no", "fp16", "bf16"}, default="auto"
        Autocast on CUDA ("auto": bf16 where supported, else fp16); CPU runs fp32.
    random_state : int, RandomState instance or None, default=None
        Seeds the head initialisation, dropout, shuffling and the validation split.
    verbose : int, default=1
        Progress bars when > 0; 0 also silences transformers' loading reports.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (multilabel: label names, or column indices for an indicator ``y``).
    model_ : transformers.PreTrainedModel
        The fine-tuned model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    device_ : torch.device
        Where the model lives.
    max_length_ : int
        The truncation length in use.
    multilabel_ : bool
        Whether ``y`` was multilabel.
    label_binarizer_ : MultiLabelBinarizer or None
        Maps label lists to columns, when ``y`` was given as label lists.
    history_ : list of dict
        Per-epoch ``train_loss`` (and ``val_loss``).

    See Also
    --------
    TfidfSVMClassifier : the fast classic baseline with the same API.
    TransformerRegressor : the same core with a regression head.
    TransformerEmbedder : a frozen encoder as a feature extractor.

    Examples
    --------
    >>> from nlpipe import TransformerClassifier
    >>> from nlpipe.testing import make_tiny_backbone, make_text_classification
    >>> X, y = make_text_classification(2)
    >>> clf = TransformerClassifier(model=make_tiny_backbone(), epochs=10, learning_rate=3e-3, batch_size=8,
    ...                             random_state=0, verbose=0).fit(X, y)
    >>> clf.score(X, y)
    1.0
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        **_FineTunedBase._parameter_constraints,
        "class_weight": [None, dict, Options(["balanced"])],
    }

    def __init__(
        self,
        *,
        model="distilbert-base-uncased",
        max_length=None,
        batch_size=32,
        epochs=3,
        learning_rate=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping_patience=None,
        class_weight=None,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping_patience = early_stopping_patience
        self.class_weight = class_weight
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        """Fine-tune the backbone on texts and labels.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame of str
            Training texts.
        y : array-like of shape (n_samples,), list of label lists, or indicator matrix
            Labels (str or int); label lists or a 0/1 matrix for multilabel problems.

        Returns
        -------
        self : TransformerClassifier
        """
        import torch

        self._validate_params()
        texts = check_texts(X)
        y, kind = check_classification_targets(y, len(texts))
        self.multilabel_ = kind != "single"
        self.label_binarizer_ = None
        if kind == "single":
            self.classes_, encoded = np.unique(y, return_inverse=True)
            targets = encoded.astype(np.int64)
            weight = self._class_weights(encoded)
            loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
            problem = "single_label_classification"
        else:
            if self.class_weight is not None:
                raise ValueError("class_weight is not supported with multilabel y.")
            if kind == "lists":
                self.label_binarizer_ = MultiLabelBinarizer()
                targets = self.label_binarizer_.fit_transform(y)
                self.classes_ = self.label_binarizer_.classes_
            else:
                targets = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
                self.classes_ = np.arange(targets.shape[1])
            targets = targets.astype(np.float32)
            loss_fn = torch.nn.BCEWithLogitsLoss()
            problem = "multi_label_classification"
        head = {
            "num_labels": len(self.classes_),
            "problem_type": problem,
            "id2label": {i: str(c) for i, c in enumerate(self.classes_)},
        }
        stratify = targets if kind == "single" else None
        return self._fit_backbone(texts, targets, head=head, loss_fn=loss_fn, stratify=stratify)

    def _class_weights(self, encoded):
        import torch

        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            w = compute_class_weight("balanced", classes=np.arange(len(self.classes_)), y=encoded)
        else:
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight names labels not in y: {sorted(unknown, key=str)}")
            w = np.array([self.class_weight.get(c, 1.0) for c in self.classes_.tolist()])
        return torch.as_tensor(w, dtype=torch.float32)

    def decision_function(self, X):
        """Logits of the classification head.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class; for binary problems the single logit
            difference (positive means ``classes_[1]``), as scikit-learn's.
        """
        logits = self._outputs(X)
        if not self.multilabel_ and logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities (softmax; independent sigmoids for multilabel).

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return self._proba(self._outputs(X))

    def _proba(self, logits):
        if self.multilabel_:
            return 1.0 / (1.0 + np.exp(-logits))
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def _predict_encoded(self, X):
        logits = self._outputs(X)
        if self.multilabel_:
            return (logits > 0).astype(np.int64)
        return np.argmax(logits, axis=1)

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray, list of tuple, or indicator matrix
            Labels in the form given to ``fit``.
        """
        encoded = self._predict_encoded(X)
        if not self.multilabel_:
            return self.classes_[encoded]
        if self.label_binarizer_ is not None:
            return self.label_binarizer_.inverse_transform(encoded)
        return encoded

    def score(self, X, y, sample_weight=None):
        """Accuracy (subset accuracy for multilabel problems).

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like, list of label lists, or indicator matrix
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        pred = self.predict(X)
        if self.label_binarizer_ is not None:
            return accuracy_score(
                label_lists_to_indicator(self.label_binarizer_, y, len(pred)),
                self.label_binarizer_.transform(pred),
                sample_weight=sample_weight,
            )
        return accuracy_score(y, pred, sample_weight=sample_weight)

    def _fitted_meta(self):
        meta = super()._fitted_meta()
        meta.update(
            classes_=self.classes_.tolist(),
            multilabel_=self.multilabel_,
            label_lists=self.label_binarizer_ is not None,
        )
        return meta

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.classes_ = np.asarray(meta["classes_"])
        self.multilabel_ = meta["multilabel_"]
        self.label_binarizer_ = None
        if meta["label_lists"]:
            self.label_binarizer_ = MultiLabelBinarizer(classes=meta["classes_"]).fit([meta["classes_"]])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.non_deterministic = self.random_state is None
        return tags


class TransformerRegressor(RegressorMixin, _FineTunedBase):
    """Fine-tune a pretrained transformer to predict one or several numbers per text.

    Targets are standardized for training and mapped back for prediction, so
    any scale of ``y`` trains the same. This is the core of nlpipe's
    sentiment-intensity models.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-uncased"
        Hub id or local folder of a pretrained backbone.
    max_length : int or None, default=None
        Truncate texts to this many tokens; None uses the backbone's limit.
    batch_size : int, default=32
        Batch size for training and prediction.
    epochs : int, default=3
        Passes over the training data.
    learning_rate : float, default=5e-5
        Peak AdamW learning rate.
    weight_decay : float, default=0.01
        AdamW weight decay.
    warmup_ratio : float, default=0.1
        Fraction of the steps with a linear warm-up.
    gradient_accumulation_steps : int, default=1
        Batches per optimizer step.
    max_grad_norm : float or None, default=1.0
        Gradient clipping norm.
    validation_fraction : float or None, default=None
        Hold-out fraction for the validation loss; the best epoch is kept.
    early_stopping_patience : int or None, default=None
        Epochs without improvement before stopping (needs a validation split).
    device : str, default="auto"
        "auto", "cpu", "cuda", "cuda:1" or "mps".
    mixed_precision : {"auto", "no", "fp16", "bf16"}, default="auto"
        Autocast on CUDA; CPU runs fp32.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, shuffling and the validation split.
    verbose : int, default=1
        Progress bars when > 0.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The fine-tuned model (a regression head with ``n_outputs_`` outputs).
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    device_ : torch.device
        Where the model lives.
    max_length_ : int
        The truncation length in use.
    n_outputs_ : int
        Number of targets per text.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Target standardization.
    history_ : list of dict
        Per-epoch losses (on the standardized scale).

    See Also
    --------
    TransformerClassifier : the same core with a classification head.

    Examples
    --------
    >>> from nlpipe import TransformerRegressor
    >>> from nlpipe.testing import make_tiny_backbone, make_text_classification
    >>> X, labels = make_text_classification(2)
    >>> y = [0.9 if lab == "pos" else 0.1 for lab in labels]
    >>> reg = TransformerRegressor(model=make_tiny_backbone(), epochs=10, learning_rate=3e-3, batch_size=8,
    ...                            random_state=0, verbose=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        *,
        model="distilbert-base-uncased",
        max_length=None,
        batch_size=32,
        epochs=3,
        learning_rate=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping_patience=None,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping_patience = early_stopping_patience
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        """Fine-tune the backbone on texts and numeric targets.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame of str
            Training texts.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : TransformerRegressor
        """
        import torch

        self._validate_params()
        texts = check_texts(X)
        Y, self._y_1d = check_regression_targets(y, len(texts))
        self.n_outputs_ = Y.shape[1]
        self.y_mean_ = Y.mean(axis=0)
        scale = Y.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        targets = ((Y - self.y_mean_) / self.y_scale_).astype(np.float32)
        head = {"num_labels": self.n_outputs_, "problem_type": "regression"}
        return self._fit_backbone(texts, targets, head=head, loss_fn=torch.nn.MSELoss())

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            1-D when ``y`` was 1-D in ``fit``.
        """
        out = self._outputs(X).astype(np.float64) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_1d else out

    def _fitted_meta(self):
        meta = super()._fitted_meta()
        meta.update(
            n_outputs_=self.n_outputs_,
            y_mean_=self.y_mean_.tolist(),
            y_scale_=self.y_scale_.tolist(),
            y_1d=self._y_1d,
        )
        return meta

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.n_outputs_ = meta["n_outputs_"]
        self.y_mean_ = np.asarray(meta["y_mean_"])
        self.y_scale_ = np.asarray(meta["y_scale_"])
        self._y_1d = meta["y_1d"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.non_deterministic = self.random_state is None
        return tags


class TransformerEmbedder(TransformerMixin, _TransformerBase):
    """Sentence embeddings from a frozen transformer encoder, as a scikit-learn transformer.

    ``fit`` loads the encoder; ``transform`` embeds texts in length-sorted
    batches. ``make_pipeline(TransformerEmbedder(model=...), LogisticRegression())``
    is a frozen-encoder baseline.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        Hub id or local folder of a pretrained encoder.
    pooling : {"mean", "cls"}, default="mean"
        Average of the token states (padding excluded), or the first token's state.
    normalize : bool, default=True
        L2-normalize each embedding.
    max_length : int or None, default=None
        Truncate texts to this many tokens; None uses the backbone's limit.
    batch_size : int, default=32
        Texts per forward pass.
    device : str, default="auto"
        "auto", "cpu", "cuda", "cuda:1" or "mps".
    mixed_precision : {"auto", "no", "fp16", "bf16"}, default="auto"
        Autocast on CUDA; CPU runs fp32.
    verbose : int, default=1
        Progress bars when > 0.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The encoder.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    device_ : torch.device
        Where the model lives.
    max_length_ : int
        The truncation length in use.
    n_features_out_ : int
        Embedding size.

    See Also
    --------
    TransformerClassifier : fine-tunes the encoder instead of freezing it.

    Examples
    --------
    >>> from nlpipe import TransformerEmbedder
    >>> from nlpipe.testing import make_tiny_backbone
    >>> emb = TransformerEmbedder(model=make_tiny_backbone(), verbose=0).fit(["a text"])
    >>> E = emb.transform(["a great movie", "an awful film"])
    >>> E.shape
    (2, 32)
    >>> bool(abs((E ** 2).sum(axis=1) - 1).max() < 1e-5)
    True
    """

    _task = "embedding"
    _parameter_constraints = {
        **_TransformerBase._parameter_constraints,
        "pooling": [Options(["mean", "cls"])],
        "normalize": ["boolean"],
    }

    def __init__(
        self,
        *,
        model="sentence-transformers/all-MiniLM-L6-v2",
        pooling="mean",
        normalize=True,
        max_length=None,
        batch_size=32,
        device="auto",
        mixed_precision="auto",
        verbose=1,
    ):
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.mixed_precision = mixed_precision
        self.verbose = verbose

    def fit(self, X, y=None):
        """Load the encoder (nothing is trained).

        Parameters
        ----------
        X : list of str
            Texts (validated only).
        y : None
            Ignored.

        Returns
        -------
        self : TransformerEmbedder
        """
        self._validate_params()
        check_texts(X)
        neural = _neural()
        self._release()
        self.device_ = neural.resolve_device(self.device)
        model, tokenizer = self._load_pretrained(neural, self.device_)
        model.eval()
        self.model_, self.tokenizer_ = model, tokenizer
        self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
        self.n_features_out_ = int(model.config.hidden_size)
        return self

    def _forward(self, model, batch):
        hidden = model(**batch).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def transform(self, X):
        """Embed texts.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_), float32
        """
        E = self._outputs(X, desc="embed")
        if self.normalize:
            E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
        return E

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding dimensions.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def _fitted_meta(self):
        return {**super()._fitted_meta(), "n_features_out_": self.n_features_out_}

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.n_features_out_ = meta["n_features_out_"]

    @staticmethod
    def _head_from_config(path):
        return {}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags
