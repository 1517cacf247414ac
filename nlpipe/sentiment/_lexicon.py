"""VADER lexicon scores as estimators, and helpers shared by the sentiment estimators."""

import functools
import importlib.util
import json
import numbers
import os
import re

import numpy as np
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ..base import (
    BaseTextEstimator,
    Interval,
    Options,
    check_classification_targets,
    check_texts,
    fit_context,
    parameter_docs,
    store_params,
)
from ..exceptions import MissingExtraError

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


_EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "negative", "positive", "sadness", "surprise", "trust")


@functools.lru_cache(maxsize=1)
def _emotion_lexicon():
    """Word -> indices into ``_EMOTIONS`` from the NRC Emotion Lexicon that the ``nrclex`` package ships.

    The data file is read directly: importing ``nrclex`` itself is not needed.
    """
    spec = importlib.util.find_spec("nrclex")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(
            "lexicon='nrc' needs the NRC Emotion Lexicon from the nrclex package. Install the extra: "
            "pip install 'nlpipe[sentiment]'"
        )
    path = os.path.join(spec.submodule_search_locations[0], "data", "nrc_en.json")
    with open(path, encoding="utf-8") as fh:
        table = json.load(fh)
    index = {e: i for i, e in enumerate(_EMOTIONS)}
    return {w: tuple(index[e] for e in emos if e in index) for w, emos in table.items()}


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


class _ThresholdClassifier(ClassifierMixin, BaseTextEstimator):
    """Classes as intervals of a 1-D ``decision_function``: ``estimator_`` is the threshold model on it."""

    @parameter_docs
    def predict_proba(self, X):
        """Class probabilities from the threshold model on the decision score.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; a class never seen in ``y`` gets probability 0.
        """
        score = self.decision_function(X)
        seen = self.estimator_.predict_proba(score[:, None])
        if len(self.estimator_.classes_) == len(self.classes_):
            return seen
        proba = np.zeros((len(score), len(self.classes_)))
        proba[:, self.estimator_.classes_] = seen  # the threshold model's classes are positions in classes_
        return proba

    @parameter_docs
    def predict(self, X):
        """Predict labels: the most probable class (``classes_[argmax(predict_proba)]``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class LexiconSentiment(_ThresholdClassifier):
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
        store_params(self, locals())

    @staticmethod
    def _compound(texts):
        analyzer, _ = _analyzer()
        return np.array([_scores(analyzer, t)[3] for t in texts])

    @fit_context
    @parameter_docs(y="labels")
    def fit(self, X, y):
        """Learn the decision thresholds on the compound score."""
        texts = check_texts(X)
        y, _ = check_classification_targets(y, len(texts), multilabel=False)
        self.estimator_, self.thresholds_ = _fit_thresholds(
            self._compound(texts), y, C=self.C, class_weight=self.class_weight, span=(-1.0, 1.0)
        )
        self.classes_ = self.estimator_.classes_
        return self

    @parameter_docs
    def decision_function(self, X):
        """The compound sentiment score, mean over sentences.

        Returns
        -------
        compound : ndarray of shape (n_samples,)
            In [-1, 1]; negative is negative sentiment, whatever the labels.
        """
        check_is_fitted(self, "estimator_")
        return self._compound(check_texts(X))


class LexiconFeatures(TransformerMixin, BaseTextEstimator):
    """Lexicon scores and surface cues as numeric features, to stack with TF-IDF.

    Columns: VADER ``compound``, ``pos``, ``neg``, ``neu`` (means over sentences),
    then the surface cues ``exclamations``, ``questions``, ``caps_ratio`` (share of
    all-caps words of 2+ letters), ``emoji``, ``emoticons`` and ``negations`` counts,
    then, with ``lexicon="nrc"`` or ``"both"``, the counts of words associated with
    each of the ten NRC Emotion Lexicon categories (``nrc_anger`` ... ``nrc_trust``).
    Counts are ``log1p``-scaled when ``log_counts`` (keeps long texts in range).

    Parameters
    ----------
    lexicon : {"vader", "nrc", "both"}, default="vader"
        Which lexicon columns precede/follow the surface cues: VADER's polarity
        scores, the NRC emotion counts, or both. The NRC Emotion Lexicon (Mohammad
        and Turney, 2013; shipped by the ``nrclex`` package) is free for research;
        its authors ask for a license for commercial use.
    log_counts : bool, default=True
        Apply ``log1p`` to the count columns.

    Attributes
    ----------
    n_features_out_ : int
        Number of columns (10 with "vader", 16 with "nrc", 20 with "both").

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

    _parameter_constraints = {"lexicon": [Options(["vader", "nrc", "both"])], "log_counts": ["boolean"]}
    _NAMES = ("compound", "pos", "neg", "neu", "exclamations", "questions", "caps_ratio", "emoji", "emoticons", "negations")
    _COUNTS = (4, 5, 7, 8, 9)

    def __init__(self, *, lexicon="vader", log_counts=True):
        store_params(self, locals())

    def _columns(self):
        """Indices of ``_NAMES`` kept, and whether the NRC counts follow."""
        keep = range(len(self._NAMES)) if self.lexicon != "nrc" else range(4, len(self._NAMES))
        return list(keep), self.lexicon != "vader"

    @fit_context
    @parameter_docs(X="Texts (validated only).")
    def fit(self, X, y=None):
        """Check the lexicon is available; nothing is learned."""
        check_texts(X)
        _analyzer()
        keep, nrc = self._columns()
        if nrc:
            _emotion_lexicon()
        self.n_features_out_ = len(keep) + (len(_EMOTIONS) if nrc else 0)
        return self

    @parameter_docs
    def transform(self, X):
        """Compute the features.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_)
        """
        check_is_fitted(self, "n_features_out_")
        texts = check_texts(X)
        analyzer, negations = _analyzer()
        emojis = analyzer.emojis
        keep, nrc = self._columns()
        emotion_of = _emotion_lexicon() if nrc else None
        out = np.empty((len(texts), len(self._NAMES)))
        counts = np.zeros((len(texts), len(_EMOTIONS)))
        for i, text in enumerate(texts):
            neg, neu, pos, compound = _scores(analyzer, text) if self.lexicon != "nrc" else (0.0,) * 4
            words = _WORD.findall(text)
            long_words = [w for w in words if len(w) > 1]
            caps = sum(w.isupper() for w in long_words) / len(long_words) if long_words else 0.0
            lowered = [w.lower() for w in words]
            n_neg = sum(w in negations or w.endswith("n't") for w in lowered)
            if nrc:
                for w in lowered:
                    for j in emotion_of.get(w, ()):
                        counts[i, j] += 1
            out[i] = (
                compound, pos, neg, neu,
                text.count("!"), text.count("?"), caps,
                sum(ch in emojis for ch in text), len(_EMOTICON.findall(text)), n_neg,
            )
        if self.log_counts:
            out[:, self._COUNTS] = np.log1p(out[:, self._COUNTS])
            counts = np.log1p(counts)
        out = out[:, keep]
        return np.hstack([out, counts]) if nrc else out

    @parameter_docs
    def get_feature_names_out(self, input_features=None):
        """Names of the feature columns (the lexicon scores and cues kept, then the NRC emotions)."""
        keep, nrc = self._columns()
        names = [self._NAMES[j] for j in keep] + ([f"nrc_{e}" for e in _EMOTIONS] if nrc else [])
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
