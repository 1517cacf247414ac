"""nlpipe: NLP tasks as scikit-learn estimators.

Public names load lazily (PEP 562), so ``import nlpipe`` stays cheap and never
imports torch, transformers or spaCy; those load inside the code that needs them.

``__version__`` is the version of the package (a PEP 440 string); pickled
estimators are stamped with it, and unpickling one under another version warns
with :class:`nlpipe.exceptions.InconsistentVersionWarning`.

Examples
--------
>>> import pickle
>>> import nlpipe
>>> X = ["free prize now", "win cash now", "see you at lunch", "lunch at noon?"] * 3
>>> y = ["spam", "spam", "ham", "ham"] * 3
>>> clf = nlpipe.TfidfSVMClassifier(random_state=0).fit(X, y)
>>> clf.predict(["win a prize", "lunch?"]).tolist()
['spam', 'ham']
>>> nlpipe.__version__[0].isdigit()
True
>>> clf.__getstate__()["_nlpipe_version"] == nlpipe.__version__
True
>>> pickle.loads(pickle.dumps(clf)).predict(["cash now"]).tolist()
['spam']
"""

import importlib

from ._version import __version__

# public name -> module that defines it
_LAZY = {
    "SpacyTokenizer": "nlpipe.text",
    "TfidfSVMClassifier": "nlpipe.text",
    "TfidfNBClassifier": "nlpipe.text",
    "TransformerClassifier": "nlpipe.classification",
    "TransformerRegressor": "nlpipe.classification",
    "TransformerEmbedder": "nlpipe.classification",
    "FewShotClassifier": "nlpipe.classification",
    "LexiconSentiment": "nlpipe.sentiment",
    "LexiconFeatures": "nlpipe.sentiment",
    "IntensityRegressor": "nlpipe.sentiment",
    "IntensityClassifier": "nlpipe.sentiment",
    "SentimentClassifier": "nlpipe.sentiment",
    "AbstractiveSummarizer": "nlpipe.summarization",
    "ExtractiveSummarizer": "nlpipe.summarization",
    "SupervisedExtractiveSummarizer": "nlpipe.summarization",
    "TextGenerator": "nlpipe.generation",
    "Translator": "nlpipe.generation",
    "ExtractiveQuestionAnswerer": "nlpipe.question_answering",
    "GenerativeQuestionAnswerer": "nlpipe.question_answering",
    "BM25Retriever": "nlpipe.retrieval",
    "DenseRetriever": "nlpipe.retrieval",
    "HybridRetriever": "nlpipe.retrieval",
    "PassageChunker": "nlpipe.retrieval",
    "RetrievalQA": "nlpipe.retrieval",
    "save": "nlpipe._persist",
    "load": "nlpipe._persist",
}
_SUBMODULES = {"base", "classification", "cli", "compression", "datasets", "exceptions", "finetune", "generation", "metrics", "neural", "question_answering", "retrieval", "sentiment", "summarization", "testing", "text"}

__all__ = sorted([*_LAZY, "datasets", "exceptions", "metrics", "text", "__version__"])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"nlpipe.{name}")
    else:
        raise AttributeError(f"module 'nlpipe' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
