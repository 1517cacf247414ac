"""Contract checks for text estimators, used by nlpipe's tests and offered to users.

Every check takes an *unfitted* estimator and raises ``AssertionError`` (or the
estimator's own error) when the contract in nlpipe's DESIGN.md does not hold.
Run them all with :func:`check_estimator_contract`, or one by one through
:func:`yield_contract_checks` (e.g. to parametrise a pytest suite).

The data makers build tiny, learnable data sets and models for fast offline
tests: :data:`TINY_CORPUS` is a dict of three labels ("pos", "neg", "neutral")
to six short, repetitive sentences each (every word recurs, so ``min_df=2``
keeps a vocabulary); :func:`make_text_classification` draws from it.

Examples
--------
>>> from nlpipe import TfidfNBClassifier
>>> from nlpipe.testing import TINY_CORPUS, check_estimator_contract
>>> check_estimator_contract(TfidfNBClassifier())  # silent when every check passes
>>> {label: len(sentences) for label, sentences in TINY_CORPUS.items()}
{'pos': 6, 'neg': 6, 'neutral': 6}
>>> TINY_CORPUS["neg"][0]
'a terrible movie with a boring plot'
"""

# The single checks are not in __all__ (nor on the API page) but stay importable from here, as when
# nlpipe.testing was one module.
from ._checks import (  # noqa: F401
    check_bad_inputs,
    check_classifier_labels,
    check_clone_is_unfitted,
    check_cross_val_score,
    check_empty_strings,
    check_estimator_contract,
    check_fit_returns_self_and_keeps_params,
    check_grid_search,
    check_in_pipeline,
    check_input_containers,
    check_invalid_params_rejected,
    check_params_roundtrip,
    check_pickle_roundtrip,
    check_qa_inputs_and_scoring,
    check_refit_from_scratch,
    check_safe_save_load,
    check_sklearn_api,
    check_summarizer_scoring,
    check_unfitted_raises,
    yield_contract_checks,
)
from ._data import TINY_CORPUS, make_question_answering, make_summarization, make_text_classification
from ._models import make_tiny_backbone, make_tiny_causal_lm

__all__ = [
    "TINY_CORPUS",
    "check_estimator_contract",
    "make_question_answering",
    "make_summarization",
    "make_text_classification",
    "make_tiny_backbone",
    "make_tiny_causal_lm",
    "yield_contract_checks",
]
