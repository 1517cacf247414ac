"""Summarizers as estimators: ``predict`` gives one summary string per document, ``score`` is ROUGE."""

from ._extractive import ExtractiveSummarizer
from ._sentences import split_sentences

__all__ = ["ExtractiveSummarizer", "split_sentences"]
