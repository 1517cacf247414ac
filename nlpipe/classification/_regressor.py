"""TransformerRegressor."""

import numpy as np
from sklearn.base import RegressorMixin

from ..base import check_regression_targets, check_texts
from .._transformer import _FineTunedBase, fill_checkpoint_doc


@fill_checkpoint_doc
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
    %CHECKPOINT%
    pooling : {"cls", "mean", "auto"}, default="cls"
        What the head reads: "cls" is the architecture's own head ([CLS] pooler for
        BERT), as ``AutoModelForSequenceClassification`` and ``pipeline()`` run it;
        "mean" puts the linear head on the average of the token vectors (BERT-style
        heads only); "auto" is "mean" for sentence-transformers backbones, which
        were trained with mean pooling, and "cls" otherwise.
    head_init : {"auto", "random", "probe"}, default="auto"
        "probe" starts the linear head from a linear model fitted on the frozen
        mean-pooled features, then fine-tunes everything (LP-FT); it needs mean
        pooling and costs one extra forward pass over the training texts.
        "auto" probes when the pooling in use is "mean", else starts at random.
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
    pooling_ : {"cls", "mean"}
        The pooling in use.
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
        checkpoint_dir=None,
        resume=False,
        pooling="cls",
        head_init="auto",
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
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.pooling = pooling
        self.head_init = head_init
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

    def _linear_probe(self, features, targets):
        from sklearn.linear_model import Ridge

        probe = Ridge(alpha=1.0).fit(features, targets)
        return np.atleast_2d(probe.coef_), np.atleast_1d(probe.intercept_)

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
