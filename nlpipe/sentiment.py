"""Lexicon sentiment as scikit-learn estimators: VADER scores that learn their thresholds.

VADER (Hutto & Gilbert, 2014; the ``vaderSentiment`` package, MIT) handles negation,
intensifiers ("very"), capitals, punctuation emphasis and emoji. nlpipe adds what
an estimator needs: scores that do not saturate on long texts (each sentence is
scored and the compound scores are averaged), thresholds learned from labelled
data, and surface-cue features to stack with TF-IDF.
"""

import functools
import numbers
import os
import re

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .base import (
    BaseTextEstimator,
    HasMethods,
    Interval,
    NgramRange,
    Options,
    check_classification_targets,
    check_regression_targets,
    check_texts,
)
from .exceptions import MissingExtraError

__all__ = [
    "IntensityClassifier",
    "IntensityRegressor",
    "LexiconFeatures",
    "LexiconSentiment",
    "SentimentClassifier",
    "mark_negation",
]

# Sentence ends: VADER's compound squashes the sum of a text's word valences with
# x / sqrt(x^2 + 15), so a long text tends to +-1 whatever its balance; per-sentence
# scores keep the scale of one sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_EMOTICON = re.compile(r"(?:[:;=8xX][-o*'^]?[)(\]\[dDpP/\\|@{}3*$]|<3|\^_*\^|[)(\]\[dDpP/\\|@{}]+[-o*'^]?[:;=8])(?=\s|$|[.,!?])")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_NEGATION_EXTRA = ("n't", "no", "nor", "nobody", "nothing", "nowhere", "none", "never", "without")


@functools.lru_cache(maxsize=1)
def _analyzer():
    try:
        from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer
    except ImportError as exc:
        raise MissingExtraError(
            "Lexicon sentiment needs the vaderSentiment package. Install the extra: "
            "pip install 'nlpipe[sentiment]'"
        ) from exc
    negations = frozenset(w.lower() for w in NEGATE) | frozenset(_NEGATION_EXTRA)
    return SentimentIntensityAnalyzer(), negations


def _sentences(text):
    parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
    return parts or [text]


def _scores(analyzer, text):
    """Mean VADER scores (neg, neu, pos, compound) over the text's sentences."""
    rows = [analyzer.polarity_scores(s) for s in _sentences(text)]
    return [sum(r[k] for r in rows) / len(rows) for k in ("neg", "neu", "pos", "compound")]


def _fit_thresholds(score, y, *, C, class_weight, span):
    """Learn where the labels change along a 1-D score: a one-feature multinomial logistic model.

    On one feature the predicted classes form intervals, so the model is a set of
    thresholds with calibrated probabilities around them, and ``predict`` is the
    arg-max of ``predict_proba`` by construction.
    """
    model = LogisticRegression(C=C, class_weight=class_weight).fit(np.asarray(score)[:, None], y)
    grid = np.linspace(span[0], span[1], 2001)[:, None]
    pred = model.predict(grid)
    return model, grid[1:, 0][pred[1:] != pred[:-1]]


