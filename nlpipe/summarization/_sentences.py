"""Sentence splitting with spaCy: a blank pipeline plus the rule-based sentencizer, or any installed pipeline."""

import functools

from ..base import check_texts
from ..text._spacy import _import_spacy

# Components that never help split sentences or tokenize; skipped when a full pipeline is named.
_UNNEEDED = ("ner", "lemmatizer", "textcat", "textcat_multilabel", "entity_linker", "entity_ruler")


@functools.lru_cache(maxsize=8)
def sentence_pipeline(model):
    """A spaCy pipeline that sets sentence boundaries, loaded once per process.

    ``"blank:<lang>"`` is ``spacy.blank(lang)`` with the sentencizer, whose
    punctuation list includes the Chinese and Japanese full stops (。！？); a
    package name loads that pipeline (its parser or senter splits sentences).
    A private copy: it never changes the pipeline :class:`~nlpipe.SpacyTokenizer` uses.
    """
    spacy = _import_spacy()
    if model.startswith("blank:"):
        lang = model.split(":", 1)[1]
        try:
            nlp = spacy.blank(lang)
        except (ImportError, OSError, KeyError) as exc:
            raise ValueError(f"spaCy has no language {lang!r} for spacy_model={model!r}: {exc}") from None
    else:
        try:
            nlp = spacy.load(model, exclude=list(_UNNEEDED))
        except OSError:
            raise ValueError(
                f"spaCy pipeline {model!r} is not installed. Install its package or use "
                "spacy_model='blank:en', which needs no download."
            ) from None
    if not ({"parser", "senter", "sentencizer"} & set(nlp.pipe_names)):
        nlp.add_pipe("sentencizer")
    return nlp


def iter_sentences(texts, model, *, batch_size=64):
    """Yield, per text, a list of ``(sentence_text, tokens)``; tokens are lower-cased words without punctuation."""
    nlp = sentence_pipeline(model)
    for doc in nlp.pipe(texts, batch_size=batch_size):
        out = []
        for sent in doc.sents:
            text = sent.text.strip()
            if not text:
                continue
            tokens = [t.lower_ for t in sent if not (t.is_punct or t.is_space)]
            out.append((text, tokens))
        yield out


def split_sentences(X, *, spacy_model="blank:en"):
    """Split each text into sentences with spaCy (no NLTK data needed).

    Parameters
    ----------
    X : list of str
        Texts.
    spacy_model : str, default="blank:en"
        ``"blank:<lang>"`` (rule-based sentencizer, e.g. ``"blank:zh"`` for Chinese)
        or an installed spaCy pipeline's name.

    Returns
    -------
    sentences : list of list of str
        The sentences of each text, in order; an empty text gives an empty list.

    Examples
    --------
    >>> from nlpipe.summarization import split_sentences
    >>> split_sentences(["The cat sat. It was happy! Was it?", ""])
    [['The cat sat.', 'It was happy!', 'Was it?'], []]
    >>> split_sentences(["今天天气很好。我们去公园吧！"], spacy_model="blank:zh")
    [['今天天气很好。', '我们去公园吧！']]
    """
    texts = check_texts(X)
    return [[s for s, _ in doc] for doc in iter_sentences(texts, spacy_model)]
