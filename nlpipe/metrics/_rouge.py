"""ROUGE for summaries: rouge-score with a tokenizer that keeps non-ASCII words and splits CJK text."""

import functools
import re

from sklearn.metrics import make_scorer

from ..exceptions import MissingExtraError

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
