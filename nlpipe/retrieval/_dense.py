"""DenseRetriever: documents and queries embedded by one encoder; exact or HNSW (FAISS) inner-product search."""

import logging
import math
import numbers
import sys

import numpy as np
from sklearn.base import clone

from ..base import HasMethods, Interval, Options, check_load_size, import_optional, store_params
from ._base import BaseRetriever, retriever_docs, top_k
from ._corpus import check_count

logger = logging.getLogger(__name__)

_AUTO_HNSW = 100_000  # below this many documents exact search is as fast and never misses
_HNSW_M = 32  # neighbours per node (FAISS's usual setting for 384-768 dimensions)
_EF_CONSTRUCTION = 80
_BLOCK = 8192  # texts embedded per call: bounds the memory of one encoder call and paces the progress bar


def _faiss(what):
    return import_optional("faiss", extra="retrieval", what=what)


def _dask_client():
    """The active Dask client, or None (Dask is only looked for when the program imported it)."""
    if "distributed" not in sys.modules:
        return None
    try:
        return sys.modules["distributed"].default_client()
    except ValueError:
        return None


def _transform(encoder, texts):
    return np.asarray(encoder.transform(texts), dtype=np.float32)


@retriever_docs
class DenseRetriever(BaseRetriever):
    """Dense retrieval: the documents nearest a query in an encoder's embedding space.

    Documents and queries are embedded by the same encoder (a
    :class:`~nlpipe.TransformerEmbedder`, or any scikit-learn transformer that
    turns texts into dense vectors), L2-normalized, and ranked by inner product
    (cosine similarity). ``index="exact"`` scores every document (a matrix
    product); ``index="hnsw"`` builds a FAISS HNSW graph (32 links per node),
    approximate and much faster on large corpora. Embedding the corpus runs in
    blocks with a progress bar; when a Dask client is active
    (``distributed.Client``), the blocks are spread over its workers.

    Parameters
    ----------
    encoder : estimator or None, default=None
        Unfitted text encoder (cloned and fitted on the documents in ``fit``);
        None uses ``TransformerEmbedder()`` (all-MiniLM-L6-v2).
    k : int, default=10
        Documents returned per query by ``predict``.
    index : {"auto", "exact", "hnsw"}, default="auto"
        The search: exact, FAISS HNSW, or "auto" (HNSW from 100,000 documents).
    ef_search : int, default=128
        HNSW: candidates kept while searching (more is slower and misses less).
    %CORPUS%

    Attributes
    ----------
    %INDEX%
    encoder_ : estimator
        The fitted encoder.
    n_features_ : int
        Embedding size.
    index_type_ : {"exact", "hnsw"}
        The search in use.
    embeddings_ : ndarray of shape (n_documents, n_features_), float32
        The normalized document embeddings (exact search).
    index_ : faiss.IndexHNSWFlat
        The HNSW index (``index_type_ == "hnsw"``); it holds the embeddings.

    See Also
    --------
    BM25Retriever : sparse retrieval by term weights.
    HybridRetriever : both, fused.

    Examples
    --------
    >>> from nlpipe import TransformerEmbedder
    >>> from nlpipe.retrieval import DenseRetriever
    >>> from nlpipe.testing import make_tiny_backbone
    >>> docs = ["the cat sat on the mat", "stock markets fell", "dogs chase cats"]
    >>> dense = DenseRetriever(encoder=TransformerEmbedder(model=make_tiny_backbone(), verbose=0), k=2,
    ...                        verbose=0).fit(docs)
    >>> dense.predict(["the cat sat on the mat"])[0, 0]
    np.int64(0)
    >>> dense.retrieve(["markets"], k=3)[0].shape
    (1, 3)
    """

    _parameter_constraints = {
        **BaseRetriever._parameter_constraints,
        "encoder": [HasMethods(["fit", "transform"]), None],
        "index": [Options(["auto", "exact", "hnsw"])],
        "ef_search": [Interval(numbers.Integral, 1, None)],
    }

    def __init__(self, *, encoder=None, k=10, index="auto", ef_search=128, text_column="text", id_column="id",
                 verbose=1):
        store_params(self, locals())

    # ------------------------------------------------------------------ index
    def _embed(self, texts, desc):
        """Normalized float32 embeddings of ``texts``, in blocks (across Dask workers when a client is active)."""
        from tqdm.auto import tqdm

        n = len(texts)
        client = _dask_client() if n > _BLOCK else None
        if client is not None:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            size = max(256, math.ceil(n / (4 * workers)))
            blocks = [texts[i : i + size] for i in range(0, n, size)]
            encoder = client.scatter(self.encoder_, broadcast=True)
            futures = client.map(_transform, [encoder] * len(blocks), blocks, pure=False)
            logger.info("Embedding %d texts in %d blocks on %d Dask workers", n, len(blocks), workers)
            E = np.concatenate(client.gather(futures)) if blocks else np.zeros((0, 0), np.float32)
        else:
            E = None  # filled block by block: no second copy of the corpus's vectors
            with tqdm(total=n, desc=desc, disable=self.verbose <= 0 or n <= _BLOCK, unit="text") as bar:
                for i in range(0, n, _BLOCK):
                    part = _transform(self.encoder_, texts[i : i + _BLOCK])
                    if part.ndim != 2 or part.shape[0] != len(texts[i : i + _BLOCK]):
                        raise ValueError(f"The encoder returned an array of shape {part.shape} for "
                                         f"{len(texts[i : i + _BLOCK])} texts; expected (n_texts, n_features).")
                    if E is None:
                        E = np.empty((n, part.shape[1]), dtype=np.float32)
                    E[i : i + len(part)] = part
                    bar.update(len(part))
        if E.ndim != 2 or E.shape[0] != n:
            raise ValueError(f"The encoder returned an array of shape {E.shape} for {n} texts; expected (n_texts, "
                             "n_features).")
        E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(E)

    def _index(self, texts):
        if self.encoder is None:
            from ..classification import TransformerEmbedder

            encoder = TransformerEmbedder(verbose=0)
        else:
            encoder = clone(self.encoder)
        verbose = encoder.get_params(deep=False).get("verbose")
        if isinstance(verbose, numbers.Integral) and not isinstance(verbose, bool) and verbose > 0:
            encoder.set_params(verbose=0)  # nlpipe's encoders: this retriever's bar counts the whole corpus
        self.encoder_ = encoder.fit(texts, None)  # y positional: FrozenEstimator(encoder).fit requires it
        E = self._embed(texts, "embed documents")
        self.n_features_ = int(E.shape[1])
        kind = self.index
        if kind == "auto":
            kind = "hnsw" if len(texts) >= _AUTO_HNSW else "exact"
        self.index_type_ = kind
        if kind == "exact":
            self.embeddings_ = E
        else:
            faiss = _faiss("DenseRetriever(index='hnsw')")
            index = faiss.IndexHNSWFlat(self.n_features_, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = _EF_CONSTRUCTION
            index.add(E)
            self.index_ = index

    def _extend(self, texts):
        E = self._embed(texts, "embed documents")
        if self.index_type_ == "exact":
            self.embeddings_ = np.concatenate([self.embeddings_, E])
        else:
            self.index_.add(E)

    # ------------------------------------------------------------------ query
    def _search(self, queries, k):
        Q = self._embed(queries, "embed queries")
        if self.index_type_ == "hnsw":
            self.index_.hnsw.efSearch = max(self.ef_search, k)
            scores, positions = self.index_.search(Q, k)
            # HNSW may return fewer than k hits (-1) on tiny or disconnected graphs: fill from the rest
            missing = positions < 0
            if missing.any():
                scores = np.where(missing, -np.inf, scores)
                positions = np.where(missing, 0, positions)
            return positions.astype(np.int64), scores
        E = self.embeddings_
        block = max(1, (1 << 24) // max(1, E.shape[0]))
        out_p, out_s = [], []
        for i in range(0, len(Q), block):
            p, s = top_k(Q[i : i + block] @ E.T, k)
            out_p.append(p)
            out_s.append(s)
        return np.concatenate(out_p), np.concatenate(out_s)

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        state = super().__getstate__()
        if "index_" in state:
            faiss = _faiss("saving an HNSW index")
            state["index_"] = {"faiss": np.asarray(faiss.serialize_index(state["index_"]), dtype=np.uint8)}
        return state

    def __setstate__(self, state):
        if "index_" in state:
            state = dict(state)
            n = check_count(state.get("n_documents_"), name="n_documents_")
            d = check_count(state.get("n_features_"), name="n_features_", limit=1 << 16)
            state["index_"] = _read_hnsw(state["index_"], n, d)
        elif "embeddings_" in state:
            E, n = state["embeddings_"], state.get("n_documents_")
            if not (isinstance(E, np.ndarray) and E.dtype == np.float32 and E.ndim == 2 and E.shape[0] == n
                    and E.shape[1] == state.get("n_features_")):
                raise ValueError("embeddings_: expected an (n_documents_, n_features_) float32 array.")
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.index == "hnsw"
        return tags


def _read_hnsw(packed, n, d):
    """A FAISS HNSW index from its bytes, after checking the header and every link against the sizes.

    FAISS's reader trusts its input; a crafted file could point links outside the
    graph and make ``search`` read memory it does not own. The header is checked
    before FAISS reads anything, and the graph after, before any search runs.
    """
    if not (isinstance(packed, dict) and set(packed) == {"faiss"} and isinstance(packed["faiss"], np.ndarray)
            and packed["faiss"].dtype == np.uint8 and packed["faiss"].ndim == 1):
        raise ValueError("index_: expected the FAISS index as a 1-D uint8 array.")
    raw = packed["faiss"]
    if len(raw) < 16 or raw[:4].tobytes() != b"IHNf":
        raise ValueError("index_: not a FAISS HNSW (flat) index.")
    head_d = int(raw[4:8].view(np.int32)[0])
    head_n = int(raw[8:16].view(np.int64)[0])
    if head_d != d or head_n != n:
        raise ValueError(f"index_: the index holds {head_n} vectors of {head_d} dimensions; the retriever says "
                         f"{n} of {d}.")
    if len(raw) < n * d * 4:
        raise ValueError("index_: the index is shorter than its vectors.")
    check_load_size(2 * len(raw), "index_")
    faiss = _faiss("loading an HNSW index")
    try:
        index = faiss.deserialize_index(raw)
    except RuntimeError as exc:
        raise ValueError(f"index_: FAISS could not read the index: {str(exc).splitlines()[0]}") from None
    if not isinstance(index, faiss.IndexHNSWFlat) or index.d != d or index.ntotal != n or index.metric_type != \
            faiss.METRIC_INNER_PRODUCT:
        raise ValueError("index_: not an inner-product HNSW index of the stated size.")
    h = index.hnsw
    levels = faiss.vector_to_array(h.levels)
    offsets = faiss.vector_to_array(h.offsets)
    links = faiss.vector_to_array(h.neighbors)
    cum = faiss.vector_to_array(h.cum_nneighbor_per_level)
    ok = (len(levels) == n and len(offsets) == n + 1 and (n == 0 or offsets[0] == 0) and
          len(links) == (offsets[-1] if n else len(links)) and (np.diff(offsets) >= 0).all() and
          (links.size == 0 or (links.min() >= -1 and links.max() < n)) and
          (n == 0 or (levels.min() >= 1 and levels.max() < len(cum))) and
          (n == 0 or (np.diff(offsets) == cum[levels]).all()) and
          (n == 0 and h.entry_point == -1 or 0 <= h.entry_point < n) and
          (n == 0 or h.max_level == levels.max() - 1))
    if not ok:
        raise ValueError("index_: the HNSW graph links outside its vectors.")
    return index
