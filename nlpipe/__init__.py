"""nlpipe: NLP tasks as scikit-learn estimators.

Public names load lazily (PEP 562), so ``import nlpipe`` stays cheap and never
imports torch, transformers or spaCy; those load inside the code that needs them.
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
    "QuestionAnswerer": "nlpipe.question_answering",
    "save": "nlpipe._persist",
    "load": "nlpipe._persist",
}
_SUBMODULES = {"base", "classification", "cli", "compression", "datasets", "exceptions", "generation", "metrics", "neural", "question_answering", "sentiment", "summarization", "testing", "text"}

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
