"""Ranking metrics of retrievers (recall, MRR and nDCG at k) and their scorers."""

import functools
import numbers

import numpy as np

from ..base import parameter_docs

# The parameters and the score every ranking metric shares, described once.
_ranking_docs = parameter_docs(entries={
    "y_true": "sequence\n    The relevant id of each query, or a list of them.",
    "y_pred": "array-like of shape (n_queries, n_ranked)\n    Ranked ids, best first (a retriever's ``predict``).",
    "k": "int, default=10\n    Ranks counted.",
}, returns="score : float\n    In [0, 1].")


def _relevant_sets(y_true, n):
    items = y_true.tolist() if hasattr(y_true, "tolist") else list(y_true)
    if len(items) != n:
        raise ValueError(f"y_true has {len(items)} queries but the ranking has {n}.")
    sets = []
    for i, item in enumerate(items):
        if isinstance(item, (list, tuple, set, frozenset, np.ndarray)):
            if len(item) == 0:
                raise ValueError(f"y_true[{i}] is empty; every query needs at least one relevant id.")
            sets.append({v.item() if isinstance(v, np.generic) else v for v in item})
        elif item is None or (isinstance(item, float) and item != item):
            raise ValueError(f"y_true[{i}] is a missing value; give the relevant id(s) of every query.")
        else:
            sets.append({item.item() if isinstance(item, np.generic) else item})
    return sets


def _ranked(y_true, y_pred, k):
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int; got {k!r}.")
    ranking = np.asarray(y_pred, dtype=object)
    if ranking.ndim != 2:
        raise ValueError(f"y_pred must be a 2-D ranking (one row of ids per query); got shape {ranking.shape}.")
    if ranking.shape[0] == 0:
        raise ValueError("Ranking metrics need at least one query.")
    relevant = _relevant_sets(y_true, ranking.shape[0])
    hits = np.array([[(v.item() if isinstance(v, np.generic) else v) in rel for v in row[:k]]
                     for row, rel in zip(ranking, relevant)], dtype=bool).reshape(ranking.shape[0], -1)
    return hits, relevant


@_ranking_docs
def recall_at_k(y_true, y_pred, *, k=10):
    """Recall at ``k``: the share of each query's relevant ids found in its top ``k``, averaged over queries.

    Examples
    --------
    >>> from nlpipe.metrics import mrr_at_k, ndcg_at_k, recall_at_k
    >>> ranking = [["a", "b", "c"], ["c", "a", "b"]]
    >>> recall_at_k(["b", ["a", "b"]], ranking, k=2)
    0.75
    >>> mrr_at_k(["b", "b"], ranking, k=3)
    0.41666666666666663
    >>> round(ndcg_at_k(["a", "c"], ranking, k=3), 3)
    1.0
    """
    hits, relevant = _ranked(y_true, y_pred, k)
    return float(np.mean([h.sum() / len(rel) for h, rel in zip(hits, relevant)]))


@_ranking_docs
def mrr_at_k(y_true, y_pred, *, k=10):
    """Mean reciprocal rank at ``k``: 1 / the rank of the first relevant id (0 when none is in the top ``k``).

    Examples
    --------
    >>> from nlpipe.metrics import mrr_at_k
    >>> mrr_at_k([1, 7], [[3, 1, 2], [7, 1, 2]], k=3)
    0.75
    """
    hits, _ = _ranked(y_true, y_pred, k)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, np.inf)
    return float(np.mean(1.0 / first))


@_ranking_docs
def ndcg_at_k(y_true, y_pred, *, k=10):
    """Normalized discounted cumulative gain at ``k``, binary relevance, averaged over queries.

    Returns
    -------
    score : float
        In [0, 1]; 1 when the relevant ids fill the first ranks.

    Examples
    --------
    >>> from nlpipe.metrics import ndcg_at_k
    >>> round(ndcg_at_k(["b"], [["a", "b"]], k=2), 4)
    0.6309
    """
    hits, relevant = _ranked(y_true, y_pred, k)
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.array([discounts[: min(len(rel), hits.shape[1])].sum() for rel in relevant])
    return float(np.mean(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1), 0.0)))


class _RankingScorer:
    """``scorer(retriever, queries, relevant)``: a ranking metric of the retriever's top ``k``."""

    def __init__(self, metric, k):
        self.metric, self.k = metric, k

    def __call__(self, estimator, X, y_true, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("Ranking scorers do not support sample_weight.")
        ranking = estimator.retrieve(X, k=self.k)[0] if hasattr(estimator, "retrieve") else estimator.predict(X)
        return self.metric(y_true, ranking, k=self.k)

    def __repr__(self):
        return f"get_scorer({self.metric.__name__.replace('_at_k', '')}@{self.k!r})"


_RANKING = {"recall": recall_at_k, "mrr": mrr_at_k, "ndcg": ndcg_at_k}


@functools.lru_cache(maxsize=64)
def _ranking_scorer(name):
    metric, _, k = name.partition("@")
    if metric in _RANKING and k.isdigit() and int(k) > 0:
        return _RankingScorer(_RANKING[metric], int(k))
    return None
