"""Extractive summarization: score sentences, pick the best with a redundancy penalty, keep document order."""

import math
import numbers

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.utils.validation import check_is_fitted

from ..base import (
    BaseTextEstimator,
    HasMethods,
    Interval,
    Options,
    check_references,
    check_texts,
    fit_context,
    inherit_params,
    parameter_docs,
    store_params,
)
from ._common import SummarizerMixin
from ._sentences import iter_sentences


def _count_matrix(sentences, vocabulary):
    """Sparse term counts of tokenized sentences over ``vocabulary`` (unknown words ignored).

    One flat pass of dict lookups instead of a vectorizer's per-sentence analyzer calls:
    the counting was most of an extractive summary's time.
    """
    lengths = np.fromiter((len(tok) for tok in sentences), dtype=np.int64, count=len(sentences))
    get = vocabulary.get
    cols = np.fromiter((get(t, -1) for tok in sentences for t in tok), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(sentences)), lengths)
    known = cols >= 0
    counts = sparse.csr_matrix(
        (np.ones(int(known.sum())), (rows[known], cols[known])), shape=(len(sentences), len(vocabulary))
    )
    counts.sum_duplicates()
    return counts


_MAX_ITER, _TOL = 100, 1e-6


# Graphs up to this many sentences are dense arrays: for news-length documents scipy's per-call
# overhead costs more than the arithmetic. Longer documents keep sparse matrices throughout.
_DENSE_MAX = 256


def _power_iteration(M, damping, max_iter=_MAX_ITER, tol=_TOL, dangling=None):
    """Stationary scores of the row-stochastic matrix ``M`` (dense or sparse) with teleportation (PageRank).

    ``dangling`` marks rows of a sparse ``M`` left empty (sentences similar to no other): they link
    to every node, which is added per step as their total score / n instead of as n dense rows.
    """
    n = M.shape[0]
    scores = np.full(n, 1.0 / n)
    MT = M.T.tocsr() if sparse.issparse(M) else np.ascontiguousarray(M.T)
    for _ in range(max_iter):
        spread = scores[dangling].sum() / n if dangling is not None else 0.0
        new = (1.0 - damping) / n + damping * (MT @ scores + spread)
        if np.abs(new - scores).sum() < tol:
            return new
        scores = new
    return scores


def _row_normalize(W):
    """Row-stochastic version of a non-negative matrix, and the mask of its empty (dangling) rows.

    Dense matrices get uniform rows in place of empty ones; sparse ones keep them empty and
    return the mask for :func:`_power_iteration` (an n x n dense block would not fit for long
    documents).
    """
    n = W.shape[0]
    if not sparse.issparse(W):
        degree = W.sum(axis=1)
        dangling = degree == 0
        M = W / np.where(dangling, 1.0, degree)[:, None]
        M[dangling] = 1.0 / n
        return M, None
    W = sparse.csr_matrix(W, dtype=np.float64)
    degree = np.asarray(W.sum(axis=1)).ravel()
    dangling = degree == 0
    inv = np.divide(1.0, degree, out=np.zeros_like(degree), where=~dangling)
    return (sparse.diags(inv) @ W).tocsr(), (dangling if dangling.any() else None)


def _similarity(S):
    """Cosine similarities between sentences (zero diagonal) and each sentence's cosine to the centroid.

    Both come from one Gram matrix ``G = S S^T`` of the L2-normalized rows: the
    centroid is ``c = mean(s_j)``, so ``cos(s_i, c) = sum_j G_ij / sqrt(sum_ij G_ij)``
    (Radev et al., 2004) without a dense vocabulary-sized vector per document.
    The similarity matrix is a dense array up to ``_DENSE_MAX`` sentences, else sparse.
    """
    G = S @ S.T
    if G.shape[0] <= _DENSE_MAX:
        G = G.toarray()
        total = G.sum()
        centroid = G.sum(axis=1) / np.sqrt(total) if total > 0 else np.zeros(G.shape[0])
        np.fill_diagonal(G, 0.0)
        return G, centroid
    G = G.tocsr()
    total = G.sum()
    centroid = np.asarray(G.sum(axis=1)).ravel() / np.sqrt(total) if total > 0 else np.zeros(G.shape[0])
    # Subtracting the diagonal keeps the sparsity structure (setdiag inserts missing entries one by one).
    G = (G - sparse.diags(G.diagonal())).tocsr()
    G.eliminate_zeros()
    return G, centroid


