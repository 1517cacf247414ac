"""Corpus BLEU and chrF of translations, by sacrebleu, on the [0, 1] scale of scikit-learn's scores."""

from sklearn.metrics import make_scorer

from ..base import parameter_docs
from ..exceptions import MissingExtraError
from ._rouge import _check_text_pairs


# The parameters and the score of both translation metrics, described once.
_translation_docs = parameter_docs(entries={
    "references": "sequence of str\n    One reference translation per sentence.",
    "translations": "sequence of str\n    System translations, one per reference.",
}, returns="score : float\n    In [0, 1].")


def _sacrebleu():
    try:
        import sacrebleu
    except ImportError as exc:
        raise MissingExtraError(
            "BLEU and chrF need the sacrebleu package. Install the extra: pip install 'nlpipe[translation]'"
        ) from exc
    return sacrebleu


@_translation_docs
def bleu(references, translations, *, tokenize="13a"):
    """Corpus BLEU (sacrebleu's implementation and defaults), divided by 100.

    Parameters
    ----------
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


@_translation_docs
def chrf(references, translations, *, word_order=0):
    """Corpus chrF (character n-gram F-score; chrF++ with ``word_order=2``), divided by 100.

    Parameters
    ----------
    word_order : int, default=0
        Word n-gram order added to the character n-grams (2 gives chrF++).

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
