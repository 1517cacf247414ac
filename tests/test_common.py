"""Every public estimator keeps the contract of DESIGN.md (one parametrised suite)."""

import inspect
import re

import pytest
from sklearn.base import BaseEstimator, is_classifier, is_regressor

import nlpipe
from nlpipe.testing import yield_contract_checks


def _public_estimators():
    found = []
    for name in nlpipe.__all__:
        obj = getattr(nlpipe, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append(obj)
    return found


ESTIMATORS = _public_estimators()

def _instance(cls, **params):
    """A fast-to-fit instance: transformer estimators get the tiny local backbone."""
    defaults = cls().get_params()
    if "encoder" in defaults:  # dense retrieval: the tiny backbone as encoder
        params = {"encoder": _instance(nlpipe.TransformerEmbedder), "verbose": 0, **params}
    if "dense" in defaults:
        params = {"dense": _instance(nlpipe.DenseRetriever), "verbose": 0, **params}
    if "reader" in defaults:
        params = {"reader": _instance(nlpipe.ExtractiveQuestionAnswerer, epochs=0, max_length=48), "n_passages": 1,
                  "verbose": 0, **params}
    if "device" in defaults:  # every neural estimator (or neural backend) has one
        from nlpipe.testing import make_tiny_backbone

        params = {"model": make_tiny_backbone(), "verbose": 0, **params}
        if "n_iterations" in defaults:  # few-shot: one epoch reading each text twice, not 20 times
            params = {"n_iterations": 2, "epochs": 1, **params}
        if "epochs" in defaults:
            params = {"epochs": 2, "batch_size": 8, "learning_rate": 3e-3, "random_state": 0, **params}
        if "max_new_tokens" in defaults:  # an untrained tiny model rambles until the limit
            params = {"max_new_tokens": 12, **params}
    return cls(**params)


def _tiny_causal_lm():
    from nlpipe.testing import make_tiny_causal_lm

    return make_tiny_causal_lm()


PARAM_GRIDS = {
    "TfidfSVMClassifier": {"C": [0.1, 1.0], "ngram_range": [(1, 1), (1, 2)]},
    "TfidfNBClassifier": {"alpha": [0.1, 1.0], "variant": ["complement", "multinomial"]},
    "TransformerClassifier": {"learning_rate": [1e-3, 3e-3], "epochs": [1, 2]},
    "TransformerRegressor": {"learning_rate": [1e-3, 3e-3], "epochs": [1, 2]},
    "FewShotClassifier": {"n_iterations": [1, 2]},
    "LexiconSentiment": {"C": [1.0, 100.0], "class_weight": [None, "balanced"]},
    "IntensityRegressor": {"alpha": [0.3, 1.0], "lexicon": [None, "vader"]},
    "IntensityClassifier": {"C": [1.0, 100.0]},
    "SentimentClassifier": {"C": [0.1, 1.0], "lexicon": [None, "vader"]},
    "ExtractiveSummarizer": {"n_sentences": [1, 2]},
    "SupervisedExtractiveSummarizer": {"n_sentences": [1, 2]},
    "AbstractiveSummarizer": {"num_beams": [1, 2]},
    "TextGenerator": {"num_beams": [1, 2]},
    "Translator": {"num_beams": [1, 2]},
    "ExtractiveQuestionAnswerer": {"max_answer_length": [2, 8]},
    "GenerativeQuestionAnswerer": {"num_beams": [1, 2]},
    "BM25Retriever": {"k1": [0.9, 1.5], "b": [0.5, 0.75]},
    "DenseRetriever": {"k": [1, 2]},
    "HybridRetriever": {"fusion": ["rrf", "blend"], "weight": [0.3, 0.7]},
    "RetrievalQA": {"n_passages": [1, 2]},
    "PassageChunker": {"size": [3, 5]},
}

# Non-default configurations that must keep the contract as well.
EXTRA_CONFIGS = [
    nlpipe.TfidfSVMClassifier(probability=True, random_state=0),
    nlpipe.TfidfSVMClassifier(tokenizer=nlpipe.SpacyTokenizer(), min_df=1),
    nlpipe.TfidfNBClassifier(variant="multinomial", analyzer="char_wb", ngram_range=(2, 4)),
    nlpipe.SpacyTokenizer(remove_punct=True, remove_stop_words=True),
    _instance(nlpipe.TransformerClassifier, validation_fraction=0.25, early_stopping_patience=1, class_weight="balanced"),
    _instance(nlpipe.TransformerEmbedder, pooling="cls", normalize=False, max_length=8),
    nlpipe.SentimentClassifier(analyzer="char", lexicon=None, random_state=0),
    nlpipe.IntensityRegressor(transformer=_instance(nlpipe.TransformerRegressor), transformer_weight=0.3),
    _instance(nlpipe.TransformerEmbedder, pooling="auto"),
    _instance(nlpipe.TransformerClassifier, pooling="mean", head_init="probe", epochs=0),
    *[nlpipe.ExtractiveSummarizer(method=m, ratio=0.5) for m in ("lead", "centroid", "lexrank")],
    _instance(nlpipe.AbstractiveSummarizer, model=_tiny_causal_lm(), long_input="chunk", max_length=64,
              prompt="Summary of {text}"),
    _instance(nlpipe.TextGenerator, model=_tiny_causal_lm(), do_sample=True, top_p=0.9),
    _instance(nlpipe.Translator, model=_tiny_causal_lm(), source_lang="English", target_lang="German", num_beams=1),
    _instance(nlpipe.ExtractiveQuestionAnswerer, max_length=24, doc_stride=8, allow_no_answer=True),
    _instance(nlpipe.DenseRetriever, index="hnsw", ef_search=16),
    nlpipe.BM25Retriever(stop_words=None, k=3, verbose=0),
    _instance(nlpipe.HybridRetriever, fusion="rrf", weight=0.3, depth=4),
    nlpipe.PassageChunker(unit="sentences", size=4, overlap=1),
    _instance(nlpipe.RetrievalQA, retriever=_instance(nlpipe.DenseRetriever), chunker=nlpipe.PassageChunker(size=5,
              overlap=1), n_passages=2),
]


def test_public_estimators_discovered():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {"SpacyTokenizer", "TfidfSVMClassifier", "TfidfNBClassifier", "TransformerClassifier",
            "TransformerRegressor", "TransformerEmbedder", "LexiconSentiment", "LexiconFeatures"} <= names
    for cls in ESTIMATORS:
        if is_classifier(cls()) or is_regressor(cls()) or getattr(cls, "_nlpipe_task", None):
            assert cls.__name__ in PARAM_GRIDS, f"add a GridSearchCV grid for {cls.__name__}"


def _cases():
    for est in [_instance(cls) for cls in ESTIMATORS] + EXTRA_CONFIGS:
        grid = PARAM_GRIDS.get(type(est).__name__)
        for check_name, check in yield_contract_checks(est, param_grid=grid):
            yield pytest.param(check, id=f"{_short_repr(est)}-{check_name}")


def _short_repr(est):
    # The tiny backbone lives in a random temp folder: keep test ids stable.
    params = {k: v for k, v in est.get_params(deep=False).items() if k != "model"}
    changed = {k: v for k, v in params.items() if repr(v) != repr(type(est)().get_params(deep=False)[k])}
    text = f"{type(est).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"
    # ... and so does a nested estimator's: ids must match between pytest-xdist workers, which build their own.
    return re.sub(r"'[^']*nlpipe-tiny[^']*'", "<tiny>", text)[:90]


@pytest.mark.parametrize("check", list(_cases()))
def test_estimator_contract(check):
    check()


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_constraint_table_covers_every_parameter(cls):
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert params == set(cls._parameter_constraints), "constraint table and __init__ disagree"
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name != "self":
            assert p.kind is p.KEYWORD_ONLY, f"{cls.__name__}.{p.name} must be keyword-only"