def _dense(W):
    return W.toarray() if sparse.issparse(W) else W


def _graph_scores(W, damping, threshold=None):
    """PageRank on the similarity graph ``W``: weighted (TextRank), or edges above ``threshold`` (LexRank)."""
    if threshold is not None:
        if sparse.issparse(W):
            W = W.copy()
            W.data = (W.data > threshold).astype(np.float64)
            W.eliminate_zeros()
        else:
            W = (W > threshold).astype(np.float64)
    M, dangling = _row_normalize(W)
    return _power_iteration(M, damping, dangling=dangling)


# The parameters both extractive summarizers share: signature and descriptions written once.
_SELECTION_DOC = """\
    n_sentences : int, default=3
        Sentences per summary (fewer when the document is shorter).
    ratio : float in (0, 1] or None, default=None
        When set, take ``ceil(ratio * n)`` of a document's ``n`` sentences instead.
    diversity : float in [0, 1], default=0.3
        MMR redundancy penalty; 0 takes the top-scored sentences as they are.
    threshold : float in [0, 1), default=0.1
        Cosine similarity above which LexRank links two sentences.
    damping : float in (0, 1), default=0.85
        PageRank damping factor.
    spacy_model : str, default="blank:en"
        Sentence splitter: ``"blank:<lang>"`` with spaCy's sentencizer
        (``"blank:zh"`` for Chinese) or an installed spaCy pipeline.
    stop_words : {{"english"}} or None, default="english"
        Words left out of the sentence vectors.
    separator : str, default=" "
        Joins the chosen sentences; use ``"\\n"`` for ROUGE-Lsum.
"""


def _content_sentences(texts, spacy_model):
    """Per text, its sentences that hold a letter or digit: a summary never picks "<#> ." or "!!!"."""
    return [[(s, tok) for s, tok in doc if any(ch.isalnum() for ch in s)]
            for doc in iter_sentences(texts, spacy_model)]


# The Attributes section's start: what every selector learns in ``fit``.
_IDF_DOC = """
    Attributes
    ----------
    vocabulary_ : dict of str to int
        The words of the training sentences (stop words left out) and their columns.
    tfidf_ : sklearn.feature_extraction.text.TfidfTransformer
        Sublinear TF-IDF weighting with the IDF statistics (``idf_``) of the training sentences.
"""


def _selection_params(cls):
    return inherit_params(cls, docs={"    %SELECTION%\n": _SELECTION_DOC, "    %IDF%\n": _IDF_DOC})


