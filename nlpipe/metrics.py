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

import collections
import functools
import numbers
import re
import string

import numpy as np
from scipy import stats
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import make_scorer

from .exceptions import MissingExtraError

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


def _columns(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}.")
    if y_true.ndim == 1:
        return y_true[:, None], y_pred[:, None]
    return y_true, y_pred


def _mean_corr(corr, y_true, y_pred):
    t, p = _columns(y_true, y_pred)
    if t.shape[0] < 2:
        raise ValueError("A correlation needs at least 2 samples.")
    values = []
    for j in range(t.shape[1]):
        if np.ptp(t[:, j]) == 0 or np.ptp(p[:, j]) == 0:
            values.append(0.0)  # a constant has no correlation; 0 instead of NaN keeps CV means usable
        else:
            values.append(float(corr(t[:, j], p[:, j])[0]))
    return float(np.mean(values))


def pearson_r(y_true, y_pred):
    """Pearson correlation, averaged over output columns (the EmoInt/SemEval metric).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values.
    y_pred : array-like of the same shape
        Predictions.

    Returns
    -------
    r : float
        Mean Pearson r over the columns; a constant column counts as 0.

    Examples
    --------
    >>> from nlpipe.metrics import pearson_r
    >>> round(pearson_r([0.1, 0.5, 0.9], [0.2, 0.4, 0.8]), 4)
    0.982
    """
    return _mean_corr(stats.pearsonr, y_true, y_pred)


def spearman_r(y_true, y_pred):
    """Spearman rank correlation, averaged over output columns.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values.
    y_pred : array-like of the same shape
        Predictions.

    Returns
    -------
    rho : float
        Mean Spearman rho over the columns; a constant column counts as 0.

    Examples
    --------
    >>> from nlpipe.metrics import spearman_r
    >>> spearman_r([0.1, 0.5, 0.9], [0.2, 0.4, 0.8])
    1.0
    """
    return _mean_corr(stats.spearmanr, y_true, y_pred)


pearson_scorer = make_scorer(pearson_r)
spearman_scorer = make_scorer(spearman_r)


# Han, kana and hangul characters are tokens of their own (no spaces between words);
# any other run of letters/digits is one token. rouge-score's default keeps only [a-z0-9].
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+")
_ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def rouge_tokens(text):
    """The tokens ROUGE counts in ``text``: lower-cased words; Han, kana and hangul characters one by one.

    Parameters
    ----------
    text : str
        A summary or a reference.

    Returns
    -------
    tokens : list of str

    Examples
    --------
    >>> from nlpipe.metrics import rouge_tokens
    >>> rouge_tokens("Café owners met in 北京.")
    ['café', 'owners', 'met', 'in', '北', '京']
    """
    return _TOKEN.findall(text.lower())


class _UnicodeTokenizer:
    """rouge-score tokenizer that keeps non-ASCII words and splits CJK text into characters."""

    def __init__(self, use_stemmer=False):
        self.use_stemmer = use_stemmer

    def tokenize(self, text):
        tokens = rouge_tokens(text)
        if self.use_stemmer:
            stem = _porter()
            tokens = [stem(t) if len(t) > 3 and t.isascii() else t for t in tokens]
        return tokens


@functools.lru_cache(maxsize=1)
def _porter():
    from nltk.stem import porter

    return porter.PorterStemmer().stem


@functools.lru_cache(maxsize=8)
def _rouge_scorer(types, use_stemmer):
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise MissingExtraError(
            "ROUGE needs the rouge-score package. Install the extra: pip install 'nlpipe[summarization]'"
        ) from exc
    return rouge_scorer.RougeScorer(list(types), tokenizer=_UnicodeTokenizer(use_stemmer))


def _check_text_pairs(references, outputs, *, outputs_name, metric):
    """Both sequences as lists of str of the same, non-zero length; errors name the bad item."""
    refs, outs = list(references), list(outputs)
    if len(refs) != len(outs):
        raise ValueError(f"references has {len(refs)} items but {outputs_name} has {len(outs)}.")
    if not refs:
        raise ValueError(f"{metric} needs at least one (reference, {outputs_name[:-1]}) pair.")
    for name, seq in (("references", refs), (outputs_name, outs)):
        for i, item in enumerate(seq):
            if not isinstance(item, str):
                raise TypeError(f"{name}[{i}] is {type(item).__name__}, not str.")
    return refs, outs


