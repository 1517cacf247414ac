"""PassageChunker: long documents cut into overlapping passages that keep their source id and character offsets."""

import numbers
import re

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..base import BaseTextEstimator, Interval, Options, fit_context, store_params
from ._base import _documents_docs
from ._corpus import check_documents

_WORD = re.compile(r"\S+")


class PassageChunker(TransformerMixin, BaseTextEstimator):
    """Cut documents into passages of at most ``size`` words, consecutive passages sharing ``overlap`` words.

    ``unit="words"`` cuts at word boundaries; ``unit="sentences"`` packs whole
    sentences (spaCy's sentencizer) and shares whole sentences (a sentence
    longer than ``size`` words is cut by words). Every passage is an exact
    slice of its document: ``document[start:end] == text``. Use it before a
    retriever (``retriever.fit(chunker.fit_transform(docs))``) or as
    ``RetrievalQA(chunker=...)``; a document with no words gives one empty passage,
    so no document is dropped.

    Parameters
    ----------
    unit : {"words", "sentences"}, default="words"
        Cut at word or at sentence boundaries.
    size : int, default=200
        Most words per passage.
    overlap : int, default=40
        Words shared by consecutive passages (less than ``size``).
    spacy_model : str, default="blank:en"
        The spaCy pipeline that splits sentences (``unit="sentences"``).
    text_column : str, default="text"
        The text column of a DataFrame of documents.
    id_column : str or None, default="id"
        The id column of a DataFrame of documents, when it has one.

    Attributes
    ----------
    n_documents_ : int
        Documents seen in ``fit`` (nothing else is learned).

    See Also
    --------
    BM25Retriever, DenseRetriever : retrievers to index the passages with.

    Examples
    --------
    >>> from nlpipe.retrieval import PassageChunker
    >>> doc = "one two three four five six seven"
    >>> passages = PassageChunker(size=3, overlap=1).fit_transform([doc])
    >>> passages[["id", "source_id", "text", "start", "end"]].values.tolist()
    [['0#0', 0, 'one two three', 0, 13], ['0#1', 0, 'three four five', 8, 23], ['0#2', 0, 'five six seven', 19, 33]]
    >>> all(doc[s:e] == t for t, s, e in zip(passages.text, passages.start, passages.end))
    True
    """

    _nlpipe_task = "chunking"
    _parameter_constraints = {
        "unit": [Options(["words", "sentences"])],
        "size": [Interval(numbers.Integral, 1, None)],
        "overlap": [Interval(numbers.Integral, 0, None)],
        "spacy_model": [str],
        "text_column": [str],
        "id_column": [str, None],
    }

    def __init__(self, *, unit="words", size=200, overlap=40, spacy_model="blank:en", text_column="text",
                 id_column="id"):
        store_params(self, locals())

    def _check_overlap(self):
        if self.overlap >= self.size:
            raise ValueError(f"overlap={self.overlap} must be less than size={self.size}: passages would not advance.")

    @fit_context
    @_documents_docs
    def fit(self, X, y=None):
        """Check the parameters and the documents (nothing is learned).

        Parameters
        ----------
        y : None
            Ignored.

        Returns
        -------
        self : PassageChunker
        """
        self._check_overlap()  # the table's checks ran in fit_context
        texts, _, _ = check_documents(X, text_column=self.text_column, id_column=self.id_column)
        self.n_documents_ = len(texts)
        return self

    @_documents_docs
    def transform(self, X):
        """Cut each document into passages.

        Returns
        -------
        passages : pandas.DataFrame
            One row per passage, documents in order: ``id`` ("<source id>#<n>"),
            ``source_id``, ``passage`` (n, from 0), ``text``, ``start`` and
            ``end`` (character offsets in the document), then the document's
            metadata columns. The text column is named ``text_column``.
        """
        import pandas as pd

        check_is_fitted(self, "n_documents_")
        self._validate_params()  # set_params may have changed them since fit
        self._check_overlap()
        texts, ids, metadata = check_documents(X, text_column=self.text_column, id_column=self.id_column)
        spans = self._sentence_spans(texts) if self.unit == "sentences" else [None] * len(texts)
        rows, source = [], []
        for i, (text, sentences) in enumerate(zip(texts, spans)):
            cuts = self._cut(text, sentences)
            rows.extend((f"{ids[i]}#{n}", ids[i], n, text[a:b], a, b) for n, (a, b) in enumerate(cuts))
            source.extend([i] * len(cuts))
        frame = pd.DataFrame(rows, columns=["id", "source_id", "passage", self.text_column, "start", "end"])
        if metadata is not None:
            extra = metadata.iloc[source].reset_index(drop=True)
            frame = pd.concat([frame, extra.drop(columns=[c for c in extra.columns if c in frame.columns])], axis=1)
        return frame

    def _sentence_spans(self, texts):
        from ..summarization import split_sentences

        out = []
        for text, sentences in zip(texts, split_sentences(texts, spacy_model=self.spacy_model)):
            spans, at = [], 0
            for sentence in sentences:  # sentences are stripped slices of the text, in order
                a = text.find(sentence, at)
                if a < 0:
                    raise RuntimeError("spaCy returned a sentence that is not in its text")
                spans.append((a, a + len(sentence)))
                at = a + len(sentence)
            out.append(spans)
        return out

    def _cut(self, text, sentences):
        words = [m.span() for m in _WORD.finditer(text)]
        if not words:
            return [(0, 0)]
        if sentences is None:
            step = self.size - self.overlap
            cuts = []
            for a in range(0, len(words), step):
                b = min(a + self.size, len(words))
                cuts.append((words[a][0], words[b - 1][1]))
                if b == len(words):
                    break
            return cuts
        # sentences -> word index ranges; long sentences cut into pieces of at most `size` words
        starts = np.array([w[0] for w in words])
        units = []
        for a, b in sentences:
            lo, hi = int(np.searchsorted(starts, a)), int(np.searchsorted(starts, b))
            for s in range(lo, hi, self.size):
                units.append((s, min(s + self.size, hi)))
        units = [u for u in units if u[1] > u[0]] or [(0, len(words))]
        cuts, i = [], 0
        while i < len(units):
            j, count = i, 0
            while j < len(units) and count + units[j][1] - units[j][0] <= self.size:
                count += units[j][1] - units[j][0]
                j += 1
            j = max(j, i + 1)
            cuts.append((words[units[i][0]][0], words[units[j - 1][1] - 1][1]))
            if j == len(units):
                break
            # start the next passage with the last sentences that fit in `overlap` and leave room for the
            # next sentence (else the passage would repeat part of this one and add nothing)
            back, shared, room = j, 0, self.size - (units[j][1] - units[j][0])
            while back - 1 > i and shared + units[back - 1][1] - units[back - 1][0] <= min(self.overlap, room):
                back -= 1
                shared += units[back][1] - units[back][0]
            i = back
        return cuts

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
