"""HybridRetriever: a sparse and a dense retriever over the same documents, their rankings fused."""

import numbers

import numpy as np
from sklearn.base import clone

from ..base import HasMethods, Interval, Options, store_params
from ._base import BaseRetriever, retriever_docs

_RRF_K = 60  # reciprocal-rank constant of Cormack et al. (2009); damps the weight of the very first ranks


@retriever_docs
class HybridRetriever(BaseRetriever):
    """Sparse and dense retrieval fused into one ranking.

    Each retriever ranks its ``depth`` best documents; the rankings are fused by a
    blend of their scores min-max normalized per query (``fusion="blend"``: a
    convex combination, which Bruch et al. (2023) found better than reciprocal
    rank once normalized) or by reciprocal rank (``fusion="rrf"``:
    ``sum w / (60 + rank)``, which ignores the scores' margins). ``weight`` is the
    dense retriever's share. Words the query shares with the
    document (names, numbers, rare terms) are BM25's strength, paraphrase the
    encoder's; fused, each covers the other's misses.

    Parameters
    ----------
    sparse : estimator or None, default=None
        Unfitted sparse retriever; None uses ``BM25Retriever()``.
    dense : estimator or None, default=None
        Unfitted dense retriever; None uses ``DenseRetriever()``.
    fusion : {"blend", "rrf"}, default="blend"
        A weighted blend of normalized scores, or reciprocal-rank fusion.
    weight : float, default=0.5
        Share of the dense retriever, in [0, 1] (0: sparse only, 1: dense only).
    depth : int, default=100
        Documents each retriever ranks before fusion.
    k : int, default=10
        Documents returned per query by ``predict``.
    %CORPUS%

    Attributes
    ----------
    %INDEX%
    sparse_ : estimator
        The fitted sparse retriever.
    dense_ : estimator
        The fitted dense retriever.

    See Also
    --------
    BM25Retriever : the default sparse retriever.
    DenseRetriever : the default dense retriever.

    Examples
    --------
    >>> from nlpipe import TransformerEmbedder
    >>> from nlpipe.retrieval import DenseRetriever, HybridRetriever
    >>> from nlpipe.testing import make_tiny_backbone
    >>> encoder = TransformerEmbedder(model=make_tiny_backbone(), verbose=0)
    >>> docs = ["The cat sat on the mat.", "Stock markets fell on Monday.", "Dogs chase cats."]
    >>> hybrid = HybridRetriever(dense=DenseRetriever(encoder=encoder, verbose=0), k=1, verbose=0).fit(docs)
    >>> hybrid.predict(["markets on monday", "the cat sat"]).tolist()
    [[1], [0]]
    """

    _parameter_constraints = {
        **BaseRetriever._parameter_constraints,
        "sparse": [HasMethods(["fit", "retrieve"]), None],
        "dense": [HasMethods(["fit", "retrieve"]), None],
        "fusion": [Options(["blend", "rrf"])],
        "weight": [Interval(numbers.Real, 0, 1)],
        "depth": [Interval(numbers.Integral, 1, None)],
    }

    def __init__(self, *, sparse=None, dense=None, fusion="blend", weight=0.5, depth=100, k=10, text_column="text",
                 id_column="id", verbose=1):
        store_params(self, locals())

    def _index(self, texts):
        from ._bm25 import BM25Retriever
        from ._dense import DenseRetriever

        parts = []
        for given, default in ((self.sparse, BM25Retriever), (self.dense, DenseRetriever)):
            retriever = default(verbose=self.verbose) if given is None else clone(given)
            if not isinstance(retriever, BaseRetriever):
                raise TypeError(f"HybridRetriever fuses nlpipe retrievers; got {type(retriever).__name__}.")
            parts.append(retriever.fit(texts))  # positional ids: the fusion works on positions
        self.sparse_, self.dense_ = parts

    def _extend(self, texts):
        self.sparse_.add(texts)
        self.dense_.add(texts)

    def _search(self, queries, k):
        depth = min(max(self.depth, k), self.n_documents_)
        ranked = [r._positions(queries, depth) for r in (self.sparse_, self.dense_)]
        shares = (1.0 - self.weight, self.weight)
        positions = np.empty((len(queries), k), dtype=np.int64)
        scores = np.empty((len(queries), k), dtype=np.float32)
        for i in range(len(queries)):
            fused = {}
            for (all_pos, all_val), share, retriever in zip(ranked, shares, (self.sparse_, self.dense_)):
                pos, val = all_pos[i], all_val[i]  # this query's row only: masking every row made a batch quadratic
                if retriever._scores_matches:  # a score of 0 (no shared term) is no match, not a rank
                    keep = val > 0
                    pos, val = pos[keep], val[keep]
                if not len(pos):
                    continue
                if self.fusion == "rrf":
                    contrib = share / (_RRF_K + 1 + np.arange(len(pos)))
                else:
                    v = val.astype(np.float64)
                    span = v.max() - v.min()
                    contrib = share * ((v - v.min()) / span if span > 0 else np.ones_like(v))
                for p, c in zip(pos.tolist(), contrib.tolist()):
                    fused[p] = fused.get(p, 0.0) + c
            cand = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
            vals = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
            order = np.lexsort((cand, -vals))[:k]
            if len(order) < k:  # both lists shorter than k: fill with the rest in position order
                rest = np.setdiff1d(np.arange(self.n_documents_), cand)[: k - len(order)]
                cand, vals = np.concatenate([cand[order], rest]), np.concatenate([vals[order], np.zeros(len(rest))])
                order = np.arange(k)
            positions[i], scores[i] = cand[order], vals[order]
        return positions, scores
