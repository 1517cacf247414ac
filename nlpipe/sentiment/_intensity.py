"""Feeling intensity: a regressor in [0, 1] and ordinal levels on top of it."""

import numbers

import numpy as np
from sklearn.base import RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..base import (
    BaseTextEstimator,
    HasMethods,
    Interval,
    NgramRange,
    Options,
    check_classification_targets,
    check_regression_targets,
    check_texts,
    fit_context,
    parameter_docs,
    store_params,
)
from ._lexicon import LexiconFeatures, _fit_thresholds, _ThresholdClassifier
from ._preprocess import SocialTextNormalizer


class IntensityRegressor(RegressorMixin, BaseTextEstimator):
    """Predict how strong a feeling is, in [0, 1]: word and character n-grams and lexicon scores under ridge.

    Word n-grams, character n-grams and :class:`LexiconFeatures` are stacked under
    a ridge head (texts are lower-cased, and user mentions and URLs replaced by
    placeholders, so no single handle is learned). ``y`` may have one column per
    emotion (multi-output). ``score`` is Pearson r, the EmoInt/SemEval metric.

    Given a ``transformer`` (a :class:`~nlpipe.TransformerRegressor`), it is an
    ensemble: both models are fitted on the same data and their predictions
    averaged, ``transformer_weight`` on the transformer's. On EmoInt-2017 dev the
    ensemble scores above either model alone (docs/sentiment.md); without one,
    the model fits in seconds and needs no torch.

    Parameters
    ----------
    alpha : float, default=0.1
        Ridge regularization.
    word_ngram_range : tuple (min_n, max_n), default=(1, 2)
        Word n-grams.
    char_ngram_range : tuple (min_n, max_n) or None, default=(1, 4)
        Character n-grams within word boundaries; None leaves them out.
    lexicon : {"vader", "nrc", "both"} or None, default="vader"
        Stack the standardized :class:`LexiconFeatures` with this lexicon, or none.
        "nrc" adds per-emotion word counts from the NRC Emotion Lexicon (free for
        research; commercial use needs its authors' license).
    clip : bool, default=True
        Clip predictions to [0, 1] (the ensemble's average, with a ``transformer``).
    transformer : regressor or None, default=None
        A text regressor to ensemble with, usually
        ``TransformerRegressor(model=...)``; a clone of it is fitted on the same
        ``X`` and ``y``. None: the TF-IDF model alone.
    transformer_weight : float in [0, 1], default=0.6
        The transformer's share of the averaged prediction (the TF-IDF model
        gets the rest); used only with a ``transformer``. 0.6 scored best over
        EmoInt-2017 and SemEval-2018 dev together (docs/sentiment.md).

    Attributes
    ----------
    estimator_ : sklearn.pipeline.Pipeline
        The fitted features and ridge.
    transformer_ : estimator or None
        The fitted clone of ``transformer``; None without one.
    n_outputs_ : int
        Number of targets per text.

    See Also
    --------
    TransformerRegressor : a fine-tuned transformer regressor, alone or in the ensemble.
    LexiconFeatures : the lexicon features it stacks.

    Examples
    --------
    >>> from nlpipe import IntensityRegressor
    >>> X = ["a bit annoyed", "very angry", "furious!!! so ANGRY", "slightly irritated", "calm", "rage"]
    >>> y = [0.3, 0.7, 0.95, 0.25, 0.05, 0.9]
    >>> reg = IntensityRegressor(alpha=0.1).fit(X, y)
    >>> pred = reg.predict(["so angry", "calm"])
    >>> bool(pred[0] > pred[1]) and bool(((pred >= 0) & (pred <= 1)).all())
    True

    The ensemble with a fine-tuned transformer (here a tiny local one; in use,
    ``TransformerRegressor(model="sentence-transformers/all-MiniLM-L6-v2")`` or a
    local folder):

    >>> from nlpipe import TransformerRegressor
    >>> from nlpipe.testing import make_tiny_backbone
    >>> neural = TransformerRegressor(model=make_tiny_backbone(), epochs=2, random_state=0, verbose=0)
    >>> ens = IntensityRegressor(transformer=neural).fit(X, y)
    >>> expected = 0.6 * ens.transformer_.predict(X) + 0.4 * ens.estimator_.predict(X)
    >>> bool(np.allclose(ens.predict(X), np.clip(expected, 0, 1)))
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
        "word_ngram_range": [NgramRange()],
        "char_ngram_range": [None, NgramRange()],
        "lexicon": [None, Options(["vader", "nrc", "both"])],
        "clip": ["boolean"],
        "transformer": [None, HasMethods(["fit", "predict"])],
        "transformer_weight": [Interval(numbers.Real, 0, 1)],
    }

    def __init__(self, *, alpha=0.1, word_ngram_range=(1, 2), char_ngram_range=(1, 4), lexicon="vader", clip=True,
                 transformer=None, transformer_weight=0.6):
        store_params(self, locals())

    def _tfidf_pipeline(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import FeatureUnion, make_pipeline
        from sklearn.preprocessing import StandardScaler

        parts = [("word", TfidfVectorizer(ngram_range=self.word_ngram_range, sublinear_tf=True,
                                          preprocessor=SocialTextNormalizer()))]
        if self.char_ngram_range is not None:
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngram_range,
                                                  sublinear_tf=True, min_df=2, preprocessor=SocialTextNormalizer())))
        if self.lexicon is not None:
            parts.append(("lexicon", make_pipeline(LexiconFeatures(lexicon=self.lexicon), StandardScaler())))
        return make_pipeline(FeatureUnion(parts), Ridge(alpha=self.alpha))

    @fit_context
    @parameter_docs(y="intensities")
    def fit(self, X, y):
        """Fit the features and the ridge head, and the ``transformer`` if there is one."""
        texts = check_texts(X)
        Y, self._y_1d = check_regression_targets(y, len(texts))
        self.n_outputs_ = Y.shape[1]
        target = Y[:, 0] if self._y_1d else Y
        self.estimator_ = self._tfidf_pipeline().fit(texts, target)
        self.transformer_ = None if self.transformer is None else clone(self.transformer).fit(texts, target)
        return self

    @parameter_docs
    def predict(self, X):
        """Predict intensities.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            In [0, 1] when ``clip``.
        """
        check_is_fitted(self, "estimator_")
        texts = check_texts(X)
        pred = np.asarray(self.estimator_.predict(texts), dtype=np.float64)
        neural = getattr(self, "transformer_", None)  # None also for a model pickled before the ensemble existed
        if neural is not None:
            other = np.asarray(neural.predict(texts), dtype=np.float64).reshape(pred.shape)
            pred = self.transformer_weight * other + (1.0 - self.transformer_weight) * pred
        return np.clip(pred, 0.0, 1.0) if self.clip else pred

    @parameter_docs
    def score(self, X, y, sample_weight=None):
        """Pearson r between predictions and ``y`` (mean over outputs).

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True intensities.

        Returns
        -------
        r : float
        """
        from ..metrics import pearson_r

        if sample_weight is not None:
            raise ValueError("IntensityRegressor.score does not support sample_weight.")
        pred = self.predict(X)
        Y, _ = check_regression_targets(y, len(pred))
        return pearson_r(Y[:, 0] if pred.ndim == 1 else Y, pred)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class IntensityClassifier(_ThresholdClassifier):
    """Ordinal intensity levels ("none" < "low" < "moderate" < "high") from a regressor's output.

    The levels are mapped to evenly spaced targets in [0, 1], ``regressor`` is
    fitted on them, and thresholds between the levels are learned on its
    cross-validated predictions (so they are not fitted to training-set
    optimism), then the regressor is refitted on all data.

    Parameters
    ----------
    levels : list or None, default=None
        The labels from lowest to highest; None sorts the labels of ``y``
        (ints sort numerically).
    regressor : estimator or None, default=None
        A text regressor; None uses ``IntensityRegressor(clip=False)``.
    cv : int, default=3
        Folds for the out-of-fold predictions the thresholds are learned on.
    C : float, default=100.0
        Inverse regularization of the threshold model.
    random_state : int, RandomState instance or None, default=None
        Shuffles the cross-validation folds (an int gives the same thresholds
        on every fit).

    Attributes
    ----------
    classes_ : ndarray
        The levels, lowest first.
    regressor_ : estimator
        The fitted regressor.
    estimator_ : sklearn.linear_model.LogisticRegression
        The threshold model on the regressor's output.
    thresholds_ : ndarray
        Regressor outputs where the predicted level changes, ascending.

    See Also
    --------
    IntensityRegressor : the default regressor.

    Examples
    --------
    >>> from nlpipe import IntensityClassifier
    >>> X = ["calm", "a bit annoyed", "angry", "furious!!!", "fine", "slightly irritated", "mad", "enraged"] * 2
    >>> y = ["none", "low", "moderate", "high"] * 4
    >>> clf = IntensityClassifier(levels=["none", "low", "moderate", "high"], random_state=0).fit(X, y)
    >>> clf.classes_.tolist()
    ['none', 'low', 'moderate', 'high']
    """

    _parameter_constraints = {
        "levels": [None, list, tuple],
        "regressor": [None, HasMethods(["fit", "predict"])],
        "cv": [Interval(numbers.Integral, 2, None)],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, levels=None, regressor=None, cv=3, C=100.0, random_state=None):
        store_params(self, locals())

    @fit_context
    @parameter_docs
    def fit(self, X, y):
        """Fit the regressor and the thresholds.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Levels.
        """
        from sklearn.model_selection import KFold, cross_val_predict

        texts = check_texts(X)
        y, _ = check_classification_targets(y, len(texts), multilabel=False)
        seen = np.unique(y)
        levels = np.asarray(self.levels if self.levels is not None else seen)
        unknown = set(seen.tolist()) - set(levels.tolist())
        if unknown:
            raise ValueError(f"y holds labels missing from levels: {sorted(unknown, key=str)[:5]}")
        rank = {lab: i for i, lab in enumerate(levels.tolist())}
        target = np.array([rank[v] for v in y.tolist()], dtype=np.float64) / max(len(levels) - 1, 1)
        base = clone(self.regressor) if self.regressor is not None else IntensityRegressor(clip=False)
        folds = KFold(n_splits=min(self.cv, len(texts)), shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(base, texts, target, cv=folds)
        order_labels = np.array([rank[v] for v in y.tolist()])
        self.estimator_, self.thresholds_ = _fit_thresholds(
            oof, order_labels, C=self.C, class_weight=None, span=(min(oof.min(), 0.0), max(oof.max(), 1.0))
        )
        self.regressor_ = clone(base).fit(texts, target)
        self.classes_ = levels
        return self

    @parameter_docs
    def decision_function(self, X):
        """The regressor's output (higher means a stronger level).

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "regressor_")
        return np.asarray(self.regressor_.predict(check_texts(X)), dtype=np.float64)
