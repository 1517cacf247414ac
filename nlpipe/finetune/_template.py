"""The fit template of every fine-tuned estimator, and the one call into the training loop."""

import dataclasses
import numbers
import os

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ..base import Interval, Options, fit_context, store_params
from ._base import TransformerEstimator, import_neural
from ._docs import shared_parameters


@dataclasses.dataclass
class TrainingExamples:
    """What a fine-tuned estimator trains on, one row per example.

    Parameters
    ----------
    ids : list of list of int
        Token ids per example (special tokens included).
    targets : ndarray, torch.Tensor or list of list of int
        One row per example (class ids, label indicators, values), or token-label
        sequences (padded per batch with ``IGNORE_INDEX``).
    token_types : list of list of int or None, default=None
        Segment ids per example, for text pairs.
    stratify : array-like or None, default=None
        Labels the validation split keeps the proportions of.
    aux : ndarray or None, default=None
        Per-row values that follow the split into ``_before_training`` (e.g. the
        labels a linear-probe head is fitted on).
    ordered : bool, default=False
        Train on the rows in their order, ``batch_size`` at a time, instead of
        shuffled length-grouped batches (the rows were arranged for an in-batch loss).

    Examples
    --------
    >>> import numpy as np
    >>> from nlpipe.finetune import TrainingExamples
    >>> examples = TrainingExamples(ids=[[1, 5], [1, 6], [1, 7]], targets=np.array([0, 1, 0]))
    >>> examples.subset([2, 0]).ids, examples.subset([2, 0]).targets.tolist()
    ([[1, 7], [1, 5]], [0, 0])
    """

    ids: list
    targets: object
    token_types: list = None
    stratify: object = None
    aux: object = None
    ordered: bool = False

    def __len__(self):
        return len(self.ids)

    def subset(self, idx):
        """The examples at positions ``idx``.

        Parameters
        ----------
        idx : array-like of int
            Row positions.

        Returns
        -------
        examples : TrainingExamples
        """
        idx = np.asarray(idx, dtype=np.int64)

        def rows(values):
            if values is None:
                return None
            if isinstance(values, list):
                return [values[i] for i in idx]
            if type(values).__module__.startswith("torch"):
                import torch

                return values[torch.as_tensor(idx)]
            return np.asarray(values)[idx]

        return TrainingExamples(rows(self.ids), rows(self.targets), rows(self.token_types), None, rows(self.aux),
                                self.ordered)


