"""Sentiment classification with sentiment-specific features: negation marking and lexicon scores."""

import numbers

from sklearn.base import ClassifierMixin
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
from ._lexicon import LexiconFeatures
from ._preprocess import NegationMarker

class SentimentClassifier(ClassifierMixin, BaseTextEstimator):
    """Sentiment classification: negation-marked n-grams stacked with lexicon scores, under a linear SVM.

    Word 1-2-grams of :func:`mark_negation`'s output ("not good" and "good" are
    different features), or character 1-3-grams for Chinese and other text
    without spaces, stacked with standardized :class:`LexiconFeatures`. The other
    sentiment models are estimators of their own: :class:`LexiconSentiment`
    (VADER with learned thresholds, no training text needed beyond the labels)
    and :class:`~nlpipe.TransformerClassifier` (fine-tuned).

    Parameters
    ----------
    C : float, default=0.5
        SVM regularization.
    analyzer : {"word", "char"}, default="word"
        Negation-marked word 1-2-grams, or character 1-3-grams.
    lexicon : {"vader", "nrc", "both"} or None, default="vader"
        Stack the standardized :class:`LexiconFeatures` of this lexicon (English),
        or none. "nrc" is free for research; commercial use needs its authors' license.
    random_state : int, RandomState instance or None, default=None
        Seeds the SVM's coordinate descent.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    estimator_ : sklearn.pipeline.Pipeline
        The fitted features and SVM.

    See Also
    --------
    LexiconSentiment : VADER scores with thresholds learned from labels.
    TransformerClassifier : a fine-tuned transformer.
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
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "analyzer": [Options(["word", "char"])],
        "lexicon": [None, Options(["vader", "nrc", "both"])],
        "random_state": ["random_state"],
    }

    def __init__(self, *, C=0.5, analyzer="word", lexicon="vader", random_state=None):
        store_params(self, locals())

    def _make_estimator(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import LinearSVC

        if self.analyzer == "char":
            words = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
        else:
            words = TfidfVectorizer(preprocessor=NegationMarker(), token_pattern=r"\S+", ngram_range=(1, 2),
                                    sublinear_tf=True, min_df=2)
        parts = [("words", words)]
        if self.lexicon is not None:
            parts.append(("lexicon", make_pipeline(LexiconFeatures(lexicon=self.lexicon), StandardScaler())))
        return make_pipeline(FeatureUnion(parts), LinearSVC(C=self.C, max_iter=5000, random_state=self.random_state))

    @fit_context
    @parameter_docs(y="labels")
    def fit(self, X, y):
        """Fit the features and the SVM."""
        texts = check_texts(X)
        y, _ = check_classification_targets(y, len(texts), multilabel=False)
        self.estimator_ = self._make_estimator().fit(texts, y)
        self.classes_ = self.estimator_.classes_
        return self

    @parameter_docs
    def predict(self, X):
        """Predict labels.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(check_texts(X))

    @parameter_docs
    def decision_function(self, X):
        """SVM margins (binary: one column, positive means ``classes_[1]``).

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(check_texts(X))