class LexiconSentiment(ClassifierMixin, BaseTextEstimator):
    """VADER lexicon-and-rule sentiment whose decision thresholds are learned from labels.

    ``decision_function`` is the compound score in [-1, 1] (mean over sentences, so
    long texts do not saturate). ``fit`` learns where the classes change along
    that score with a one-feature multinomial logistic regression, so the lexicon
    competes fairly with trained models in ``cross_val_score``: binary, three-way
    (neg/neu/pos) or any ordered labels.

    Parameters
    ----------
    C : float, default=100.0
        Inverse regularization of the threshold model; large means the thresholds
        follow the data.
    class_weight : dict, "balanced" or None, default=None
        Class weights for learning the thresholds.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    estimator_ : sklearn.linear_model.LogisticRegression
        The threshold model on the compound score.
    thresholds_ : ndarray
        Compound scores where the predicted class changes, ascending.

    See Also
    --------
    LexiconFeatures : the lexicon scores and surface cues as features.

    Examples
    --------
    >>> from nlpipe import LexiconSentiment
    >>> X = ["I love it", "great, really good", "awful", "I hate this", "it is ok", "fine I guess"]
    >>> y = ["pos", "pos", "neg", "neg", "pos", "pos"]
    >>> clf = LexiconSentiment().fit(X, y)
    >>> clf.predict(["what a wonderful day", "this is terrible"]).tolist()
    ['pos', 'neg']
    >>> float(clf.decision_function(["not good"])[0]) < 0
    True

    Without labels, :class:`LexiconFeatures` gives the scores (column ``compound``).
    """

    _parameter_constraints = {
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "class_weight": [None, dict, Options(["balanced"])],
    }

    def __init__(self, *, C=100.0, class_weight=None):
        self.C = C
        self.class_weight = class_weight

    @staticmethod
    def _compound(texts):
        analyzer, _ = _analyzer()
        return np.array([_scores(analyzer, t)[3] for t in texts])

    def fit(self, X, y):
        """Learn the decision thresholds on the compound score.

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like of shape (n_samples,)
            Labels (str or int).

        Returns
        -------
        self : LexiconSentiment
        """
        self._validate_params()
        texts = check_texts(X)
        y, kind = check_classification_targets(y, len(texts))
        if kind != "single":
            raise ValueError("LexiconSentiment takes one label per text, not multilabel y.")
        self.estimator_, self.thresholds_ = _fit_thresholds(
            self._compound(texts), y, C=self.C, class_weight=self.class_weight, span=(-1.0, 1.0)
        )
        self.classes_ = self.estimator_.classes_
        return self

    def decision_function(self, X):
        """The compound sentiment score, mean over sentences.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        compound : ndarray of shape (n_samples,)
            In [-1, 1]; negative is negative sentiment, whatever the labels.
        """
        check_is_fitted(self, "estimator_")
        return self._compound(check_texts(X))

    def predict_proba(self, X):
        """Class probabilities from the threshold model.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        score = self.decision_function(X)
        return self.estimator_.predict_proba(score[:, None])

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class LexiconFeatures(TransformerMixin, BaseTextEstimator):
    """Lexicon scores and surface cues as numeric features, to stack with TF-IDF.

    Columns: VADER ``compound``, ``pos``, ``neg``, ``neu`` (means over sentences),
    ``exclamations``, ``questions``, ``caps_ratio`` (share of all-caps words of 2+
    letters), ``emoji``, ``emoticons`` and ``negations`` counts. Counts are
    ``log1p``-scaled when ``log_counts`` (keeps long texts in range).

    Parameters
    ----------
    log_counts : bool, default=True
        Apply ``log1p`` to the count columns.

    Attributes
    ----------
    n_features_out_ : int
        Number of columns (10).

    See Also
    --------
    LexiconSentiment : the compound score with learned thresholds.

    Examples
    --------
    >>> from nlpipe import LexiconFeatures
    >>> feats = LexiconFeatures(log_counts=False).fit(["x"])
    >>> row = feats.transform(["NOT good at all!! :("])[0]
    >>> dict(zip(feats.get_feature_names_out()[4:], row[4:].tolist()))
    {'exclamations': 2.0, 'questions': 0.0, 'caps_ratio': 0.25, 'emoji': 0.0, 'emoticons': 1.0, 'negations': 1.0}
    """

    _parameter_constraints = {"log_counts": ["boolean"]}
    _NAMES = ("compound", "pos", "neg", "neu", "exclamations", "questions", "caps_ratio", "emoji", "emoticons", "negations")
    _COUNTS = (4, 5, 7, 8, 9)

    def __init__(self, *, log_counts=True):
        self.log_counts = log_counts

    def fit(self, X, y=None):
        """Check the lexicon is available; nothing is learned.

        Parameters
        ----------
        X : list of str
            Texts (validated only).
        y : None
            Ignored.

        Returns
        -------
        self : LexiconFeatures
        """
        self._validate_params()
        check_texts(X)
        _analyzer()
        self.n_features_out_ = len(self._NAMES)
        return self

    def transform(self, X):
        """Compute the features.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        features : ndarray of shape (n_samples, 10)
        """
        check_is_fitted(self, "n_features_out_")
        texts = check_texts(X)
        analyzer, negations = _analyzer()
        emojis = analyzer.emojis
        out = np.empty((len(texts), len(self._NAMES)))
        for i, text in enumerate(texts):
            neg, neu, pos, compound = _scores(analyzer, text)
            words = _WORD.findall(text)
            long_words = [w for w in words if len(w) > 1]
            caps = sum(w.isupper() for w in long_words) / len(long_words) if long_words else 0.0
            lowered = [w.lower() for w in words]
            n_neg = sum(w in negations or w.endswith("n't") for w in lowered)
            out[i] = (
                compound, pos, neg, neu,
                text.count("!"), text.count("?"), caps,
                sum(ch in emojis for ch in text), len(_EMOTICON.findall(text)), n_neg,
            )
        if self.log_counts:
            out[:, self._COUNTS] = np.log1p(out[:, self._COUNTS])
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the feature columns.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        return np.asarray(self._NAMES, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


# The parameters a sentiment estimator forwards to its transformer backend.
_TRANSFORMER_PARAMS = ("model", "epochs", "learning_rate", "batch_size", "max_length", "device", "random_state", "verbose")


def _transformer_params(est):
    return {name: getattr(est, name) for name in _TRANSFORMER_PARAMS}


class IntensityRegressor(RegressorMixin, BaseTextEstimator):
    """Predict how strong a feeling is, in [0, 1], with a TF-IDF or a transformer backend.

    ``backend="tfidf"`` stacks word n-grams, character n-grams and
    :class:`LexiconFeatures` under a ridge head; ``backend="transformer"``
    fine-tunes :class:`~nlpipe.TransformerRegressor`. ``y`` may have one column
    per emotion (multi-output). ``score`` is Pearson r, the EmoInt/SemEval metric.

    Parameters
    ----------
    backend : {"tfidf", "transformer"}, default="tfidf"
        The model family.
    alpha : float, default=1.0
        Ridge regularization (tfidf backend).
    word_ngram_range : tuple (min_n, max_n), default=(1, 2)
        Word n-grams (tfidf backend).
    char_ngram_range : tuple (min_n, max_n) or None, default=(2, 5)
        Character n-grams within word boundaries; None leaves them out (tfidf backend).
    lexicon : bool, default=True
        Stack the standardized lexicon features (tfidf backend).
    clip : bool, default=True
        Clip predictions to [0, 1].
    model : str or path-like, default="distilbert-base-uncased"
        Backbone of the transformer backend.
    epochs : int, default=3
        Training epochs (transformer backend).
    learning_rate : float, default=5e-5
        Peak learning rate (transformer backend).
    batch_size : int, default=32
        Batch size (transformer backend).
    max_length : int or None, default=None
        Truncation length (transformer backend).
    device : str, default="auto"
        Device (transformer backend).
    random_state : int, RandomState instance or None, default=None
        Seed (transformer backend).
    verbose : int, default=0
        Progress bars (transformer backend).

    Attributes
    ----------
    estimator_ : sklearn.pipeline.Pipeline or TransformerRegressor
        The fitted model.
    n_outputs_ : int
        Number of targets per text.

    See Also
    --------
    TransformerRegressor : the transformer backend on its own.
    LexiconFeatures : the lexicon features of the tfidf backend.

    Examples
    --------
    >>> from nlpipe import IntensityRegressor
    >>> X = ["a bit annoyed", "very angry", "furious!!! so ANGRY", "slightly irritated", "calm", "rage"]
    >>> y = [0.3, 0.7, 0.95, 0.25, 0.05, 0.9]
    >>> reg = IntensityRegressor(alpha=0.1).fit(X, y)
    >>> pred = reg.predict(["so angry", "calm"])
    >>> bool(pred[0] > pred[1]) and bool(((pred >= 0) & (pred <= 1)).all())
    True
    """

    _parameter_constraints = {
        "backend": [Options(["tfidf", "transformer"])],
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
        "word_ngram_range": [NgramRange()],
        "char_ngram_range": [None, NgramRange()],
        "lexicon": ["boolean"],
        "clip": ["boolean"],
        "model": [str, os.PathLike],
        "epochs": [Interval(numbers.Integral, 1, None)],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None)],
        "max_length": [None, Interval(numbers.Integral, 1, None)],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": [Interval(numbers.Integral, 0, None), "boolean"],
    }

    def __init__(
        self,
        *,
        backend="tfidf",
        alpha=1.0,
        word_ngram_range=(1, 2),
        char_ngram_range=(2, 5),
        lexicon=True,
        clip=True,
        model="distilbert-base-uncased",
        epochs=3,
        learning_rate=5e-5,
        batch_size=32,
        max_length=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backend = backend
        self.alpha = alpha
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.lexicon = lexicon
        self.clip = clip
        self.model = model
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _tfidf_pipeline(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import FeatureUnion, make_pipeline
        from sklearn.preprocessing import StandardScaler

        parts = [("word", TfidfVectorizer(ngram_range=self.word_ngram_range, sublinear_tf=True))]
        if self.char_ngram_range is not None:
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngram_range,
                                                  sublinear_tf=True, min_df=2)))
        if self.lexicon:
            parts.append(("lexicon", make_pipeline(LexiconFeatures(), StandardScaler())))
        return make_pipeline(FeatureUnion(parts), Ridge(alpha=self.alpha))

    def fit(self, X, y):
        """Fit the backend.

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Intensities, usually in [0, 1].

        Returns
        -------
        self : IntensityRegressor
        """
        self._validate_params()
        texts = check_texts(X)
        Y, self._y_1d = check_regression_targets(y, len(texts))
        self.n_outputs_ = Y.shape[1]
        target = Y[:, 0] if self._y_1d else Y
        if self.backend == "tfidf":
            self.estimator_ = self._tfidf_pipeline().fit(texts, target)
        else:
            from .classification import TransformerRegressor

            self.estimator_ = TransformerRegressor(**_transformer_params(self)).fit(texts, target)
        return self

    def predict(self, X):
        """Predict intensities.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            In [0, 1] when ``clip``.
        """
        check_is_fitted(self, "estimator_")
        pred = np.asarray(self.estimator_.predict(check_texts(X)), dtype=np.float64)
        return np.clip(pred, 0.0, 1.0) if self.clip else pred

    def score(self, X, y, sample_weight=None):
        """Pearson r between predictions and ``y`` (mean over outputs).

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True intensities.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        r : float
        """
        from .metrics import pearson_r

        if sample_weight is not None:
            raise ValueError("IntensityRegressor.score does not support sample_weight.")
        pred = self.predict(X)
        Y, _ = check_regression_targets(y, len(pred))
        return pearson_r(Y[:, 0] if pred.ndim == 1 else Y, pred)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class IntensityClassifier(ClassifierMixin, BaseTextEstimator):
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
    >>> clf = IntensityClassifier(levels=["none", "low", "moderate", "high"]).fit(X, y)
    >>> clf.classes_.tolist()
    ['none', 'low', 'moderate', 'high']
    """

    _parameter_constraints = {
        "levels": [None, list, tuple],
        "regressor": [None, HasMethods(["fit", "predict"])],
        "cv": [Interval(numbers.Integral, 2, None)],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, *, levels=None, regressor=None, cv=3, C=100.0):
        self.levels = levels
        self.regressor = regressor
        self.cv = cv
        self.C = C

    def fit(self, X, y):
        """Fit the regressor and the thresholds.

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like of shape (n_samples,)
            Levels.

        Returns
        -------
        self : IntensityClassifier
        """
        from sklearn.base import clone
        from sklearn.model_selection import KFold, cross_val_predict

        self._validate_params()
        texts = check_texts(X)
        y, kind = check_classification_targets(y, len(texts))
        if kind != "single":
            raise ValueError("IntensityClassifier takes one level per text, not multilabel y.")
        seen = np.unique(y)
        levels = np.asarray(self.levels if self.levels is not None else seen)
        unknown = set(seen.tolist()) - set(levels.tolist())
        if unknown:
            raise ValueError(f"y holds labels missing from levels: {sorted(unknown, key=str)[:5]}")
        rank = {lab: i for i, lab in enumerate(levels.tolist())}
        target = np.array([rank[v] for v in y.tolist()], dtype=np.float64) / max(len(levels) - 1, 1)
        base = clone(self.regressor) if self.regressor is not None else IntensityRegressor(clip=False)
        folds = KFold(n_splits=min(self.cv, len(texts)), shuffle=True, random_state=0)
        oof = cross_val_predict(base, texts, target, cv=folds)
        order_labels = np.array([rank[v] for v in y.tolist()])
        self.estimator_, self.thresholds_ = _fit_thresholds(
            oof, order_labels, C=self.C, class_weight=None, span=(min(oof.min(), 0.0), max(oof.max(), 1.0))
        )
        self.regressor_ = clone(base).fit(texts, target)
        self.classes_ = levels
        return self

    def decision_function(self, X):
        """The regressor's output (higher means a stronger level).

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "regressor_")
        return np.asarray(self.regressor_.predict(check_texts(X)), dtype=np.float64)

    def predict_proba(self, X):
        """Level probabilities.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_levels)
            Columns follow ``classes_`` (lowest level first); a level never
            seen in ``y`` gets probability 0.
        """
        score = self.decision_function(X)
        seen = self.estimator_.predict_proba(score[:, None])
        proba = np.zeros((len(score), len(self.classes_)))
        proba[:, self.estimator_.classes_] = seen
        return proba

    def predict(self, X):
        """Predict levels.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