class _SentenceSelector(SummarizerMixin, BaseTextEstimator):
    """Summaries of the top sentences by salience, picked with MMR; subclasses score sentences (``_rank``)."""

    _parameter_constraints = {
        "n_sentences": [Interval(numbers.Integral, 1, None)],
        "ratio": [None, Interval(numbers.Real, 0, 1, closed="right")],
        "diversity": [Interval(numbers.Real, 0, 1)],
        "threshold": [Interval(numbers.Real, 0, 1, closed="left")],
        "damping": [Interval(numbers.Real, 0, 1, closed="neither")],
        "spacy_model": [str],
        "stop_words": [None, Options(["english"])],
        "separator": [str],
    }

    def __init__(self, *, n_sentences=3, ratio=None, diversity=0.3, threshold=0.1, damping=0.85,
                 spacy_model="blank:en", stop_words="english", separator=" "):
        store_params(self, locals())

    def _fit_idf(self, docs):
        """Set ``vocabulary_`` and ``tfidf_`` from the sentences of ``docs`` (stop words left out)."""
        from sklearn.feature_extraction.text import TfidfTransformer

        sentences = [tok for doc in docs for _, tok in doc]
        words = {t for tok in sentences for t in tok}
        if self.stop_words is not None:
            words = words - ENGLISH_STOP_WORDS or words  # a corpus of stop words only keeps them
        # Documents of empty strings still give a usable model: one column that no token fills.
        self.vocabulary_ = {t: i for i, t in enumerate(sorted(words or {""}))}
        counts = _count_matrix(sentences or [[]], self.vocabulary_)
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts)

    def _k(self, n):
        k = math.ceil(self.ratio * n) if self.ratio is not None else self.n_sentences
        return max(1, min(k, n))

    def _select(self, W, scores, k):
        """Greedy MMR over the salience ``scores`` with the similarity matrix ``W``."""
        if getattr(self, "method", None) == "lead" or self.diversity == 0:
            return np.sort(np.argsort(-scores, kind="stable")[:k])
        span = scores.max() - scores.min()
        relevance = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
        # Sentences that tie up to rounding error go to the earlier one, whatever order the sums ran in.
        relevance = np.round(relevance, 9)
        chosen, best_sim = [], np.zeros(len(scores))
        for _ in range(k):
            gain = (1 - self.diversity) * relevance - self.diversity * best_sim
            gain[chosen] = -np.inf
            i = int(np.argmax(gain))
            chosen.append(i)
            # One row at a time: a long document's graph never becomes a dense n x n array here.
            row = W[i].toarray().ravel() if sparse.issparse(W) else W[i]
            best_sim = np.maximum(best_sim, row)
        return np.sort(chosen)

    def _matrices(self, docs):
        """TF-IDF rows of each document's sentences, from one ``transform`` over all of them."""
        sentences = [tok for doc in docs for _, tok in doc]
        if not sentences:
            return [None] * len(docs)
        S = self.tfidf_.transform(_count_matrix(sentences, self.vocabulary_))
        bounds = np.cumsum([0] + [len(doc) for doc in docs])
        return [S[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def _summaries(self, docs):
        out = [""] * len(docs)
        # Documents that fit the summary whole need no scoring.
        todo = [i for i, doc in enumerate(docs) if doc and self._k(len(doc)) < len(doc)]
        for i in set(range(len(docs))) - set(todo):
            out[i] = self.separator.join(s for s, _ in docs[i])
        for i, (W, salience) in zip(todo, self._rank([docs[i] for i in todo])):
            chosen = self._select(W, salience, self._k(len(docs[i])))
            out[i] = self.separator.join(docs[i][j][0] for j in chosen)
        return out

    @parameter_docs(X="Documents.")
    def predict(self, X):
        """Summarize each document.

        Returns
        -------
        summaries : list of str
            One summary per document, its sentences in document order ("" for an empty document, or
            one without a sentence that holds a letter or digit).
        """
        check_is_fitted(self, "tfidf_")
        texts = check_texts(X)
        return self._summaries(_content_sentences(texts, self.spacy_model))


@_selection_params
class ExtractiveSummarizer(_SentenceSelector):
    """Unsupervised extractive summaries: lead, centroid, TextRank or LexRank, with MMR redundancy control.

    ``fit`` learns IDF statistics over the sentences of a corpus (no labels);
    ``predict`` splits each document into sentences with spaCy, scores them,
    picks ``n_sentences`` (or a ``ratio`` of them) greedily by maximal marginal
    relevance (score minus ``diversity`` times the highest similarity to a sentence
    already picked) and returns them in document order. Graph methods run power
    iteration on sparse sentence-similarity matrices.

    Parameters
    ----------
    method : {"lead", "centroid", "textrank", "lexrank"}, default="textrank"
        "lead": the first sentences; "centroid": cosine similarity of each
        sentence to the document's TF-IDF centroid (Radev et al., 2004);
        "textrank": PageRank on the cosine-weighted sentence graph (Mihalcea and
        Tarau, 2004); "lexrank": PageRank on the graph of pairs whose cosine
        exceeds ``threshold`` (Erkan and Radev, 2004).
    %SELECTION%
    %IDF%
    n_documents_ : int
        Documents seen in ``fit``.

    See Also
    --------
    nlpipe.metrics.rouge : the metric ``score`` reports.
    nlpipe.summarization.split_sentences : the sentence splitter on its own.

    Examples
    --------
    >>> from nlpipe import ExtractiveSummarizer
    >>> docs = ["Rain fell all day. The river rose fast. People left the town. The sun came out."]
    >>> ExtractiveSummarizer(method="lead", n_sentences=2).fit(docs).predict(docs)
    ['Rain fell all day. The river rose fast.']
    """

    _parameter_constraints = {
        **_SentenceSelector._parameter_constraints,
        "method": [Options(["lead", "centroid", "textrank", "lexrank"])],
    }

    def __init__(self, *, method="textrank", **params):
        super().__init__(**params)
        store_params(self, locals())

    @fit_context
    @parameter_docs(X="Documents.")
    def fit(self, X, y=None):
        """Learn IDF statistics from the sentences of ``X``.

        Parameters
        ----------
        y : None
            Ignored (references are not needed).
        """
        texts = check_texts(X)
        self._fit_idf(_content_sentences(texts, self.spacy_model))
        self.n_documents_ = len(texts)
        return self

    def _rank(self, docs):
        """Per document: the similarity matrix and the sentence salience scores."""
        if self.method == "lead":
            # Position alone decides (MMR is off for lead): no vectors needed.
            return [(None, np.linspace(1.0, 0.5, len(doc))) for doc in docs]
        ranked = []
        for S in self._matrices(docs):
            W, centroid = _similarity(S)
            if self.method == "centroid":
                ranked.append((W, centroid))
            else:
                ranked.append((W, _graph_scores(W, self.damping, self.threshold if self.method == "lexrank" else None)))
        return ranked



def _ngrams(tokens, n):
    from collections import Counter

    return Counter(zip(*(tokens[i:] for i in range(n))))


def _overlap_f(cand, ref):
    """F1 of n-gram overlap between two Counters (ROUGE-n's F-measure)."""
    hits = sum((cand & ref).values())
    if hits == 0:
        return 0.0
    p, r = hits / sum(cand.values()), hits / sum(ref.values())
    return 2 * p * r / (p + r)


def oracle_labels(sentence_tokens, reference_tokens, max_sentences=3):
    """Greedy ROUGE oracle: add the sentence that most raises mean ROUGE-1/2 F1 against the reference.

    Stops when no sentence raises it or ``max_sentences`` are chosen (Nallapati et al., 2017).

    Parameters
    ----------
    sentence_tokens : list of list of str
        The document's sentences, each as its tokens.
    reference_tokens : list of str
        The reference summary's tokens.
    max_sentences : int, default=3
        Most sentences to label 1.

    Returns
    -------
    labels : ndarray of shape (n_sentences,)
        1 for the oracle's sentences, else 0.

    Examples
    --------
    >>> from nlpipe.summarization import oracle_labels
    >>> oracle_labels([["rain", "fell"], ["the", "river", "rose"], ["people", "left"]], ["the", "river", "rose"])
    array([0, 1, 0])
    """
    labels = np.zeros(len(sentence_tokens), dtype=np.int64)
    refs = [_ngrams(reference_tokens, 1), _ngrams(reference_tokens, 2)]
    if not reference_tokens:
        return labels
    chosen, best = [], 0.0
    for _ in range(min(max_sentences, len(sentence_tokens))):
        gains = []
        for i, _tok in enumerate(sentence_tokens):
            if labels[i]:
                gains.append(-1.0)
                continue
            tokens = [t for j in sorted(chosen + [i]) for t in sentence_tokens[j]]
            gains.append(np.mean([_overlap_f(_ngrams(tokens, n + 1), refs[n]) for n in range(2)]))
        i = int(np.argmax(gains))
        if gains[i] <= best:
            break
        best = gains[i]
        chosen.append(i)
        labels[i] = 1
    return labels


@_selection_params
class SupervisedExtractiveSummarizer(_SentenceSelector):
    """Extractive summaries from a sentence classifier trained on reference summaries.

    ``fit(X, y)`` splits each document into sentences, labels them with a greedy
    ROUGE oracle against its reference (the sentences whose union best matches
    it), describes each sentence by its position, length and TF-IDF centrality
    (centroid similarity, TextRank and LexRank scores, similarity to the first
    sentence and to the others) and fits ``estimator`` on those features.
    ``predict`` ranks a document's sentences by the classifier's probability and
    picks the top ones with the same MMR redundancy control as
    :class:`ExtractiveSummarizer`, in document order (``diversity`` matters more
    here: the classifier scores each sentence alone, so without it near-duplicate
    sentences are picked together). ``threshold`` and ``damping`` shape the
    LexRank and TextRank features.

    Parameters
    ----------
    estimator : classifier or None, default=None
        Any scikit-learn classifier with ``predict_proba`` or ``decision_function``;
        None standardizes the features for a ``LogisticRegression``.
    oracle_sentences : int, default=3
        At most this many sentences labelled positive per document.
    %SELECTION%
    %IDF%
    estimator_ : classifier
        The fitted sentence classifier.
    n_documents_ : int
        Documents seen in ``fit``.
    feature_names_ : list of str
        Names of the sentence features.

    See Also
    --------
    ExtractiveSummarizer : the unsupervised methods.
    oracle_labels : the greedy ROUGE oracle.

    Examples
    --------
    >>> from nlpipe import SupervisedExtractiveSummarizer
    >>> from nlpipe.testing import make_summarization
    >>> X, y = make_summarization(12)
    >>> summ = SupervisedExtractiveSummarizer(n_sentences=1).fit(X, y)
    >>> summ.predict(X[:1]) == y[:1]
    True
    """

    _parameter_constraints = {
        **_SentenceSelector._parameter_constraints,
        "estimator": [None, HasMethods(["fit"])],
        "oracle_sentences": [Interval(numbers.Integral, 1, None)],
    }
    feature_names = ["relative_position", "position", "is_first", "is_second", "is_third", "is_fourth",
                     "log_length", "log_n_sentences", "centroid", "textrank", "lexrank", "first_similarity",
                     "mean_similarity", "max_similarity"]

    def __init__(self, *, estimator=None, oracle_sentences=3, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _features(self, sentences, S):
        """One row of ``feature_names`` per sentence, and the similarity matrix; ``S`` holds the TF-IDF rows."""
        n = len(sentences)
        W, centroid = _similarity(S)
        sim = _dense(W)
        pos = np.arange(n)
        features = np.column_stack([
            pos / max(n - 1, 1),
            np.minimum(pos, 10) / 10.0,
            (pos == 0).astype(float),
            (pos == 1).astype(float),
            (pos == 2).astype(float),
            (pos == 3).astype(float),
            np.log1p([len(tok) for _, tok in sentences]),
            np.full(n, np.log(n)),
            centroid,
            _graph_scores(W, self.damping) * n,
            _graph_scores(W, self.damping, self.threshold) * n,
            sim[:, 0] if n > 1 else np.zeros(n),
            sim.sum(axis=1) / max(n - 1, 1),
            sim.max(axis=1) if n > 1 else np.zeros(n),
        ])
        return features, W

    @fit_context
    @parameter_docs(X="Documents.", y="summaries")
    def fit(self, X, y):
        """Label sentences with the ROUGE oracle and train the sentence classifier."""
        from sklearn.base import clone

        from ..metrics import rouge_tokens

        texts = check_texts(X)
        refs = check_references(y, len(texts))
        docs = _content_sentences(texts, self.spacy_model)
        self._fit_idf(docs)
        rows, labels = [], []
        for doc, ref, S in zip(docs, refs, self._matrices(docs)):  # S is None for an empty document
            if not doc:
                continue
            rows.append(self._features(doc, S)[0])
            labels.append(oracle_labels([tok for _, tok in doc], rouge_tokens(ref), self.oracle_sentences))
        if not rows or len(np.unique(np.concatenate(labels))) < 2:
            raise ValueError(
                "The ROUGE oracle found no sentence that overlaps the references (or every sentence does): "
                "check that y holds the reference summaries of X."
            )
        if self.estimator is None:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        else:
            estimator = clone(self.estimator)
        self.estimator_ = estimator.fit(np.vstack(rows), np.concatenate(labels))
        self.feature_names_ = list(self.feature_names)
        self.n_documents_ = len(texts)
        return self

    def _salience(self, features):
        if hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict_proba(features)[:, 1]
        return np.asarray(self.estimator_.decision_function(features), dtype=np.float64)

    def _rank(self, docs):
        # One classifier call for all sentences of all documents: per-document calls cost more than the scoring.
        pairs = [self._features(doc, S) for doc, S in zip(docs, self._matrices(docs))]
        if not pairs:
            return []
        salience = self._salience(np.vstack([f for f, _ in pairs]))
        bounds = np.cumsum([0] + [len(f) for f, _ in pairs])
        return [(W, salience[a:b]) for (_, W), a, b in zip(pairs, bounds[:-1], bounds[1:])]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
