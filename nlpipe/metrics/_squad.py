"""SQuAD exact match and F1 of extracted or generated answers (the official evaluation script's normalization)."""

import collections
import re
import string

import numpy as np
from sklearn.metrics import make_scorer

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