_NEGATION_SCOPE_END = re.compile(r"^[.:;!?,]+$")
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]+")


def mark_negation(text):
    """Lowercase ``text`` and prefix ``NOT_`` to words after a negation, up to the next punctuation.

    The classic negation handling for bag-of-words sentiment (Das & Chen, 2001;
    Pang et al., 2002): "not good" and "good" become different features.

    Parameters
    ----------
    text : str
        A text.

    Returns
    -------
    marked : str
        Space-joined tokens.

    Examples
    --------
    >>> from nlpipe.sentiment import mark_negation
    >>> mark_negation("It was not good at all. Great ending!")
    'it was not NOT_good NOT_at NOT_all . great ending !'
    """
    _, negations = _analyzer()
    out, negated = [], False
    for tok in _TOKEN.findall(text.lower()):
        if _NEGATION_SCOPE_END.match(tok):
            negated = False
            out.append(tok)
        elif negated:
            out.append("NOT_" + tok)
        else:
            out.append(tok)
            negated = tok in negations or tok.endswith("n't")
    return " ".join(out)


class SentimentClassifier(ClassifierMixin, BaseTextEstimator):
    """Sentiment classification with sentiment-specific defaults, on three backends.

    * ``"tfidf"``: negation-marked word 1-2-grams (:func:`mark_negation`) stacked with
      standardized :class:`LexiconFeatures`, under a linear SVM;
    * ``"lexicon"``: :class:`LexiconSentiment` (VADER with learned thresholds);
    * ``"transformer"``: :class:`~nlpipe.TransformerClassifier`.

    Parameters
    ----------
    backend : {"tfidf", "lexicon", "transformer"}, default="tfidf"
        The model family.
    C : float, default=0.5
        SVM regularization (tfidf backend).
    analyzer : {"word", "char"}, default="word"
        Negation-marked word 1-2-grams, or character 1-3-grams (for Chinese and
        other text without spaces; tfidf backend).
    lexicon : bool, default=True
        Stack the lexicon features (tfidf backend; English lexicon).
    model : str or path-like, default="distilbert-base-uncased"
        Backbone (transformer backend).
    epochs : int, default=3
        Training epochs (transformer backend).
    learning_rate : float, default=5e-5
        Peak learning rate (transformer backend).
    batch_size : int, default=32
        Batch size (transformer backend).
    max_length : int or None, default=None
        Truncation length (transformer backend).
    device : str, default="auto"
        Device (transformer backend).
    random_state : int, RandomState instance or None, default=None
        Seed (tfidf and transformer backends).
    verbose : int, default=0
        Progress bars (transformer backend).

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    estimator_ : estimator
        The fitted backend model.

    See Also
    --------
    LexiconSentiment : the lexicon backend.
    TfidfSVMClassifier : the general-purpose TF-IDF baseline.

    Examples
    --------
    >>> from nlpipe import SentimentClassifier
    >>> X = ["good film", "not good at all", "great fun", "not great", "loved it", "did not love it"] * 2
    >>> y = ["pos", "neg", "pos", "neg", "pos", "neg"] * 2
    >>> SentimentClassifier(random_state=0).fit(X, y).predict(["not fun", "good fun"]).tolist()
    ['neg', 'pos']
    """

    _parameter_constraints = {
        "backend": [Options(["tfidf", "lexicon", "transformer"])],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "analyzer": [Options(["word", "char"])],
        "lexicon": ["boolean"],
        "model": [str, os.PathLike],
        "epochs": [Interval(numbers.Integral, 1, None)],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None)],
        "max_length": [None, Interval(numbers.Integral, 1, None)],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": [Interval(numbers.Integral, 0, None), "boolean"],
    }

    def __init__(
        self,
        *,
        backend="tfidf",
        C=0.5,
        analyzer="word",
        lexicon=True,
        model="distilbert-base-uncased",
        epochs=3,
        learning_rate=5e-5,
        batch_size=32,
        max_length=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backend = backend
        self.C = C
        self.analyzer = analyzer
        self.lexicon = lexicon
        self.model = model
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _make_estimator(self):
        if self.backend == "lexicon":
            return LexiconSentiment()
        if self.backend == "transformer":
            from .classification import TransformerClassifier

            return TransformerClassifier(**_transformer_params(self))
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import LinearSVC

        if self.analyzer == "char":
            words = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
        else:
            words = TfidfVectorizer(preprocessor=mark_negation, token_pattern=r"\S+", ngram_range=(1, 2),
                                    sublinear_tf=True, min_df=2)
        parts = [("words", words)]
        if self.lexicon:
            parts.append(("lexicon", make_pipeline(LexiconFeatures(), StandardScaler())))
        return make_pipeline(FeatureUnion(parts), LinearSVC(C=self.C, max_iter=5000, random_state=self.random_state))

    def fit(self, X, y):
        """Fit the backend.

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like of shape (n_samples,)
            Labels (str or int).

        Returns
        -------
        self : SentimentClassifier
        """
        self._validate_params()
        texts = check_texts(X)
        y, kind = check_classification_targets(y, len(texts))
        if kind != "single":
            raise ValueError("SentimentClassifier takes one label per text, not multilabel y.")
        self.estimator_ = self._make_estimator().fit(texts, y)
        self.classes_ = self.estimator_.classes_
        return self

    def _texts(self, X):
        check_is_fitted(self, "estimator_")
        return check_texts(X)

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        texts = self._texts(X)
        return self.estimator_.predict(texts)

    def decision_function(self, X):
        """The backend's decision scores (SVM margins, compound score, or logits).

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        scores : ndarray
        """
        texts = self._texts(X)
        return self.estimator_.decision_function(texts)

    @available_if(lambda self: self.backend != "tfidf")
    def predict_proba(self, X):
        """Class probabilities (lexicon and transformer backends).

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        texts = self._texts(X)
        return self.estimator_.predict_proba(texts)
