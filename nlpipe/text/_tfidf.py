"""TF-IDF + linear SVM / Naive Bayes baselines as single scikit-learn estimators."""

import logging
import numbers
import warnings

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..base import (
    BaseTextEstimator,
    HasMethods,
    Interval,
    NgramRange,
    Options,
    check_classification_targets,
    check_texts,
    fit_context,
    inherit_params,
    label_lists_to_indicator,
    parameter_docs,
    store_params,
)

logger = logging.getLogger(__name__)

__all__ = ["TfidfNBClassifier", "TfidfSVMClassifier"]


# The vectorizer's parameters, shared by both classifiers: signature and descriptions written once.
_TFIDF_DOC = """\
    tokenizer : SpacyTokenizer, callable or None, default=None
        ``None`` uses scikit-learn's regex tokenization. A transformer (such as
        :class:`~nlpipe.SpacyTokenizer`) is fitted and applied first and its
        space-joined tokens are used as is; a callable ``str -> list of str``
        is passed to the vectorizer.
    analyzer : {{"word", "char", "char_wb"}}, default="word"
        Word or character n-grams (use "char" for Chinese without a tokenizer).
    ngram_range : tuple (min_n, max_n), default=(1, 2)
        N-gram sizes.
    lowercase : bool, default=True
        Lowercase before tokenizing (a transformer tokenizer does its own).
    strip_accents : {{"ascii", "unicode"}} or None, default=None
        Accent stripping.
    stop_words : "english", list or None, default=None
        Stop words removed by the vectorizer.
    min_df : int or float, default=2
        Minimum document frequency (count, or proportion if float).
    max_df : int or float, default=1.0
        Maximum document frequency (count, or proportion if float).
    max_features : int or None, default=None
        Keep only the most frequent terms.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.
    n_jobs : int or None, default=None
        Parallel jobs for multilabel one-vs-rest fitting; None means 1, -1 all cores.
"""


# Fitted attributes every TF-IDF classifier has, besides its vectorizer and classifier.
_COMMON_ATTRIBUTES_DOC = """\
    tokenizer_ : SpacyTokenizer or None
        The fitted tokenizer when ``tokenizer`` is a transformer.
    multilabel_ : bool
        Whether ``y`` was multilabel.
    label_binarizer_ : MultiLabelBinarizer or None
        Maps label lists to columns, when ``y`` was given as label lists.
"""


def _tfidf_params(cls):
    return inherit_params(cls, docs={"    %TFIDF%\n": _TFIDF_DOC, "    %COMMON%\n": _COMMON_ATTRIBUTES_DOC})


