"""What every retriever shares: the fit/add template over a corpus, top-k search, results as ids or a table."""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..base import BaseTextEstimator, Interval, check_texts, fit_context, inherit_params, parameter_docs
from ._corpus import check_count, check_documents, join_ids, pack_frame, pack_ids, unpack_frame, unpack_ids

# The ``X`` of fit/add (documents) and of the query methods.
_documents_docs = parameter_docs(X_type="list of str or DataFrame",
                                 X="Documents: texts, or a DataFrame with the text column and metadata.")
_queries_docs = parameter_docs(X="Queries.")

# The corpus parameters and the index attributes every retriever has, for its class docstring.
_CORPUS_DOC = """\
    text_column : str, default="text"
        The text column of a DataFrame corpus.
    id_column : str or None, default="id"
        The id column of a DataFrame corpus, when it has one.
    verbose : int, default=1
        Progress bars when > 0.
"""
_INDEX_DOC = """\
    ids_ : ndarray of shape (n_documents,)
        The document ids (int64, or object for str ids).
    documents_ : pandas.DataFrame
        The texts (``text_column``) and metadata, one row per document.
    n_documents_ : int
        Documents in the index.
"""


def retriever_docs(retriever_class):
    """Put the shared entries where a retriever's docstring says ``%CORPUS%`` and ``%INDEX%``."""
    return inherit_params(retriever_class, docs={"    %CORPUS%\n": _CORPUS_DOC, "    %INDEX%\n": _INDEX_DOC})


def top_k(scores, k):
    """Positions and values of the ``k`` largest scores of each row, best first (ties: lower position first)."""
    n = scores.shape[1]
    k = min(k, n)
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)