def rouge(references, summaries, *, rouge_types=_ROUGE_TYPES, use_stemmer=False, measure="fmeasure"):
    """Mean ROUGE scores of ``summaries`` against ``references`` (rouge-score's implementation).

    Tokens are lower-cased runs of letters and digits in any script; Chinese,
    Japanese and Korean characters count one token each, so non-English text is
    scored (rouge-score's default tokenizer drops everything outside [a-z0-9]).
    ``rougeLsum`` treats newlines as sentence breaks.

    Parameters
    ----------
    references : sequence of str
        Reference summaries.
    summaries : sequence of str
        System summaries, one per reference.
    rouge_types : sequence of str, default=("rouge1", "rouge2", "rougeL", "rougeLsum")
        Which ROUGE variants to compute.
    use_stemmer : bool, default=False
        Porter-stem ASCII tokens longer than 3 characters (ROUGE-1.5.5's ``-m``).
    measure : {"fmeasure", "precision", "recall"}, default="fmeasure"
        Which of the three numbers to average.

    Returns
    -------
    scores : dict of str to float
        Mean score per ROUGE type, in [0, 1].

    Examples
    --------
    >>> from nlpipe.metrics import rouge
    >>> rouge(["the cat sat on the mat"], ["the cat sat"], rouge_types=["rouge1"])
    {'rouge1': 0.6666666666666666}
    >>> rouge(["今天天气很好"], ["今天天气不好"], rouge_types=["rouge1"])["rouge1"] > 0.5
    True
    """
    types = tuple(rouge_types)
    unknown = set(types) - set(_ROUGE_TYPES)
    if unknown:
        raise ValueError(f"Unknown rouge_types {sorted(unknown)}; choose from {list(_ROUGE_TYPES)}.")
    if measure not in ("fmeasure", "precision", "recall"):
        raise ValueError(f"measure must be 'fmeasure', 'precision' or 'recall', got {measure!r}.")
    refs, sums = _check_text_pairs(references, summaries, outputs_name="summaries", metric="ROUGE")
    scorer = _rouge_scorer(types, bool(use_stemmer))
    totals = dict.fromkeys(types, 0.0)
    for ref, summ in zip(refs, sums):
        result = scorer.score(ref, summ)
        for t in types:
            totals[t] += getattr(result[t], measure)
    return {t: totals[t] / len(refs) for t in types}


def _rouge_metric(rouge_type):
    def metric(y_true, y_pred):
        return rouge(y_true, y_pred, rouge_types=[rouge_type])[rouge_type]

    metric.__name__ = f"{rouge_type}_f1"
    return metric


rouge1_scorer = make_scorer(_rouge_metric("rouge1"))
rouge2_scorer = make_scorer(_rouge_metric("rouge2"))
rougeL_scorer = make_scorer(_rouge_metric("rougeL"))
rougeLsum_scorer = make_scorer(_rouge_metric("rougeLsum"))