class _TfidfClassifier(ClassifierMixin, BaseTextEstimator):
    """TF-IDF features feeding one linear classifier; subclasses pick the classifier.

    Fitted as ``[tokenizer_] -> vectorizer_ -> estimator_``, the same objects a
    hand-built scikit-learn ``Pipeline`` would hold, so nlpipe adds validation
    and label handling, not compute.
    """

    def __init__(self, *, tokenizer=None, analyzer="word", ngram_range=(1, 2), lowercase=True, strip_accents=None,
                 stop_words=None, min_df=2, max_df=1.0, max_features=None, sublinear_tf=True, n_jobs=None):
        store_params(self, locals())

    _parameter_constraints = {
        "tokenizer": [None, callable, HasMethods(["fit", "transform"])],
        "analyzer": [Options(["word", "char", "char_wb"])],
        "ngram_range": [NgramRange()],
        "lowercase": ["boolean"],
        "strip_accents": [None, Options(["ascii", "unicode"])],
        "stop_words": [None, Options(["english"]), list],
        "min_df": [Interval(numbers.Integral, 1, None), Interval(numbers.Real, 0, 1)],
        "max_df": [Interval(numbers.Integral, 1, None), Interval(numbers.Real, 0, 1)],
        "max_features": [None, Interval(numbers.Integral, 1, None)],
        "sublinear_tf": ["boolean"],
        "n_jobs": [None, numbers.Integral],
    }

    # --- hooks for subclasses ------------------------------------------------
    def _make_classifier(self):
        raise NotImplementedError

    def _after_fit(self, Xt, Y, fit_params):
        """Extra fitting on the TF-IDF matrix (e.g. probability calibration)."""

    # --- fitting -------------------------------------------------------------
    def _make_vectorizer(self):
        tokenizer = self.tokenizer if callable(self.tokenizer) else None
        # A transformer tokenizer already produced normalized, space-joined tokens.
        pre_tokenized = tokenizer is None and self.tokenizer is not None
        return TfidfVectorizer(
            tokenizer=tokenizer,
            token_pattern=None if tokenizer is not None else (r"(?u)\S+" if pre_tokenized else r"(?u)\b\w\w+\b"),
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            lowercase=self.lowercase and not pre_tokenized,
            strip_accents=self.strip_accents,
            stop_words=self.stop_words,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
        )

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Fit the TF-IDF vocabulary and the classifier.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame of str
            Training texts.
        y : array-like of shape (n_samples,), list of label lists, or indicator matrix
            Labels (str or int). For multilabel problems give each sample a
            list of labels, or a 0/1 indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights for the classifier (single-label problems only;
            the vocabulary and IDF are unweighted).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        texts = check_texts(X)
        y, kind = check_classification_targets(y, len(texts))
        fit_params = {}
        if sample_weight is not None:
            if kind != "single":
                raise ValueError("sample_weight is not supported with multilabel y.")
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(texts),):
                raise ValueError(
                    f"sample_weight has shape {sample_weight.shape}; expected ({len(texts)},), one weight per text."
                )
            fit_params["sample_weight"] = sample_weight
        self.multilabel_ = kind != "single"
        self.label_binarizer_ = None
        if kind == "lists":
            self.label_binarizer_ = MultiLabelBinarizer()
            Y = self.label_binarizer_.fit_transform(y)
            if Y.shape[1] < 1:
                raise ValueError("y holds no labels at all; give at least one sample a label.")
        else:
            Y = y

        if self.tokenizer is not None and not callable(self.tokenizer):
            self.tokenizer_ = clone(self.tokenizer).fit(texts)
            texts = self.tokenizer_.transform(texts)
        else:
            self.tokenizer_ = None
        self.vectorizer_ = self._make_vectorizer()
        Xt = self.vectorizer_.fit_transform(texts)
        # stop_words_ lists every pruned term (millions with bigrams) and is only for
        # introspection; scikit-learn documents that it can be dropped before pickling.
        if hasattr(self.vectorizer_, "stop_words_"):
            del self.vectorizer_.stop_words_

        clf = self._make_classifier()
        if self.multilabel_:
            clf = OneVsRestClassifier(clf, n_jobs=self.n_jobs)
        self.estimator_ = clf.fit(Xt, Y, **fit_params)
        if self.label_binarizer_ is not None:
            self.classes_ = self.label_binarizer_.classes_
        elif kind == "indicator":
            self.classes_ = np.arange(Y.shape[1])
        else:
            self.classes_ = self.estimator_.classes_
        self._after_fit(Xt, Y, fit_params)
        logger.info("%s: %d texts, %d features, %d classes", type(self).__name__, Xt.shape[0], Xt.shape[1], len(self.classes_))
        return self

    # --- prediction ----------------------------------------------------------
    def _features(self, X):
        check_is_fitted(self, "estimator_")
        texts = check_texts(X)
        if self.tokenizer_ is not None:
            texts = self.tokenizer_.transform(texts)
        return self.vectorizer_.transform(texts)

    def _format_labels(self, Y):
        if self.label_binarizer_ is not None:
            return self.label_binarizer_.inverse_transform(Y)
        return Y

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame of str
            Texts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,), list of tuple, or indicator matrix
            Labels in the type they were given to ``fit``: class labels, one
            tuple of labels per text (multilabel lists), or an indicator matrix.
        """
        Xt = self._features(X)
        return self._format_labels(self.estimator_.predict(Xt))

    @parameter_docs
    def score(self, X, y, sample_weight=None):
        """Accuracy (subset accuracy for multilabel problems).

        Parameters
        ----------
        y : array-like, list of label lists, or indicator matrix
            True labels, in the form given to ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        Xt = self._features(X)
        pred = self.estimator_.predict(Xt)
        if self.label_binarizer_ is not None:
            y = label_lists_to_indicator(self.label_binarizer_, y, pred.shape[0])
        return accuracy_score(y, pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _fit_scale(D, Y, kind):
    """Find the one positive scale ``a`` minimizing the log-loss of ``link(a * D)``.

    One scalar keeps the ranking of classes in every row, so calibrated
    probabilities never disagree with ``predict`` (temperature scaling,
    Guo et al. 2017).
    """

    def nll(log_a):
        Z = np.exp(log_a) * D
        if kind in ("binary", "multilabel"):
            return -np.mean(np.where(Y == 1, log_expit(Z), log_expit(-Z)))
        return -np.mean(log_softmax(Z, axis=1)[np.arange(len(Y)), Y])

    res = minimize_scalar(nll, bounds=(-6.0, 6.0), method="bounded")
    return float(np.exp(res.x))


@_tfidf_params
class TfidfSVMClassifier(_TfidfClassifier):
    """TF-IDF features + linear SVM, as one estimator with flat hyperparameters.

    Defaults (word 1-2-grams, ``min_df=2``, sublinear TF) were chosen by
    measurement on 20 Newsgroups, SST-2, IMDB and AG News, where they beat
    scikit-learn's default ``TfidfVectorizer() + LinearSVC()``
    (see ``benchmarks/results/baselines.md``).

    Parameters
    ----------
    C : float, default=0.8
        Inverse regularization strength of the SVM.
    class_weight : dict, "balanced" or None, default=None
        Class weights, as in :class:`sklearn.svm.LinearSVC`.
    probability : bool, default=False
        Enable :meth:`predict_proba`. Fitting then also computes 3-fold
        cross-validated decision values and fits one temperature on them
        (about 2x the fit time). The temperature keeps the class ranking, so
        ``predict`` always equals ``classes_[argmax(predict_proba)]``.
    max_iter : int, default=1000
        Maximum liblinear iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds liblinear's coordinate descent and the calibration folds.
    %TFIDF%

    Attributes
    ----------
    classes_ : ndarray
        Class labels (for multilabel: label names, or column indices for an
        indicator matrix).
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The fitted vectorizer (``vocabulary_``, ``idf_``).
    estimator_ : LinearSVC or OneVsRestClassifier
        The fitted classifier.
    %COMMON%
    proba_scale_ : float
        The fitted temperature (only with ``probability=True``).

    See Also
    --------
    TfidfNBClassifier : the Naive Bayes counterpart; faster, probabilistic.
    SpacyTokenizer : lemmatizing tokenizer to plug in as ``tokenizer``.

    Examples
    --------
    >>> from nlpipe import TfidfSVMClassifier
    >>> X = ["free prize now", "win cash now", "see you at lunch", "lunch at noon?"] * 3
    >>> y = ["spam", "spam", "ham", "ham"] * 3
    >>> clf = TfidfSVMClassifier(random_state=0).fit(X, y)
    >>> clf.predict(["cash prize", "lunch today"]).tolist()
    ['spam', 'ham']
    >>> clf.classes_.tolist()
    ['ham', 'spam']
    """

    _parameter_constraints = {
        **_TfidfClassifier._parameter_constraints,
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "class_weight": [None, dict, Options(["balanced"])],
        "probability": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None)],
        "random_state": ["random_state"],
    }

    def __init__(self, *, C=0.8, class_weight=None, probability=False, max_iter=1000, random_state=None, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _make_classifier(self):
        return LinearSVC(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
        )

    def _proba_kind(self):
        if self.multilabel_:
            return "multilabel"
        return "binary" if len(self.classes_) == 2 else "multiclass"

    def _after_fit(self, Xt, Y, fit_params):
        if not self.probability:
            return
        kind = self._proba_kind()
        if kind == "multilabel":
            cv = KFold(n_splits=min(3, Xt.shape[0]), shuffle=True, random_state=self.random_state)
            Yc = np.asarray(Y.toarray() if hasattr(Y, "toarray") else Y)
        else:
            Yc = np.searchsorted(self.classes_, Y)
            n_splits = min(3, int(np.bincount(Yc).min()))
            if n_splits < 2:
                warnings.warn(
                    "probability=True: a class has fewer than 2 samples, so probabilities "
                    "cannot be cross-validated; using an uncalibrated temperature of 1.",
                    UserWarning,
                    stacklevel=3,
                )
                self.proba_scale_ = 1.0
                return
            cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        D = cross_val_predict(
            clone(self.estimator_), Xt, Y, cv=cv, method="decision_function", params=fit_params
        )
        self.proba_scale_ = _fit_scale(D, Yc, kind)

    @parameter_docs
    def decision_function(self, X):
        """Signed distances to the SVM hyperplanes.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class, or one signed score (positive means
            ``classes_[1]``) for binary problems.
        """
        Xt = self._features(X)
        return self.estimator_.decision_function(Xt)

    @available_if(lambda self: self.probability)
    @parameter_docs
    def predict_proba(self, X):
        """Calibrated class probabilities (needs ``probability=True``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; for multilabel problems each column is
            the independent probability of that label.
        """
        check_is_fitted(self, "proba_scale_")
        Z = self.proba_scale_ * self.decision_function(X)
        kind = self._proba_kind()
        if kind == "binary":
            p = expit(Z)
            return np.column_stack([1.0 - p, p])
        if kind == "multilabel":
            return expit(Z)
        return softmax(Z, axis=1)

    @available_if(lambda self: self.probability)
    @parameter_docs
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


@_tfidf_params
class TfidfNBClassifier(_TfidfClassifier):
    """TF-IDF features + Complement or Multinomial Naive Bayes.

    Complement NB (Rennie et al., 2003) is the default: it is more accurate than
    Multinomial NB on text, above all with unbalanced classes.

    Parameters
    ----------
    alpha : float, default=0.3
        Additive (Laplace/Lidstone) smoothing.
    variant : {"complement", "multinomial"}, default="complement"
        Which Naive Bayes.
    %TFIDF%

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The fitted vectorizer.
    estimator_ : ComplementNB, MultinomialNB or OneVsRestClassifier
        The fitted classifier.
    %COMMON%

    See Also
    --------
    TfidfSVMClassifier : usually more accurate, slower to fit.

    Examples
    --------
    >>> from nlpipe import TfidfNBClassifier
    >>> X = ["free prize now", "win cash now", "see you at lunch", "lunch at noon?"] * 3
    >>> y = [1, 1, 0, 0] * 3
    >>> clf = TfidfNBClassifier().fit(X, y)
    >>> clf.predict(["cash prize", "lunch today"]).tolist()
    [1, 0]
    >>> clf.predict_proba(["cash prize"]).shape
    (1, 2)
    """

    _parameter_constraints = {
        **_TfidfClassifier._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
        "variant": [Options(["complement", "multinomial"])],
    }

    def __init__(self, *, alpha=0.3, variant="complement", **params):
        super().__init__(**params)
        store_params(self, locals())

    def _make_classifier(self):
        cls = ComplementNB if self.variant == "complement" else MultinomialNB
        return cls(alpha=self.alpha)

    @parameter_docs
    def predict_proba(self, X):
        """Class probabilities of the Naive Bayes model."""
        Xt = self._features(X)
        return self.estimator_.predict_proba(Xt)

    @parameter_docs
    def predict_log_proba(self, X):
        """Log class probabilities of the Naive Bayes model."""
        Xt = self._features(X)
        return self.estimator_.predict_log_proba(Xt)