class BaseRetriever(BaseTextEstimator):
    """Base class of the retrievers: ``fit`` indexes documents, ``predict`` returns the ids of the best ones.

    Subclasses write ``_index(texts)`` (build the index from scratch),
    ``_extend(texts)`` (add documents to it) and ``_search(queries, k)``
    (positions and scores of the top ``k``, best first); the documents, their
    ids and metadata, ``add``, ``retrieve``, ``search`` and ``score`` are here.
    """

    _nlpipe_task = "retrieval"
    _scores_matches = False  # True: a score <= 0 means the document does not match the query at all
    _parameter_constraints = {
        "k": [Interval(numbers.Integral, 1, None)],
        "text_column": [str],
        "id_column": [str, None],
        "verbose": [Interval(numbers.Integral, 0, None)],
    }

    # ------------------------------------------------------------------ fitting
    @fit_context
    @_documents_docs
    def fit(self, X, y=None, *, ids=None):
        """Index the documents.

        Parameters
        ----------
        y : None
            Ignored (retrievers learn from the documents alone).
        ids : sequence of int or str, default=None
            One id per document; None takes the DataFrame's ``id_column`` when it
            has one, else the positions ``0 .. n-1``.

        Returns
        -------
        self : object
        """
        texts, doc_ids, metadata = check_documents(X, ids=ids, text_column=self.text_column, id_column=self.id_column)
        self._index(texts)
        self.ids_ = doc_ids
        self.documents_ = self._frame(texts, metadata)
        self.n_documents_ = len(texts)
        return self

    @_documents_docs
    def add(self, X, *, ids=None):
        """Add documents to the fitted index, without re-reading the ones it holds.

        Parameters
        ----------
        ids : sequence of int or str, default=None
            Ids of the new documents; None continues the positions when the index
            has positional ids (an index with given ids needs new ones).

        Returns
        -------
        self : object
        """
        check_is_fitted(self, "ids_")
        texts, new_ids, metadata = check_documents(X, ids=ids, text_column=self.text_column,
                                                   id_column=self.id_column)
        has_id_column = self.id_column is not None and self.id_column in getattr(X, "columns", ())
        if ids is None and not has_id_column:
            if self.ids_.dtype == object:
                raise ValueError("This index has str ids: pass ids= (or an id column) for the added documents.")
            new_ids = new_ids + self.n_documents_
        all_ids = join_ids(self.ids_, new_ids)
        import pandas as pd

        self._extend(texts)
        frame = pd.concat([self.documents_, self._frame(texts, metadata)], ignore_index=True)
        self.ids_, self.documents_, self.n_documents_ = all_ids, frame, len(frame)
        return self

    def _frame(self, texts, metadata):
        import pandas as pd

        frame = pd.DataFrame({self.text_column: texts})
        if metadata is not None:
            frame = pd.concat([frame, metadata], axis=1)
        return frame

    # ------------------------------------------------------------------ queries
    def _positions(self, X, k):
        """``(positions, scores)`` of the top ``k`` documents of each query, best first."""
        check_is_fitted(self, "ids_")
        queries = check_texts(X)
        k = self.k if k is None else k
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive int; got {k!r}.")
        positions, scores = self._search(queries, min(int(k), self.n_documents_))
        return positions, scores.astype(np.float32, copy=False)

    @_queries_docs
    def retrieve(self, X, k=None):
        """Ids and scores of the top ``k`` documents of each query, best first.

        Parameters
        ----------
        k : int, default=None
            How many; None uses the ``k`` parameter (at most the corpus size).

        Returns
        -------
        ids : ndarray of shape (n_queries, k)
            Document ids, best first.
        scores : ndarray of shape (n_queries, k), float32
            Their scores (greater is better; the scale depends on the retriever).
        """
        positions, scores = self._positions(X, k)
        return self.ids_[positions], scores

    @_queries_docs
    def predict(self, X):
        """Ids of the top ``k`` documents of each query, best first.

        Returns
        -------
        ids : ndarray of shape (n_queries, k)
        """
        return self.retrieve(X)[0]

    @_queries_docs
    def search(self, X, k=None):
        """The top ``k`` documents of each query as a table, with their text and metadata.

        Parameters
        ----------
        k : int, default=None
            How many per query; None uses the ``k`` parameter.

        Returns
        -------
        results : pandas.DataFrame
            One row per (query, document): ``query`` (the query's position),
            ``rank`` (0 is best), ``id``, ``score``, the text column and the
            documents' metadata columns.
        """
        import pandas as pd

        positions, scores = self._positions(X, k)
        n, k = positions.shape
        flat = positions.ravel()
        head = pd.DataFrame({"query": np.repeat(np.arange(n), k), "rank": np.tile(np.arange(k), n),
                             "id": self.ids_[flat], "score": scores.ravel()})
        docs = self.documents_.iloc[flat].reset_index(drop=True)
        docs = docs.drop(columns=[c for c in docs.columns if c in head.columns])
        return pd.concat([head, docs], axis=1)

    @_queries_docs
    def score(self, X, y, sample_weight=None):
        """Recall at ``k``: the share of each query's relevant documents found in its top ``k``, averaged.

        Parameters
        ----------
        y : sequence
            The relevant id(s) of each query: one id or a list of ids.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        score : float
            In [0, 1]; other measures through ``nlpipe.metrics.get_scorer``
            (``"mrr@10"``, ``"ndcg@10"``, ``"recall@5"``, ...).
        """
        from ..metrics import recall_at_k

        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__}.score does not support sample_weight.")
        return recall_at_k(y, self.predict(X), k=self.k)

    # ------------------------------------------------------------- persistence
    def __getstate__(self):
        state = super().__getstate__()
        if "documents_" in state:  # texts and metadata as flat arrays (a file holds no object per string)
            state["documents_"] = pack_frame(state["documents_"])
            state["ids_"] = pack_ids(state["ids_"])
        return state

    def __setstate__(self, state):
        if "documents_" in state:
            state = dict(state)
            n = check_count(state.get("n_documents_"), name="n_documents_")
            state["documents_"] = unpack_frame(state["documents_"], n)
            state["ids_"] = unpack_ids(state["ids_"], n)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.non_deterministic = False
        return tags
