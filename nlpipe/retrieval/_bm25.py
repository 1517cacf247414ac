"""BM25Retriever: Lucene's BM25 over a sparse term-count matrix, tokenized as bm25s tokenizes."""

import numbers

import numpy as np
from scipy import sparse

from ..base import Interval, check_load_size, import_optional, store_params
from ._base import BaseRetriever, retriever_docs, top_k
from ._corpus import check_count, pack_strings, unpack_strings


def _bm25s_tokenizer(stop_words):
    tokenization = import_optional("bm25s.tokenization", extra="retrieval", what="BM25Retriever")
    try:
        return tokenization.Tokenizer(lower=True, stopwords=stop_words, stemmer=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"stop_words={stop_words!r} is not a list of words or a stop-word list bm25s knows "
                         f"('english', 'german', 'french', ...): {exc}") from None


@retriever_docs
class BM25Retriever(BaseRetriever):
    """Sparse retrieval with BM25 (the Lucene variant), as an estimator.

    Texts are lower-cased and split into words of two or more letters or digits,
    stop words left out: the tokenization of ``bm25s`` (its tokenizer does it),
    so the scores equal ``bm25s.BM25(method="lucene")`` on the same corpus.
    The index is a sparse matrix of BM25 weights (one row of postings per
    term); a query's scores are the sums of its terms' rows. :meth:`add`
    appends documents: term counts are kept, so the weights of every document
    (whose IDF changes) are recomputed without tokenizing the old ones again.

    Parameters
    ----------
    k : int, default=10
        Documents returned per query by ``predict`` (and ``retrieve``/``search``
        unless they are given ``k``).
    k1 : float, default=1.5
        Term-frequency saturation: how fast repeated terms stop adding.
    b : float, default=0.75
        Length normalization: 0 ignores document length, 1 divides fully by it.
    stop_words : str, list of str or None, default="english"
        Words left out: a bm25s stop-word list by name ("english", "german",
        "french", ...), your own list, or None.
    %CORPUS%

    Attributes
    ----------
    %INDEX%
    vocabulary_ : dict of str to int
        Term -> column of ``term_counts_``.
    term_counts_ : scipy.sparse.csr_matrix of shape (n_documents, n_terms)
        How often each term occurs in each document.

    See Also
    --------
    DenseRetriever : retrieval by embedding similarity.
    HybridRetriever : both, fused.

    Examples
    --------
    >>> from nlpipe.retrieval import BM25Retriever
    >>> docs = ["The cat sat on the mat.", "Dogs chase cats in the park.", "Stock markets fell on Monday."]
    >>> bm25 = BM25Retriever(k=2, verbose=0).fit(docs, ids=["cat", "dog", "stocks"])
    >>> bm25.predict(["where did the cat sit?", "markets on monday"]).tolist()
    [['cat', 'dog'], ['stocks', 'cat']]
    >>> ids, scores = bm25.retrieve(["markets"], k=1)
    >>> ids.tolist(), bool(scores[0, 0] > 0)
    ([['stocks']], True)
    """

    _scores_matches = True
    _parameter_constraints = {
        **BaseRetriever._parameter_constraints,
        "k1": [Interval(numbers.Real, 0, None)],
        "b": [Interval(numbers.Real, 0, 1)],
        "stop_words": [str, list, None],
    }

    def __init__(self, *, k=10, k1=1.5, b=0.75, stop_words="english", text_column="text", id_column="id", verbose=1):
        store_params(self, locals())

    def _reset(self):
        super()._reset()
        self.__dict__.pop("_postings", None)
        self.__dict__.pop("_tokenizer", None)

    # ------------------------------------------------------------------ index
    def _tokenize(self, texts, update_vocab):
        tokenizer = self.__dict__.get("_tokenizer")
        if tokenizer is None:
            tokenizer = _bm25s_tokenizer(self.stop_words)
            tokenizer.word_to_id = dict(getattr(self, "vocabulary_", {}))
            self._tokenizer = tokenizer
        return tokenizer.tokenize(texts, update_vocab=update_vocab, return_as="ids",
                                  show_progress=self.verbose > 0 and len(texts) > 1000)

    def _counts(self, texts, n_terms_before=0):
        ids = self._tokenize(texts, update_vocab=True)
        lengths = np.fromiter((len(d) for d in ids), dtype=np.int64, count=len(ids))
        cols = np.fromiter((t for d in ids for t in d), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(ids)), lengths)
        n_terms = len(self._tokenizer.word_to_id)
        counts = sparse.csr_matrix((np.ones(len(cols), dtype=np.int32), (rows, cols)), shape=(len(ids), n_terms))
        counts.sum_duplicates()
        return counts

    def _index(self, texts):
        self.__dict__.pop("_tokenizer", None)
        self.vocabulary_ = {}
        counts = self._counts(texts)
        self.vocabulary_ = self._tokenizer.word_to_id
        self.term_counts_ = counts
        self._postings = self._weights(counts)

    def _extend(self, texts):
        new = self._counts(texts)
        n_terms = new.shape[1]
        old = self.term_counts_
        old = sparse.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], n_terms))
        self.vocabulary_ = self._tokenizer.word_to_id
        self.term_counts_ = sparse.vstack([old, new], format="csr")
        self._postings = self._weights(self.term_counts_)

    def _weights(self, counts):
        """Term-major (n_terms x n_documents) CSR of BM25 weights: Lucene's IDF times the saturated term frequency."""
        n_docs, n_terms = counts.shape
        tf = counts.data.astype(np.float64)
        lengths = np.diff(counts.indptr)
        doc_len = np.add.reduceat(tf, counts.indptr[:-1]) if len(tf) else np.zeros(n_docs)
        doc_len[lengths == 0] = 0
        avg = doc_len.mean() if n_docs and doc_len.mean() > 0 else 1.0
        df = np.bincount(counts.indices, minlength=n_terms)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1 - self.b + self.b * doc_len / avg)
        weights = idf[counts.indices] * tf / (tf + np.repeat(norm, lengths))
        by_doc = sparse.csr_matrix((weights.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape)
        return by_doc.T.tocsr()

    # ------------------------------------------------------------------ query
    def _search(self, queries, k):
        postings = self.__dict__.get("_postings")
        if postings is None:
            postings = self._postings = self._weights(self.term_counts_)
        n_docs = postings.shape[1]
        query_ids = self._tokenize(queries, update_vocab=False)
        positions = np.empty((len(queries), k), dtype=np.int64)
        scores = np.empty((len(queries), k), dtype=np.float32)
        indptr, indices, data = postings.indptr, postings.indices, postings.data
        for i, terms in enumerate(query_ids):
            terms = np.asarray(terms, dtype=np.int64)
            terms = terms[terms < postings.shape[0]]
            matched = np.zeros(0, dtype=np.int64)
            if len(terms):
                docs = np.concatenate([indices[indptr[t] : indptr[t + 1]] for t in terms])
                weights = np.concatenate([data[indptr[t] : indptr[t + 1]] for t in terms])
                row = np.bincount(docs, weights=weights, minlength=n_docs)
                matched = np.flatnonzero(row)  # BM25 weights are positive: the documents sharing a term
            # rank only the matched documents (a few percent of a large corpus for most queries)
            p, s = top_k(row[matched][None, :], min(k, len(matched))) if len(matched) else (np.zeros((1, 0), int),
                                                                                          np.zeros((1, 0)))
            p = matched[p[0]]
            if len(p) < k:  # fewer matches than k: documents without a shared term follow, by position
                rest = np.setdiff1d(np.arange(min(n_docs, k + len(matched))), matched, assume_unique=True)
                p, s = np.concatenate([p, rest[: k - len(p)]]), np.concatenate([s[0], np.zeros(k - len(p))])[None]
            positions[i], scores[i] = p, s[0]
        return positions, scores

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_postings", None)
        state.pop("_tokenizer", None)
        if "term_counts_" in state:
            counts = state["term_counts_"]
            words = [None] * len(state["vocabulary_"])
            for word, j in state["vocabulary_"].items():
                words[j] = word
            state["vocabulary_"] = pack_strings(words)
            state["term_counts_"] = {"data": counts.data, "indices": counts.indices, "indptr": counts.indptr}
        return state

    def __setstate__(self, state):
        if "term_counts_" in state:
            state = dict(state)
            n_docs = check_count(state.get("n_documents_"), name="n_documents_")
            words = unpack_strings(state["vocabulary_"], name="vocabulary_")
            if any(w is None for w in words):
                raise ValueError("vocabulary_: a term is missing.")
            vocabulary = {w: j for j, w in enumerate(words)}
            if len(vocabulary) != len(words):
                raise ValueError("vocabulary_: a term appears twice.")
            counts = state["term_counts_"]
            if not isinstance(counts, dict) or set(counts) != {"data", "indices", "indptr"}:
                raise ValueError("term_counts_: expected data, indices and indptr arrays.")
            data, indices, indptr = counts["data"], counts["indices"], counts["indptr"]
            for key, arr in counts.items():
                if not (isinstance(arr, np.ndarray) and arr.ndim == 1 and arr.dtype.kind in "iu"):
                    raise ValueError(f"term_counts_: {key} must be a 1-D integer array.")
            if len(indptr) != n_docs + 1 or len(data) != len(indices):
                raise ValueError("term_counts_: the arrays do not describe one row per document.")
            check_load_size(len(indices) * 12 + n_docs * 8, "term_counts_")
            try:
                matrix = sparse.csr_matrix((data, indices, indptr), shape=(n_docs, len(words)))
                matrix.check_format(full_check=True)  # indices out of range, pointers that go back
            except ValueError as exc:
                raise ValueError(f"term_counts_: {exc}") from None
            if (matrix.data <= 0).any():
                raise ValueError("term_counts_: counts must be positive.")
            state["vocabulary_"], state["term_counts_"] = vocabulary, matrix
        super().__setstate__(state)
