"""What every transformer estimator shares: loading, batched inference, pickling, save/load.

Torch-free at import (``nlpipe.neural`` is imported inside methods), so ``from nlpipe import
TransformerClassifier`` costs nothing until ``fit``.
"""

import gc
import json
import logging
import numbers
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._version import __version__
from ..base import BaseTextEstimator, Interval, Options, check_texts, import_optional
from ..inference import OnnxModel


logger = logging.getLogger(__name__)

_META_FILE = "nlpipe.json"
# Texts tokenized at once by predict; more are streamed chunk by chunk.
_PREDICT_CHUNK = 4096


def import_neural():
    """``nlpipe.neural``, imported on first use; a missing torch/transformers names the extra to install.

    Returns
    -------
    neural : module
        :mod:`nlpipe.neural`.

    Examples
    --------
    >>> from nlpipe.finetune import import_neural
    >>> import_neural().__name__
    'nlpipe.neural'
    """
    return import_optional(
        "nlpipe.neural", extra="neural", what="Transformer estimators",
        requires=("torch", "transformers", "safetensors", "tokenizers"),
    )


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _stride(doc_stride, max_length, n_special):
    """``doc_stride``, at most half of a window's text tokens: windows must advance, and by a fair share."""
    return max(0, min(doc_stride, (max_length - n_special) // 2))


def _pool_windows(outputs, owners, n_texts, how):
    """One row per text: the mean or the maximum of its windows' rows."""
    if how == "mean":
        pooled = np.zeros((n_texts, outputs.shape[1]), dtype=np.float64)
        np.add.at(pooled, owners, outputs)
        pooled /= np.bincount(owners, minlength=n_texts)[:, None]
    else:
        pooled = np.full((n_texts, outputs.shape[1]), -np.inf)
        np.maximum.at(pooled, owners, outputs)
    return pooled.astype(np.float32)


class TransformerEstimator(BaseTextEstimator):
    """Base of the transformer estimators: loading, batched inference, pickling, save/load.

    Subclasses set ``_task`` (the head :func:`nlpipe.neural.load_backbone` puts on the
    backbone) and, for what they save, ``_fitted_meta``/``_set_fitted_meta``. Fitted
    state: ``model_``, ``tokenizer_``, ``device_``, ``max_length_``. Pickles hold the
    weights as safetensors bytes and load on a CPU-only machine.

    See Also
    --------
    FineTunedEstimator : adds the training parameters and the fit template.

    Examples
    --------
    >>> from nlpipe import TransformerEmbedder
    >>> from nlpipe.finetune import TransformerEstimator
    >>> issubclass(TransformerEmbedder, TransformerEstimator)
    True
    """

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
    def _reset(self):
        """Drop the fitted attributes and free the model's memory, so that refits do not grow the process."""
        had_model = "model_" in self.__dict__
        super()._reset()
        if had_model:  # a full collection costs ~0.3 s with transformers loaded: only when a model was dropped
            gc.collect()  # a transformers model holds reference cycles: dropping the attribute alone frees nothing
            torch = sys.modules.get("torch")
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()

    def _load_pretrained(self, neural, head=None):
        """``(model, tokenizer)`` of the ``model`` parameter, with the ``_task`` head configured by ``head``."""
        with neural.quiet_transformers(self.verbose):
            tokenizer = neural.load_tokenizer(os.fspath(self.model))
            model = neural.load_backbone(os.fspath(self.model), self._task, **(head or {}))
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        return model, tokenizer

    # ---------------------------------------------------------------- inference
    def _forward(self, model, batch):
        """The outputs ``_outputs`` collects: one row per text of ``batch``."""
        return model(**batch).logits

    def _windows(self):
        """``(pooling, doc_stride)`` to read long texts as windows whose outputs are pooled; None truncates."""
        return None

    def _outputs(self, X, desc="predict"):
        check_is_fitted(self, "model_")
        texts = check_texts(X)
        windows = self._windows()
        if isinstance(self.model_, OnnxModel):  # exported (nlpipe.compression.OnnxExporter): no torch from here on
            stride = None
            if windows is not None:  # the special tokens of an empty text: what each window spends on them
                stride = _stride(windows[1], self.max_length_, len(self.model_.encode([""], self.max_length_)[0][0]))
            ids, owners = self.model_.encode(texts, self.max_length_, stride=stride)
            out = self.model_.run(ids, batch_size=self.batch_size, verbose=self.verbose, desc=desc)
            return out if windows is None else _pool_windows(out, owners, len(texts), windows[0])
        neural = import_neural()
        if windows is not None:
            stride = _stride(windows[1], self.max_length_, self.tokenizer_.num_special_tokens_to_add())
        # Streamed in chunks: token ids (and the tokenizer's per-text objects) exist for one chunk at
        # a time, so memory stays flat however many texts come in; batches are length-sorted per chunk.
        outputs = []
        for start in range(0, len(texts), _PREDICT_CHUNK):
            chunk = texts[start : start + _PREDICT_CHUNK]
            if windows is None:
                ids = neural.encode(self.tokenizer_, chunk, self.max_length_)
            else:
                ids, owners = neural.encode_windows(self.tokenizer_, chunk, self.max_length_, stride)
            out = neural.run_inference(
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
            outputs.append(out if windows is None else _pool_windows(out, owners, len(chunk), windows[0]))
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=0)

    # -------------------------------------------------------------- persistence
    def __getstate__(self):
        state = super().__getstate__()
        if isinstance(state.get("model_"), OnnxModel):  # bytes and JSON already; the tokenizer is the model's
            state.pop("tokenizer_", None)
            return state
        model = state.pop("model_", None)
        tokenizer = state.pop("tokenizer_", None)
        if model is not None:
            # Bytes only: no CUDA tensor and no live tokenizer handle in the pickle.
            adapter = state.pop("lora_adapter_", None)
            if adapter is not None and state.get("lora_storage") == "adapter":
                # The LoRA adapter and head only; the base weights are loaded from where ``model`` names them.
                state["_packed"] = import_neural().pack(model, tokenizer, adapter=adapter, lora=state["lora_"],
                                                        base=os.fspath(state["model"]))
            else:
                state["_packed"] = import_neural().pack(model, tokenizer)
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        packed = state.pop("_packed", None)
        super().__setstate__(state)
        if isinstance(self.__dict__.get("model_"), OnnxModel):
            self.tokenizer_ = self.model_.tokenizer
        elif packed is not None:
            neural = import_neural()
            model, tokenizer = neural.unpack(packed, self._packed_task())
            if "lora" in packed:
                self.lora_adapter_ = packed["weights"]
            self.device_ = neural.device_after_load(self.device_)
            self.model_ = model.to(self.device_)
            self.tokenizer_ = tokenizer

    def _before_save(self):
        """Hook: refuse or warn before ``save_pretrained`` writes a folder."""

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
        self._before_save()
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
        neural = import_neural()
        est.device_ = neural.resolve_device(est.device)
        est._set_fitted_meta(meta["fitted"])
        with neural.quiet_transformers(est.verbose):
            model, est.tokenizer_ = est._load_saved(neural, os.fspath(path))
        est.model_ = model.to(est.device_)
        est.model_.eval()
        return est

    def _load_saved(self, neural, path):
        """``(model, tokenizer)`` from a ``save_pretrained`` folder (fitted metadata already set)."""
        return neural.load_backbone(path, self._task), neural.load_tokenizer(path)
