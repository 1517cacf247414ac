"""TransformerEmbedder."""

import os

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..base import Options, check_texts, fit_context, parameter_docs, store_params
from ..finetune import TransformerEstimator, import_neural, shared_parameters


@shared_parameters
class TransformerEmbedder(TransformerMixin, TransformerEstimator):
    """Sentence embeddings from a frozen transformer encoder, as a scikit-learn transformer.

    ``fit`` loads the encoder; ``transform`` embeds texts in length-sorted
    batches. ``make_pipeline(TransformerEmbedder(model=...), LogisticRegression())``
    is a frozen-encoder baseline.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        Hub id or local folder of a pretrained encoder.
    pooling : {"cls", "mean", "auto"}, default="mean"
        Average of the token states (padding excluded), the first token's state,
        or "auto": "mean" for sentence-transformers backbones (trained that way),
        "cls" otherwise.
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
    %FITTED%
    n_features_out_ : int
        Embedding size.
    pooling_ : {"cls", "mean"}
        The pooling in use.

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
        **TransformerEstimator._parameter_constraints,
        "pooling": [Options(["cls", "mean", "auto"])],
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
        store_params(self, locals())

    @fit_context
    @parameter_docs(X="Texts (validated only).")
    def fit(self, X, y=None):
        """Load the encoder (nothing is trained)."""
        check_texts(X)
        neural = import_neural()
        self.device_ = neural.resolve_device(self.device)
        model, tokenizer = self._load_pretrained(neural)
        model.to(self.device_).eval()
        self.model_, self.tokenizer_ = model, tokenizer
        self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
        self.pooling_ = neural.pretrained_pooling(os.fspath(self.model)) if self.pooling == "auto" else self.pooling
        self.n_features_out_ = int(model.config.hidden_size)
        return self

    def _forward(self, model, batch):
        hidden = model(**batch).last_hidden_state
        if self.__dict__.get("pooling_", self.pooling) == "cls":  # pickles before 0.x have no pooling_
            return hidden[:, 0]
        return import_neural().mean_pool(hidden, batch["attention_mask"])

    @parameter_docs
    def transform(self, X):
        """Embed texts.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_), float32
        """
        E = self._outputs(X, desc="embed")
        if self.normalize:
            E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
        return E

    @parameter_docs
    def get_feature_names_out(self, input_features=None):
        """Names of the embedding dimensions (``embedding0``, ``embedding1``, ...)."""
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def _fitted_meta(self):
        return {**super()._fitted_meta(), "n_features_out_": self.n_features_out_, "pooling_": self.pooling_}

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.n_features_out_ = meta["n_features_out_"]
        self.pooling_ = meta.get("pooling_", self.pooling)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags
