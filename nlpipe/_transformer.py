"""The transformer estimators' shared base: loading, inference, pickling, save/load and the fine-tuning settings.

Torch-free at import (it imports ``nlpipe.neural`` inside methods), so task modules (classification,
sentiment, summarization) build on it without paying for torch until ``fit``.
"""

import gc
import json
import logging
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._version import __version__
from .base import (
    BaseTextEstimator,
    Interval,
    Options,
    check_texts,
)
from .exceptions import MissingExtraError


logger = logging.getLogger(__name__)

_META_FILE = "nlpipe.json"
# Texts tokenized at once by predict; more are streamed chunk by chunk.
_PREDICT_CHUNK = 4096


def _neural():
    try:
        from . import neural
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("torch", "transformers", "safetensors", "tokenizers"):
            raise  # a bug, not a missing extra
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
        if self.__dict__.get("pooling_") == "mean":
            if hasattr(model, "module"):  # a DistributedDataParallel wrapper
                raise ValueError("pooling='mean' does not run under torchrun yet (its head bypasses the "
                                 "DistributedDataParallel forward); use pooling='cls' for data-parallel fits.")
            return _neural().mean_pooled_logits(model, batch)
        return model(**batch).logits

    def _outputs(self, X, desc="predict"):
        check_is_fitted(self, "model_")
        texts = check_texts(X)
        neural = _neural()
        # Streamed in chunks: token ids (and the tokenizer's per-text objects) exist for one chunk at
        # a time, so memory stays flat however many texts come in; batches are length-sorted per chunk.
        outputs = []
        for start in range(0, len(texts), _PREDICT_CHUNK):
            ids = neural.encode(self.tokenizer_, texts[start : start + _PREDICT_CHUNK], self.max_length_)
            outputs.append(neural.run_inference(
                self.model_,
                ids,
                forward=self._forward,
                batch_size=self.batch_size,
                device=self.device_,
                amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
                pad_id=self.tokenizer_.pad_token_id,
                verbose=self.verbose,
                desc=desc,
            ))
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=0)

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
            model, tokenizer = neural.unpack(packed, self._packed_task())
            self.device_ = neural.device_after_load(self.device_)
            self.model_ = model.to(self.device_)
            self.tokenizer_ = tokenizer

    def _packed_task(self):
        """The model class a pickle is rebuilt with (see ``neural.unpack``)."""
        return self._task

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
        if getattr(self, "compression_", None):
            raise ValueError(
                "save_pretrained writes a folder plain transformers can load; this model was compressed "
                f"({', '.join(step['step'] for step in self.compression_)}) into a form transformers cannot "
                "rebuild from its config. Save it with pickle or joblib, which keep the compression."
            )
        if self.__dict__.get("pooling_") == "mean":
            warnings.warn(
                "This model puts its head on mean-pooled tokens (pooling_='mean'); transformers' "
                "AutoModelForSequenceClassification and pipeline() apply the [CLS] pooler instead and "
                f"predict differently. Load the folder with {type(self).__name__}.from_pretrained, "
                "or fit with pooling='cls' for a folder plain transformers reproduces.",
                UserWarning,
                stacklevel=2,
            )
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
        est._set_fitted_meta(meta["fitted"])
        with neural.quiet_transformers(est.verbose):
            model, est.tokenizer_ = est._load_saved(neural, os.fspath(path))
        est.model_ = model.to(est.device_)
        est.model_.eval()
        return est

    def _load_saved(self, neural, path):
        """``(model, tokenizer)`` from a ``save_pretrained`` folder (fitted metadata already set)."""
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(path)
        head = {"num_labels": config.num_labels, "problem_type": config.problem_type, "id2label": config.id2label}
        return neural.load_backbone(path, self._task, **head), neural.load_tokenizer(path)


# Docstring entries of the checkpoint parameters every fine-tuned estimator has.
CHECKPOINT_DOC = """\
    checkpoint_dir : str, path-like or None, default=None
        Save the whole training state there after every epoch (one file,
        replaced each epoch), so an interrupted fit can continue.
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` when there is one (the
        result equals an uninterrupted fit with the same seed); a checkpoint of
        other data or settings is refused.
"""


def fill_checkpoint_doc(cls):
    """Put the checkpoint parameters' descriptions where ``cls``'s docstring says ``%CHECKPOINT%``."""
    cls.__doc__ = cls.__doc__.replace("    %CHECKPOINT%\n", CHECKPOINT_DOC)
    return cls


