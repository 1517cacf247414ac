"""Sentence splitting with spaCy: a blank pipeline plus the rule-based sentencizer, or any installed pipeline."""

import functools

import numpy as np

from ..base import check_texts
from ..text import import_spacy

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
    spacy = import_spacy()
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


@functools.lru_cache(maxsize=8)
def _fast_sentencizer(model):
    """``(tokenizer-only pipeline, punctuation hashes)`` when ``model`` splits with a default sentencizer, else None."""
    nlp = sentence_pipeline(model)
    if nlp.pipe_names != ["sentencizer"]:
        return None
    sentencizer = nlp.get_pipe("sentencizer")
    strings = nlp.vocab.strings
    return nlp, np.fromiter((strings.add(c) for c in sentencizer.punct_chars), dtype=np.uint64)


def _sentence_starts(orth, is_punct, punct_hashes):
    """Sentence-start flags of spaCy's sentencizer, computed on token arrays instead of token objects.

    The sentencizer starts a sentence at a token that is neither punctuation nor an
    end-of-sentence character when an end-of-sentence character came after the
    previous such token (``Sentencizer.predict``); the first token always starts one.
    """
    n = len(orth)
    ends = np.isin(orth, punct_hashes)
    words = np.flatnonzero(~(is_punct | ends))
    seen = np.concatenate([[0], np.cumsum(ends)])  # seen[i] = end characters before token i
    previous = np.concatenate([[-1], words[:-1]])
    starts = np.zeros(n, dtype=bool)
    if n:
        starts[0] = True
        starts[words[(seen[words] - seen[previous + 1]) > 0]] = True
    return starts


def _sentences_of(doc, text, starts):
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, LOWER

    arr = doc.to_array([IDX, LENGTH, LOWER, IS_PUNCT, IS_SPACE])
    idx, length, lower, keep = arr[:, 0], arr[:, 1], arr[:, 2], (arr[:, 3] == 0) & (arr[:, 4] == 0)
    bounds = np.append(np.flatnonzero(starts), len(doc))
    # ``text`` is the tokenizer's input, which equals doc.text (spaCy tokenization is lossless)
    # without building a token object per token to join it back.
    strings, out = doc.vocab.strings, []
    for a, b in zip(bounds[:-1], bounds[1:]):
        sentence = text[idx[a] : idx[b - 1] + length[b - 1]].strip()
        if sentence:
            out.append((sentence, [strings[h] for h in lower[a:b][keep[a:b]]]))
    return out


def iter_sentences(texts, model, *, batch_size=64):
    """Yield, per text, a list of ``(sentence_text, tokens)``; tokens are lower-cased words without punctuation.

    With a blank pipeline the sentencizer's rule runs on numpy arrays of the
    tokens (same sentences, several times faster than building every token object).
    """
    fast = _fast_sentencizer(model)
    if fast is None:
        nlp = sentence_pipeline(model)
        for doc in nlp.pipe(texts, batch_size=batch_size):
            out = []
            for sent in doc.sents:
                text = sent.text.strip()
                if text:
                    out.append((text, [t.lower_ for t in sent if not (t.is_punct or t.is_space)]))
            yield out
        return
    from spacy.attrs import IS_PUNCT, ORTH

    nlp, punct_hashes = fast
    texts = list(texts)
    for text, doc in zip(texts, nlp.tokenizer.pipe(texts, batch_size=batch_size)):
        arr = doc.to_array([ORTH, IS_PUNCT])
        starts = _sentence_starts(arr[:, 0].astype(np.uint64), arr[:, 1] == 1, punct_hashes)
        yield _sentences_of(doc, text, starts)


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