# ---------------------------------------------------------------- question answering
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def _normalize_answer(text):
    """SQuAD's answer normalisation: lower case, no punctuation, no English articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _squad_pair(gold, pred):
    g, p = _normalize_answer(gold).split(), _normalize_answer(pred).split()
    exact = float(g == p)
    if not g or not p:
        return exact, exact  # an empty answer matches only an empty answer
    common = sum((collections.Counter(g) & collections.Counter(p)).values())
    if common == 0:
        return exact, 0.0
    precision, recall = common / len(p), common / len(g)
    return exact, 2 * precision * recall / (precision + recall)


def _gold_lists(references, name="references"):
    golds = []
    for i, ref in enumerate(references):
        if isinstance(ref, str):
            golds.append([ref])
        elif isinstance(ref, (list, tuple, np.ndarray)) and len(ref) and all(isinstance(r, str) for r in ref):
            golds.append(list(ref))
        else:
            raise TypeError(f"{name}[{i}] is {type(ref).__name__}: give an answer string or a non-empty list of them.")
    return golds


def squad(references, predictions):
    """SQuAD exact match and token F1 (the official v1.1 script's rules), averaged over questions.

    Answers are compared after lower-casing and removing punctuation, the
    articles "a", "an", "the" and extra white space; with several gold answers
    a prediction counts against the best-matching one.

    Parameters
    ----------
    references : sequence of str or of list of str
        The gold answer(s) of each question.
    predictions : sequence of str
        One predicted answer per question.

    Returns
    -------
    scores : dict
        ``{"exact_match": float, "f1": float}``, both in [0, 1].

    Examples
    --------
    >>> from nlpipe.metrics import squad
    >>> squad(["the Eiffel Tower", ["Paris", "in Paris"]], ["Eiffel tower", "Paris, France"])
    {'exact_match': 0.5, 'f1': 0.8333333333333333}
    """
    preds = list(predictions)
    golds = _gold_lists(references)
    if len(golds) != len(preds):
        raise ValueError(f"references has {len(golds)} items but predictions has {len(preds)}.")
    if not golds:
        raise ValueError("SQuAD scores need at least one (reference, prediction) pair.")
    exact = f1 = 0.0
    for i, (gold, pred) in enumerate(zip(golds, preds)):
        if not isinstance(pred, str):
            raise TypeError(f"predictions[{i}] is {type(pred).__name__}, not str.")
        pairs = [_squad_pair(g, pred) for g in gold]
        exact += max(e for e, _ in pairs)
        f1 += max(f for _, f in pairs)
    return {"exact_match": exact / len(golds), "f1": f1 / len(golds)}


def _squad_metric(key):
    def metric(y_true, y_pred):
        return squad(y_true, y_pred)[key]

    metric.__name__ = f"squad_{key}"
    return metric


exact_match_scorer = make_scorer(_squad_metric("exact_match"))
squad_f1_scorer = make_scorer(_squad_metric("f1"))


# ---------------------------------------------------------------- translation
def _sacrebleu():
    try:
        import sacrebleu
    except ImportError as exc:
        raise MissingExtraError(
            "BLEU and chrF need the sacrebleu package. Install the extra: pip install 'nlpipe[translation]'"
        ) from exc
    return sacrebleu


def bleu(references, translations, *, tokenize="13a"):
    """Corpus BLEU (sacrebleu's implementation and defaults), divided by 100.

    Parameters
    ----------
    references : sequence of str
        One reference translation per sentence.
    translations : sequence of str
        System translations.
    tokenize : str, default="13a"
        sacrebleu tokenizer: "13a" (WMT standard), "zh", "ja-mecab", "char", "intl"...

    Returns
    -------
    score : float
        In [0, 1] (sacrebleu's score / 100, on the scale of scikit-learn's scores).

    Examples
    --------
    >>> from nlpipe.metrics import bleu
    >>> round(bleu(["the cat is on the mat"], ["the cat is on the mat"]), 4)
    1.0
    >>> round(bleu(["the cat sat on the mat today"], ["the cat sat on a mat today"]), 4)
    0.4889
    """
    refs, hyps = _check_text_pairs(references, translations, outputs_name="translations", metric="BLEU")
    return float(_sacrebleu().corpus_bleu(hyps, [refs], tokenize=tokenize).score) / 100


def chrf(references, translations, *, word_order=0):
    """Corpus chrF (character n-gram F-score; chrF++ with ``word_order=2``), divided by 100.

    Parameters
    ----------
    references : sequence of str
        One reference translation per sentence.
    translations : sequence of str
        System translations.
    word_order : int, default=0
        Word n-gram order added to the character n-grams (2 gives chrF++).

    Returns
    -------
    score : float
        In [0, 1].

    Examples
    --------
    >>> from nlpipe.metrics import chrf
    >>> round(chrf(["Das Haus ist klein."], ["Das Haus ist klein."]), 4)
    1.0
    """
    refs, hyps = _check_text_pairs(references, translations, outputs_name="translations", metric="chrF")
    return float(_sacrebleu().corpus_chrf(hyps, [refs], word_order=word_order).score) / 100


bleu_scorer = make_scorer(bleu)
chrf_scorer = make_scorer(chrf)

# ---------------------------------------------------------------- retrieval


def _relevant_sets(y_true, n):
    items = y_true.tolist() if hasattr(y_true, "tolist") else list(y_true)
    if len(items) != n:
        raise ValueError(f"y_true has {len(items)} queries but the ranking has {n}.")
    sets = []
    for i, item in enumerate(items):
        if isinstance(item, (list, tuple, set, frozenset, np.ndarray)):
            if len(item) == 0:
                raise ValueError(f"y_true[{i}] is empty; every query needs at least one relevant id.")
            sets.append({v.item() if isinstance(v, np.generic) else v for v in item})
        elif item is None or (isinstance(item, float) and item != item):
            raise ValueError(f"y_true[{i}] is a missing value; give the relevant id(s) of every query.")
        else:
            sets.append({item.item() if isinstance(item, np.generic) else item})
    return sets


def _ranked(y_true, y_pred, k):
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int; got {k!r}.")
    ranking = np.asarray(y_pred, dtype=object)
    if ranking.ndim != 2:
        raise ValueError(f"y_pred must be a 2-D ranking (one row of ids per query); got shape {ranking.shape}.")
    if ranking.shape[0] == 0:
        raise ValueError("Ranking metrics need at least one query.")
    relevant = _relevant_sets(y_true, ranking.shape[0])
    hits = np.array([[(v.item() if isinstance(v, np.generic) else v) in rel for v in row[:k]]
                     for row, rel in zip(ranking, relevant)], dtype=bool).reshape(ranking.shape[0], -1)
    return hits, relevant


def recall_at_k(y_true, y_pred, *, k=10):
    """Recall at ``k``: the share of each query's relevant ids found in its top ``k``, averaged over queries.

    Parameters
    ----------
    y_true : sequence
        The relevant id of each query, or a list of them.
    y_pred : array-like of shape (n_queries, n_ranked)
        Ranked ids, best first (a retriever's ``predict``).
    k : int, default=10
        Ranks counted.

    Returns
    -------
    score : float
        In [0, 1].

    Examples
    --------
    >>> from nlpipe.metrics import mrr_at_k, ndcg_at_k, recall_at_k
    >>> ranking = [["a", "b", "c"], ["c", "a", "b"]]
    >>> recall_at_k(["b", ["a", "b"]], ranking, k=2)
    0.75
    >>> mrr_at_k(["b", "b"], ranking, k=3)
    0.41666666666666663
    >>> round(ndcg_at_k(["a", "c"], ranking, k=3), 3)
    1.0
    """
    hits, relevant = _ranked(y_true, y_pred, k)
    return float(np.mean([h.sum() / len(rel) for h, rel in zip(hits, relevant)]))


def mrr_at_k(y_true, y_pred, *, k=10):
    """Mean reciprocal rank at ``k``: 1 / the rank of the first relevant id (0 when none is in the top ``k``).

    Parameters
    ----------
    y_true : sequence
        The relevant id of each query, or a list of them.
    y_pred : array-like of shape (n_queries, n_ranked)
        Ranked ids, best first.
    k : int, default=10
        Ranks counted.

    Returns
    -------
    score : float
        In [0, 1].

    Examples
    --------
    >>> from nlpipe.metrics import mrr_at_k
    >>> mrr_at_k([1, 7], [[3, 1, 2], [7, 1, 2]], k=3)
    0.75
    """
    hits, _ = _ranked(y_true, y_pred, k)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, np.inf)
    return float(np.mean(1.0 / first))


def ndcg_at_k(y_true, y_pred, *, k=10):
    """Normalized discounted cumulative gain at ``k``, binary relevance, averaged over queries.

    Parameters
    ----------
    y_true : sequence
        The relevant id of each query, or a list of them.
    y_pred : array-like of shape (n_queries, n_ranked)
        Ranked ids, best first.
    k : int, default=10
        Ranks counted.

    Returns
    -------
    score : float
        In [0, 1]; 1 when the relevant ids fill the first ranks.

    Examples
    --------
    >>> from nlpipe.metrics import ndcg_at_k
    >>> round(ndcg_at_k(["b"], [["a", "b"]], k=2), 4)
    0.6309
    """
    hits, relevant = _ranked(y_true, y_pred, k)
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.array([discounts[: min(len(rel), hits.shape[1])].sum() for rel in relevant])
    return float(np.mean(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1), 0.0)))


class _RankingScorer:
    """``scorer(retriever, queries, relevant)``: a ranking metric of the retriever's top ``k``."""

    def __init__(self, metric, k):
        self.metric, self.k = metric, k

    def __call__(self, estimator, X, y_true, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("Ranking scorers do not support sample_weight.")
        ranking = estimator.retrieve(X, k=self.k)[0] if hasattr(estimator, "retrieve") else estimator.predict(X)
        return self.metric(y_true, ranking, k=self.k)

    def __repr__(self):
        return f"get_scorer({self.metric.__name__.replace('_at_k', '')}@{self.k!r})"


_RANKING = {"recall": recall_at_k, "mrr": mrr_at_k, "ndcg": ndcg_at_k}


@functools.lru_cache(maxsize=64)
def _ranking_scorer(name):
    metric, _, k = name.partition("@")
    if metric in _RANKING and k.isdigit() and int(k) > 0:
        return _RankingScorer(_RANKING[metric], int(k))
    return None


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