# The shared loop's settings: every fine-tuned estimator takes these parameters.
TRAINING_CONSTRAINTS = {
    "epochs": [Interval(numbers.Integral, 1, None)],
    "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
    "weight_decay": [Interval(numbers.Real, 0, None)],
    "warmup_ratio": [Interval(numbers.Real, 0, 1)],
    "gradient_accumulation_steps": [Interval(numbers.Integral, 1, None)],
    "max_grad_norm": [None, Interval(numbers.Real, 0, None, closed="neither")],
    "validation_fraction": [None, Interval(numbers.Real, 0, 1, closed="neither")],
    "early_stopping_patience": [None, Interval(numbers.Integral, 1, None)],
    "checkpoint_dir": [None, str, os.PathLike],
    "resume": ["boolean"],
    "random_state": ["random_state"],
}


def split_validation(n, validation_fraction, seed, stratify=None):
    """Train and validation row indices (validation None when ``validation_fraction`` is None)."""
    train_idx = np.arange(n)
    if validation_fraction is None:
        return train_idx, None
    try:
        return train_test_split(train_idx, test_size=validation_fraction, random_state=seed, stratify=stratify)
    except ValueError:  # a class too small to stratify
        return train_test_split(train_idx, test_size=validation_fraction, random_state=seed)


def training_kwargs(est, neural, device, pad_id, seed):
    """The keyword arguments of ``neural.train`` that come from ``est``'s parameters."""
    if est.resume and est.checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir: the folder a previous fit saved its epochs to.")
    return {
        "epochs": est.epochs,
        "batch_size": est.batch_size,
        "learning_rate": est.learning_rate,
        "weight_decay": est.weight_decay,
        "warmup_ratio": est.warmup_ratio,
        "gradient_accumulation_steps": est.gradient_accumulation_steps,
        "max_grad_norm": est.max_grad_norm,
        "device": device,
        "amp_dtype": neural.autocast_dtype(device, est.mixed_precision),
        "pad_id": pad_id,
        "seed": seed,
        "early_stopping_patience": est.early_stopping_patience,
        "verbose": est.verbose,
        "checkpoint_dir": None if est.checkpoint_dir is None else os.fspath(est.checkpoint_dir),
        "resume": est.resume,
    }


class _FineTunedBase(_TransformerBase):
    """Adds the training parameters and the one ``fit`` that calls the shared loop."""

    _parameter_constraints = {
        **_TransformerBase._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        "pooling": [Options(["cls", "mean", "auto"])],
        "head_init": [Options(["auto", "random", "probe"])],
    }

    def _fitted_meta(self):
        return {**super()._fitted_meta(), "pooling_": self.pooling_}

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.pooling_ = meta.get("pooling_", "cls")

    def _head_init(self):
        if self.head_init == "auto":
            return "probe" if self.pooling_ == "mean" else "random"
        if self.head_init == "probe" and self.pooling_ != "mean":
            raise ValueError(
                "head_init='probe' fits the linear head on mean-pooled features and needs mean pooling; "
                f"this fit uses pooling_={self.pooling_!r}. Set pooling='mean' or head_init='random'."
            )
        return self.head_init

    def _linear_probe(self, features, targets):
        """Weights ``(n_outputs, hidden)`` and bias of the head fitted on frozen features."""
        raise NotImplementedError

    def _fit_backbone(self, texts, targets, *, head, loss_fn, stratify=None, probe_targets=None):
        import torch

        neural = _neural()
        self._release()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = neural.resolve_device(self.device)
        with neural.seeded(seed, device):
            model, tokenizer = self._load_pretrained(neural, device, **head)
            self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
            self.pooling_ = neural.resolve_pooling(self.pooling, os.fspath(self.model), model)
            ids = neural.encode(tokenizer, texts, self.max_length_)
            targets = torch.as_tensor(targets)
            train_idx, val_idx = split_validation(len(ids), self.validation_fraction, seed, stratify)
            validation = None
            if val_idx is not None:
                validation = ([ids[i] for i in val_idx], targets[torch.as_tensor(val_idx)])
            train_ids, train_targets = [ids[i] for i in train_idx], targets[torch.as_tensor(train_idx)]
            if self._head_init() == "probe":
                # LP-FT (Kumar et al., 2022): a head fitted on the frozen features first, so the early
                # large gradients of a random head do not distort the pretrained encoder.
                features = neural.run_inference(
                    model, train_ids, forward=neural.mean_pooled_features, batch_size=self.batch_size,
                    device=device, amp_dtype=neural.autocast_dtype(device, self.mixed_precision),
                    pad_id=tokenizer.pad_token_id,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)  # a starting point, not the final head
                    probe = train_targets.numpy() if probe_targets is None else np.asarray(probe_targets)[train_idx]
                    neural.set_linear_head(model, *self._linear_probe(features, probe))
            self.history_ = neural.train(
                model,
                train_ids,
                train_targets,
                loss=lambda m, batch, target: loss_fn(self._forward(m, batch).float(), target),
                validation=validation,
                **training_kwargs(self, neural, device, tokenizer.pad_token_id, seed),
            )
        self.model_, self.tokenizer_, self.device_ = model, tokenizer, device
        return self