def draw_seed(random_state):
    """The int seed of one fit or one sampling call, drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        The estimator's parameter.

    Returns
    -------
    seed : int

    Examples
    --------
    >>> from nlpipe.finetune import draw_seed
    >>> draw_seed(0) == draw_seed(0)
    True
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def split_validation(n, validation_fraction, seed, stratify=None):
    """Train and validation row indices (validation None when ``validation_fraction`` is None)."""
    train_idx = np.arange(n)
    if validation_fraction is None:
        return train_idx, None
    try:
        return train_test_split(train_idx, test_size=validation_fraction, random_state=seed, stratify=stratify)
    except ValueError:  # a class too small to stratify
        return train_test_split(train_idx, test_size=validation_fraction, random_state=seed)


@shared_parameters
class FineTunedEstimator(TransformerEstimator):
    """Base of the estimators that fine-tune a pretrained transformer: the training parameters and ``fit``.

    ``fit`` is a template. Its ``fit_context`` releases the previous model
    (``_reset``); it validates the parameters, draws the seed from
    ``random_state``, chooses the device, and calls four hooks in order:

    1. ``_validate_data(X, y) -> data``: check the inputs before anything is
       loaded, and set what is learned from the targets alone (``classes_``);
    2. ``_build_model(neural, data) -> (model, tokenizer)``: the pretrained
       backbone with its task head (``neural`` is :mod:`nlpipe.neural`);
    3. ``_training_examples(neural, data) -> TrainingExamples or None``: token ids
       and targets; None loads without training (zero-shot);
    4. ``_loss(neural, data) -> callable``: ``loss(model, batch, target)``, a scalar.

    Then it splits off the validation rows (``validation_fraction``), calls the
    optional ``_before_training(neural, train_examples)`` (e.g. a linear-probe head),
    runs :func:`nlpipe.neural.train` once, with checkpointing and resuming, and
    calls the optional ``_after_training(neural, data, seed)`` (e.g. a head fitted
    on the trained encoder).
    A failed or interrupted ``fit`` leaves the estimator unfitted.

    ``__init__`` takes the training and runtime parameters below; a subclass's
    ``__init__`` takes its own and forwards the rest (``**params``), and the
    :func:`shared_parameters` decorator gives it the full signature.

    Parameters
    ----------
    %TRAINING%

    See Also
    --------
    TransformerEstimator : loading, inference, pickling, save/load.
    TrainingExamples : what ``_training_examples`` returns.

    Examples
    --------
    >>> from nlpipe import TransformerClassifier, TextGenerator
    >>> from nlpipe.finetune import FineTunedEstimator
    >>> issubclass(TransformerClassifier, FineTunedEstimator), issubclass(TextGenerator, FineTunedEstimator)
    (True, True)
    """

    _parameter_constraints = {
        **TransformerEstimator._parameter_constraints,
        "epochs": [Interval(numbers.Integral, 0, None)],
        "learning_rate": [Options(["auto"]), Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None)],
        "warmup_ratio": [Interval(numbers.Real, 0, 1)],
        "gradient_accumulation_steps": [Interval(numbers.Integral, 1, None)],
        "max_grad_norm": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "lora": [None, Interval(numbers.Integral, 1, None), dict],
        "lora_storage": [Options(["merged", "adapter"])],
        "activation_checkpointing": ["boolean"],
        "strategy": [Options(["ddp", "fsdp", "fsdp-offload"])],
        "validation_fraction": [None, Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping_patience": [None, Interval(numbers.Integral, 1, None)],
        "checkpoint_dir": [None, str, os.PathLike],
        "resume": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        max_length=None,
        batch_size=32,
        epochs=3,
        learning_rate="auto",
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        lora=None,
        lora_storage="merged",
        activation_checkpointing=False,
        validation_fraction=None,
        early_stopping_patience=None,
        checkpoint_dir=None,
        resume=False,
        strategy="ddp",
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        store_params(self, locals())

    @fit_context
    def fit(self, X, y=None):
        """Load the pretrained model and fine-tune it on ``X`` and ``y``.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame of str, or questions with passages
            Training inputs: texts, or for question answering a DataFrame with
            ``question`` and ``context`` columns (see the class docstring).
        y : array-like, list or None, default=None
            Targets as the class docstring describes them: labels, numbers,
            reference texts or answers. Estimators that can run zero-shot (text
            to text, question answering) load without training when it is None.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir: the folder a previous fit saved its epochs to.")
        if self.lora_storage == "adapter" and self.lora is None:
            raise ValueError("lora_storage='adapter' stores a LoRA adapter: set lora (a rank or LoraConfig arguments).")
        data = self._validate_data(X, y)
        neural = import_neural()
        seed = draw_seed(self.random_state)
        device = neural.resolve_device(self.device)
        with neural.seeded(seed, device):
            model, tokenizer = self._build_model(neural, data)
            self.model_, self.tokenizer_, self.device_ = model.to(device), tokenizer, device
            self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
            self.history_, self.lora_, self.lora_adapter_ = [], None, None
            examples = self._training_examples(neural, data)
            if examples is not None:
                self._train(neural, examples, self._loss(neural, data), seed)
            self._after_training(neural, data, seed)
        return self

    # ------------------------------------------------------------------ hooks
    def _validate_data(self, X, y):
        """Hook: check ``X`` and ``y`` before any model is loaded; returns what the other hooks need."""
        raise NotImplementedError

    def _build_model(self, neural, data):
        """Hook: ``(model, tokenizer)``, the pretrained backbone with the task's head."""
        raise NotImplementedError

    def _training_examples(self, neural, data):
        """Hook: the :class:`TrainingExamples` to train on, or None to keep the pretrained weights."""
        raise NotImplementedError

    def _loss(self, neural, data):
        """Hook: ``loss(model, batch, target) -> scalar tensor`` of one batch."""
        raise NotImplementedError

    def _before_training(self, neural, examples):
        """Hook: runs on the training rows (validation rows split off) before the loop; nothing by default."""

    def _after_training(self, neural, data, seed):
        """Hook: runs once the loop is done (e.g. a head fitted on the trained encoder); nothing by default."""

    # ------------------------------------------------------------------- loop
    def _train(self, neural, examples, loss, seed, *, epochs=None):
        """Split off the validation rows and run the loop; its per-epoch records extend ``history_``."""
        if not isinstance(examples.targets, list):
            import torch

            examples.targets = torch.as_tensor(examples.targets)
        train_idx, val_idx = split_validation(len(examples), self.validation_fraction, seed, examples.stratify)
        if val_idx is not None and examples.ordered:
            train_idx = np.sort(train_idx)  # keep the arranged order
        train = examples.subset(train_idx)
        validation = None
        if val_idx is not None:
            held_out = examples.subset(val_idx)
            validation = (held_out.ids, held_out.targets, held_out.token_types)
        self._before_training(neural, train)
        epochs = self.epochs if epochs is None else epochs
        if epochs == 0:
            return
        wrapped = None
        if self.lora is not None and self.strategy != "ddp":
            raise ValueError("lora with strategy='fsdp' is not supported yet; use strategy='ddp' (the adapters are "
                             "small, so replicas are cheap).")
        if self.lora is not None:  # adapters in the backbone's layers; the model object stays the same
            if self.lora_storage == "adapter":
                if self.lora_adapter_ is not None:
                    raise ValueError(f"{type(self).__name__} trains in more than one phase; lora_storage='adapter' "
                                     "stores one adapter on the pretrained base. Use lora_storage='merged'.")
                base = neural.backbone_sha256(self.model_)
            wrapped, self.lora_ = neural.add_lora(self.model_, self.lora)
        self.learning_rate_ = (neural.auto_learning_rate(self.model_, lora=self.lora is not None)
                               if self.learning_rate == "auto" else float(self.learning_rate))
        config = neural.TrainingConfig(
            epochs=epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate_,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            max_grad_norm=self.max_grad_norm,
            early_stopping_patience=self.early_stopping_patience,
            checkpoint_dir=None if self.checkpoint_dir is None else os.fspath(self.checkpoint_dir),
            resume=self.resume,
            seed=seed,
            strategy=self.strategy,
            activation_checkpointing=self.activation_checkpointing,
        )
        self.history_ += neural.train(
            self.model_,
            train.ids,
            train.targets,
            loss=loss,
            config=config,
            device=self.device_,
            pad_id=self.tokenizer_.pad_token_id,
            amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
            validation=validation,
            token_types=train.token_types,
            verbose=self.verbose,
            shuffle=not train.ordered,
        )
        # Under torchrun with strategy="fsdp" the loop sharded the model: every process gets it back whole.
        self.model_ = neural.unshard(self.model_).to(self.device_)
        if wrapped is not None:
            if self.lora_storage == "adapter":  # pickles then hold the adapter and a reference to the base
                self.lora_adapter_ = neural.adapter_bytes(wrapped)
                self.lora_["base_sha256"] = base
            self.model_ = neural.merge_lora(wrapped)

    def _fitted_meta(self):
        return {**super()._fitted_meta(), "lora_": getattr(self, "lora_", None)}

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.history_ = []
        self.lora_ = meta.get("lora_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
