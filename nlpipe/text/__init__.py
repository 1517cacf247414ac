"""Classic text features and baselines: spaCy tokenization, TF-IDF + SVM / Naive Bayes.

Examples
--------
>>> from sklearn.model_selection import cross_val_score
>>> from nlpipe.text import TfidfNBClassifier, TfidfSVMClassifier
>>> X = ["free prize now", "win cash now", "see you at lunch", "lunch at noon?"] * 3
>>> y = ["spam", "spam", "ham", "ham"] * 3
>>> TfidfNBClassifier().fit(X, y).predict(["cash prize", "lunch today"]).tolist()
['spam', 'ham']
>>> float(cross_val_score(TfidfSVMClassifier(random_state=0), X, y, cv=3).mean())
1.0
"""

from ._spacy import SpacyTokenizer, import_spacy
from ._tfidf import TfidfNBClassifier, TfidfSVMClassifier

__all__ = ["SpacyTokenizer", "TfidfNBClassifier", "TfidfSVMClassifier", "import_spacy"]
