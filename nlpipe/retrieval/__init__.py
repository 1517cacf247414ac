"""Retrieval over your own documents: sparse (BM25), dense (embeddings, FAISS HNSW) and hybrid retrievers,
passage chunking, and retrieve-then-read question answering.

Every retriever is an estimator: ``fit(documents, ids=None)`` builds the index, ``add`` extends it,
``predict(queries)`` returns the ids of the top ``k`` documents, ``retrieve`` their ids and scores, and
``search`` a table with their texts and metadata. The ranking metrics (recall@k, MRR@k, nDCG@k) are in
:mod:`nlpipe.metrics`.
"""

from ._base import BaseRetriever
from ._bm25 import BM25Retriever
from ._chunker import PassageChunker
from ._dense import DenseRetriever
from ._hybrid import HybridRetriever
from ._qa import RetrievalQA

__all__ = ["BM25Retriever", "BaseRetriever", "DenseRetriever", "HybridRetriever", "PassageChunker", "RetrievalQA"]
