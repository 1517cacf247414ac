"""Classic text features and baselines: spaCy tokenization, TF-IDF + SVM / Naive Bayes."""

from ._spacy import SpacyTokenizer
from ._tfidf import TfidfNBClassifier, TfidfSVMClassifier

__all__ = ["SpacyTokenizer", "TfidfNBClassifier", "TfidfSVMClassifier"]
