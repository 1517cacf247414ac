"""Compressed stand-ins for the fitted linear models inside the TF-IDF baselines."""

import numpy as np
from scipy import sparse
from scipy.special import expit, softmax
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.svm import LinearSVC


def linear_form(estimator):
    """``(W, b, kind)`` such that the model's scores are ``X @ W.T + b``.

    ``kind`` is ``"svm"`` (scores are ``decision_function``), ``"nb"`` (scores are
    joint log-likelihoods; ``predict_proba`` is their softmax) or ``"multilabel"``
    (one-vs-rest: one log-odds / margin row per label). Single-label naive Bayes
    rows are centred per word: adding the same number to every class's score
    changes neither the predicted class nor the probabilities, and centred rows
    quantize and prune far better than raw log-probabilities.
    """
    if isinstance(estimator, _CompressedLinear):
        return estimator.weights(), estimator.intercept_.copy(), estimator.kind
    if isinstance(estimator, OneVsRestClassifier):
        forms = [linear_form(est) for est in estimator.estimators_]
        width = max(W.shape[1] for W, _, _ in forms)
        rows, bias = [], []
        for W, b, kind in forms:
            if kind == "nb":  # a binary NB: the log-odds of the positive class
                W, b = W[1:] - W[:1], b[1:] - b[:1]
            rows.append(W.reshape(1, -1) if W.size else np.zeros((1, width)))
            bias.append(np.ravel(b)[:1])
        return np.vstack(rows), np.concatenate(bias), "multilabel"
    if type(estimator).__name__ == "_ConstantPredictor":  # one-vs-rest for a label that never (or always) occurs
        positive = bool(np.ravel(estimator.y_)[0])
        return np.zeros((1, 0)), np.array([30.0 if positive else -30.0]), "constant"
    if isinstance(estimator, LinearSVC):
        return np.asarray(estimator.coef_, dtype=np.float64), np.ravel(estimator.intercept_).astype(np.float64), "svm"
    if isinstance(estimator, (ComplementNB, MultinomialNB)):
        W = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        prior = np.asarray(estimator.class_log_prior_, dtype=np.float64)
        # ComplementNB adds the prior only for a single class (scikit-learn's _joint_log_likelihood).
        b = prior if isinstance(estimator, MultinomialNB) or len(estimator.classes_) == 1 else np.zeros_like(prior)
        return W - W.mean(axis=0, keepdims=True), b, "nb"
    raise TypeError(f"Cannot compress a {type(estimator).__name__}: expected LinearSVC, ComplementNB or MultinomialNB.")


class _CompressedLinear:
    """Scores ``X @ W.T + b`` with ``W`` stored sparse (pruned) and/or as int8 with one scale per row.

    Stands in for the fitted LinearSVC / naive Bayes / one-vs-rest model of a TF-IDF
    baseline: ``predict``, ``decision_function``, ``predict_proba`` and
    ``predict_log_proba`` keep the original's meaning (see :func:`linear_form`).
    """

    def __init__(self, W, intercept, kind, classes, *, dtype="float32"):
        self.kind = kind
        self.classes_ = np.asarray(classes)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        W = sparse.csr_matrix(W, dtype=np.float64)
        W.eliminate_zeros()
        self.int8 = dtype == "int8"
        if self.int8:
            # Symmetric per-row scales: a zero (pruned) weight stays exactly zero.
            peak = np.asarray(abs(W).max(axis=1).todense()).ravel()
            self.scales_ = np.where(peak > 0, peak / 127.0, 1.0)
            data = np.rint(W.data / np.repeat(self.scales_, np.diff(W.indptr)))
            W = sparse.csr_matrix((data.astype(np.int8), W.indices, W.indptr), shape=W.shape)
        elif dtype == "float16":
            self.W_ = W.toarray().astype(np.float16)  # scipy.sparse has no float16
            return
        else:
            W = W.astype(np.float32)
        # Dense storage while it is smaller than index + value arrays.
        dense_bytes = W.shape[0] * W.shape[1] * W.dtype.itemsize
        self.W_ = W.toarray() if dense_bytes <= W.data.nbytes + W.indices.nbytes else W

    @property
    def n_features_in_(self):
        return self.W_.shape[1]

    def weights(self):
        """``W`` as float64 (dequantized)."""
        W = self.W_.toarray() if sparse.issparse(self.W_) else self.W_
        W = W.astype(np.float64)
        return W * self.scales_[:, None] if self.int8 else W

    def nonzero(self):
        return int(self.W_.nnz if sparse.issparse(self.W_) else np.count_nonzero(self.W_))

    def _scores(self, X):
        W = self.W_
        Z = X @ W.T.astype(np.float32)
        Z = np.asarray(Z.todense() if sparse.issparse(Z) else Z, dtype=np.float64)
        if self.int8:
            Z = Z * self.scales_
        return Z + self.intercept_

    def decision_function(self, X):
        Z = self._scores(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict(self, X):
        Z = self._scores(X)
        if self.kind == "multilabel":
            return (Z > 0).astype(np.int64)
        if Z.shape[1] == 1:
            return self.classes_[(Z[:, 0] > 0).astype(int)]
        return self.classes_[Z.argmax(axis=1)]

    def predict_proba(self, X):
        Z = self._scores(X)
        return expit(Z) if self.kind == "multilabel" else softmax(Z, axis=1)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def magnitude_prune(W, amount):
    """Zero the ``amount`` fraction of ``W``'s entries smallest in absolute value."""
    flat = np.abs(W).ravel()
    k = int(np.floor(amount * flat.size))
    if k == 0:
        return W.copy()
    cut = np.partition(flat, k - 1)[k - 1]
    out = W.copy()
    out[np.abs(W) <= cut] = 0.0
    return out


def shrink_vocabulary(vectorizer, keep):
    """A copy of a fitted ``TfidfVectorizer`` that knows only the columns ``keep`` (sorted indices)."""
    from sklearn.base import clone

    names = vectorizer.get_feature_names_out()[keep]
    small = clone(vectorizer).set_params(vocabulary={t: i for i, t in enumerate(names)})
    small.idf_ = vectorizer.idf_[keep]  # public setter; validates the vocabulary it goes with
    return small
