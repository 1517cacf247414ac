"""Metrics for nlpipe's tasks, and scikit-learn scorers built from them.

Use the scorers in ``cross_val_score(..., scoring=pearson_scorer)`` or
``GridSearchCV(..., scoring=spearman_scorer)``, or by name through :func:`get_scorer`:
``cross_val_score(summarizer, docs, refs, scoring=get_scorer("rouge2"))``
(scikit-learn has no public way to add names to its own ``scoring="..."`` strings).

A scorer is called as ``scorer(fitted_estimator, X, y_true)``: it predicts ``X``
and returns the metric of the predictions against ``y_true`` (greater is better).

The scorers and their :func:`get_scorer` names: ``rouge1_scorer``, ``rouge2_scorer``,
``rougeL_scorer``, ``rougeLsum_scorer`` ("rouge1", ..., the :func:`rouge` F1);
``pearson_scorer``, ``spearman_scorer`` ("pearson", "spearman"); ``exact_match_scorer``,
``squad_f1_scorer`` ("exact_match", "squad_f1", from :func:`squad`); ``bleu_scorer``,
``chrf_scorer`` ("bleu", "chrf").

Examples
--------
ROUGE scorers rate a fitted summarizer's summaries against references:

>>> from nlpipe import ExtractiveSummarizer
>>> from nlpipe.metrics import get_scorer, rouge1_scorer, rouge2_scorer, rougeL_scorer, rougeLsum_scorer
>>> docs = ["Rain fell all day. The river rose fast. People left the town.",
...         "The team won the cup. Fans sang in the square. The coach smiled."]
>>> refs = ["Rain fell and the river rose.", "The team won the cup."]
>>> summarizer = ExtractiveSummarizer(method="lead", n_sentences=1).fit(docs)
>>> summarizer.predict(docs)
['Rain fell all day.', 'The team won the cup.']
>>> [round(scorer(summarizer, docs, refs), 4)
...  for scorer in (rouge1_scorer, rouge2_scorer, rougeL_scorer, rougeLsum_scorer)]
[0.7, 0.625, 0.7, 0.7]
>>> get_scorer("rouge2") is rouge2_scorer
True

Correlation scorers rate an intensity regressor on held-out texts:

>>> from nlpipe import IntensityRegressor
>>> from nlpipe.metrics import pearson_scorer, spearman_scorer
>>> X = ["a bit annoyed", "very angry", "furious!!! so ANGRY", "slightly irritated", "calm", "rage"]
>>> y = [0.3, 0.7, 0.95, 0.25, 0.05, 0.9]
>>> reg = IntensityRegressor(alpha=0.1).fit(X, y)
>>> X_test, y_test = ["so angry", "calm", "quite annoyed", "FURIOUS"], [0.8, 0.1, 0.4, 0.95]
>>> round(pearson_scorer(reg, X_test, y_test), 2), spearman_scorer(reg, X_test, y_test)
(0.96, 1.0)

The SQuAD scorers rate a question answerer (here a tiny, barely trained
model), the BLEU and chrF scorers a translator (a tiny untrained model); each
equals its metric on the estimator's predictions:

>>> from nlpipe import ExtractiveQuestionAnswerer, Translator
>>> from nlpipe.metrics import bleu, bleu_scorer, chrf, chrf_scorer, exact_match_scorer, squad, squad_f1_scorer
>>> from nlpipe.testing import make_question_answering, make_tiny_backbone, make_tiny_causal_lm
>>> X_qa, y_qa = make_question_answering(4)
>>> qa = ExtractiveQuestionAnswerer(model=make_tiny_backbone(), epochs=1, random_state=0, verbose=0).fit(X_qa, y_qa)
>>> scores = squad(y_qa, qa.predict(X_qa))
>>> exact_match_scorer(qa, X_qa, y_qa) == scores["exact_match"], squad_f1_scorer(qa, X_qa, y_qa) == scores["f1"]
(True, True)
>>> tr = Translator(model=make_tiny_causal_lm(), source_lang="English", target_lang="French",
...                 max_new_tokens=4, num_beams=1, epochs=0, verbose=0).fit(["Good morning."])
>>> X_mt, y_mt = ["Good morning.", "Thank you."], ["Bonjour.", "Merci."]
>>> translations = tr.predict(X_mt)
>>> bleu_scorer(tr, X_mt, y_mt) == bleu(y_mt, translations), chrf_scorer(tr, X_mt, y_mt) == chrf(y_mt, translations)
(True, True)
"""

from sklearn.metrics import get_scorer as _sklearn_get_scorer

from ._correlation import pearson_r, pearson_scorer, spearman_r, spearman_scorer
from ._ranking import _ranking_scorer, mrr_at_k, ndcg_at_k, recall_at_k
from ._rouge import rouge, rouge1_scorer, rouge2_scorer, rouge_tokens, rougeL_scorer, rougeLsum_scorer
from ._squad import exact_match_scorer, squad, squad_f1_scorer
from ._translation import bleu, bleu_scorer, chrf, chrf_scorer

__all__ = [
    "bleu",
    "bleu_scorer",
    "chrf",
    "chrf_scorer",
    "exact_match_scorer",
    "get_scorer",
    "mrr_at_k",
    "ndcg_at_k",
    "pearson_r",
    "pearson_scorer",
    "recall_at_k",
    "rouge",
    "rouge_tokens",
    "rouge1_scorer",
    "rouge2_scorer",
    "rougeL_scorer",
    "rougeLsum_scorer",
    "spearman_r",
    "spearman_scorer",
    "squad",
    "squad_f1_scorer",
]


_SCORERS = {
    "rouge1": rouge1_scorer,
    "rouge2": rouge2_scorer,
    "rougeL": rougeL_scorer,
    "rougeLsum": rougeLsum_scorer,
    "pearson": pearson_scorer,
    "spearman": spearman_scorer,
    "exact_match": exact_match_scorer,
    "squad_f1": squad_f1_scorer,
    "bleu": bleu_scorer,
    "chrf": chrf_scorer,
}


def get_scorer(scoring):
    """A scorer by name: nlpipe's or scikit-learn's.

    nlpipe's names: "rouge1", "rouge2", "rougeL", "rougeLsum" (summaries),
    "pearson", "spearman" (intensities), "exact_match", "squad_f1" (answers),
    "bleu", "chrf" (translations), "recall@k", "mrr@k", "ndcg@k" for any
    ``k`` (retrievers: their top ``k`` against the relevant ids).

    Parameters
    ----------
    scoring : str or callable
        A name; callables are returned as they are.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y) -> float``

    Examples
    --------
    >>> from nlpipe.metrics import get_scorer
    >>> get_scorer("rouge2") is get_scorer("rouge2")
    True
    >>> get_scorer("mrr@10")
    get_scorer(mrr@10)
    >>> get_scorer("accuracy")
    make_scorer(accuracy_score, response_method='predict')
    """
    if callable(scoring):
        return scoring
    if scoring in _SCORERS:
        return _SCORERS[scoring]
    if isinstance(scoring, str) and _ranking_scorer(scoring) is not None:
        return _ranking_scorer(scoring)
    return _sklearn_get_scorer(scoring)
