"""TransformerRegressor."""

import numpy as np
from sklearn.base import RegressorMixin

from ..base import check_regression_targets, check_texts, parameter_docs, store_params
from ._head import _HeadData, _head_params, _PooledHeadEstimator


@_head_params
class TransformerRegressor(RegressorMixin, _PooledHeadEstimator):
    """Fine-tune a pretrained transformer to predict one or several numbers per text.

    Targets are standardized for training and mapped back for prediction, so
    any scale of ``y`` trains the same. This is the core of nlpipe's
    sentiment-intensity models.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-uncased"
        Hub id or local folder of a pretrained backbone.
    %HEAD%
    %TRAINING%

    Attributes
    ----------
    %FITTED%
    %TRAINED%
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

    def __init__(self, *, model="distilbert-base-uncased", pooling="cls", head_init="auto", long_texts="truncate",
                 doc_stride=128, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _validate_data(self, X, y):
        import torch

        texts = check_texts(X)
        Y, self._y_1d = check_regression_targets(y, len(texts))
        self.n_outputs_ = Y.shape[1]
        self.y_mean_ = Y.mean(axis=0)
        scale = Y.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        targets = ((Y - self.y_mean_) / self.y_scale_).astype(np.float32)
        return _HeadData(texts, targets, {"num_labels": self.n_outputs_, "problem_type": "regression"},
                         torch.nn.MSELoss())

    @parameter_docs
    def predict(self, X):
        """Predict targets.

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
        return tags
