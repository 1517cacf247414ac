"""Summarizers as estimators: ``predict`` gives one summary string per document, ``score`` is ROUGE."""

from ._abstractive import AbstractiveSummarizer
from ._extractive import ExtractiveSummarizer, SupervisedExtractiveSummarizer, oracle_labels
from ._sentences import split_sentences

__all__ = ["AbstractiveSummarizer", "ExtractiveSummarizer", "SupervisedExtractiveSummarizer", "oracle_labels", "split_sentences"]
