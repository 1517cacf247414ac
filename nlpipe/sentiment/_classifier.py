"""Sentiment classification with sentiment-specific defaults on three backends."""

import numbers
import re

from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..base import (
    BaseTextEstimator,
    Interval,
    Options,
    check_classification_targets,
    check_texts,
)
from ._lexicon import LexiconFeatures, LexiconSentiment, _analyzer, _TRANSFORMER_CONSTRAINTS, _transformer_params

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
        **_TRANSFORMER_CONSTRAINTS,
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
            from ..classification import TransformerClassifier

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
