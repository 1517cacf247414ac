"""RetrievalQA: retrieve passages from the user's documents, then read the answer from them."""

import logging
import numbers

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..base import BaseTextEstimator, HasMethods, Interval, check_texts, fit_context, parameter_docs, store_params
from ._base import BaseRetriever, _documents_docs

logger = logging.getLogger(__name__)

_questions_docs = parameter_docs(X="Questions.")
_CITE = "Answer the question using the numbered passages; cite the passages you use as [1], [2].\n\n{passages}" \
        "\n\nQuestion: {question}\nAnswer:"


def _gold_lists(y, n, name="y"):
    """Every gold answer of each question (a str, a list of str or a SQuAD dict; "" or [] for none)."""
    if y is None or isinstance(y, str):
        raise TypeError(f"{name} must hold one answer per question (a str, a list of str or a SQuAD dict).")
    items = y.tolist() if hasattr(y, "tolist") else list(y)
    if len(items) != n:
        raise ValueError(f"the questions and {name} have different lengths: {n} questions, {len(items)} answers.")
    golds = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and "text" in item:
            item = item["text"]
        if isinstance(item, str):
            golds.append([item])
        elif isinstance(item, (list, tuple, np.ndarray)) and all(isinstance(a, str) for a in item):
            golds.append([str(a) for a in item] or [""])
        else:
            raise TypeError(f"{name}[{i}] is {type(item).__name__}; expected the answer text(s) ('' for none).")
    return golds


def _answer_texts(y, n, name="answers"):
    """One gold answer text per question (the first of several) to train on."""
    return [gold[0] for gold in _gold_lists(y, n, name)]


class RetrievalQA(BaseTextEstimator):
    """Question answering over your own documents: a retriever finds passages, a reader answers from them.

    ``fit(documents)`` indexes the documents (cut into passages first when a
    ``chunker`` is given) and loads the reader; ``fit(documents, questions,
    answers)`` also fine-tunes the reader, on the passages the retriever finds
    for each training question (the first that holds the answer; for a
    question without one, the best passage with the answer "", which teaches
    a reader with ``allow_no_answer=True`` to abstain). ``predict(questions)``
    reads the ``n_passages`` best passages of each question: an extractive
    reader's best span over all of them wins, and "" (no answer) is returned
    when no passage supports one (the reader abstains on every passage, or the
    best span's probability is under ``min_score``).

    Parameters
    ----------
    retriever : estimator or None, default=None
        Unfitted nlpipe retriever; None uses ``BM25Retriever()``.
    reader : estimator or None, default=None
        The reader: ``ExtractiveQuestionAnswerer`` (spans with scores),
        ``GenerativeQuestionAnswerer`` (the passages joined as its context) or
        ``TextGenerator`` (a prompt that numbers the passages and asks for
        citations). Cloned in ``fit``; wrap a reader you fitted yourself in
        ``sklearn.frozen.FrozenEstimator`` to use it as it is. None uses
        ``ExtractiveQuestionAnswerer()``.
    chunker : estimator or None, default=None
        A ``PassageChunker`` applied to the documents before indexing; None
        indexes them whole.
    n_passages : int, default=3
        Passages read per question.
    min_score : float, default=0.0
        Extractive readers: answer "" when the best span's probability is below
        this (0 leaves the decision to the reader).
    verbose : int, default=1
        Progress bars when > 0.

    Attributes
    ----------
    retriever_ : estimator
        The fitted retriever (its ``documents_`` are the passages).
    reader_ : estimator
        The fitted reader.
    chunker_ : estimator or None
        The fitted chunker.

    See Also
    --------
    nlpipe.ExtractiveQuestionAnswerer : the default reader.
    BM25Retriever, DenseRetriever, HybridRetriever : retrievers.

    Examples
    --------
    >>> from nlpipe import ExtractiveQuestionAnswerer
    >>> from nlpipe.retrieval import RetrievalQA
    >>> from nlpipe.testing import make_tiny_backbone
    >>> docs = ["Paris is the capital of France.", "The Nile is the longest river in Africa."]
    >>> reader = ExtractiveQuestionAnswerer(model=make_tiny_backbone(), verbose=0)
    >>> qa = RetrievalQA(reader=reader, n_passages=1, verbose=0).fit(docs)
    >>> sources = qa.predict_sources(["What is the longest river in Africa?"])
    >>> sources.loc[0, "passage_id"], sources.loc[0, "passage"]
    (np.int64(1), 'The Nile is the longest river in Africa.')
    >>> answer = sources.loc[0, "answer"]  # an untrained tiny reader: some span of the passage
    >>> answer == sources.loc[0, "passage"][sources.loc[0, "answer_start"]:sources.loc[0, "answer_end"]]
    True
    """

    _nlpipe_task = "retrieval-qa"
    _parameter_constraints = {
        "retriever": [HasMethods(["fit", "search"]), None],
        "reader": [HasMethods(["fit", "predict"]), None],
        "chunker": [HasMethods(["fit", "transform"]), None],
        "n_passages": [Interval(numbers.Integral, 1, None)],
        "min_score": [Interval(numbers.Real, 0, 1)],
        "verbose": [Interval(numbers.Integral, 0, None)],
    }

    def __init__(self, *, retriever=None, reader=None, chunker=None, n_passages=3, min_score=0.0, verbose=1):
        store_params(self, locals())

    # ----------------------------------------------------------------- fitting
    @fit_context
    @_documents_docs
    def fit(self, X, questions=None, answers=None, *, ids=None):
        """Index the documents, load the reader, and fine-tune it when questions and answers are given.

        Parameters
        ----------
        questions : list of str, DataFrame or list of (question, context) pairs, default=None
            Training questions: plain questions (their passages are retrieved),
            or question/context pairs (the reader trains on those contexts).
        answers : list, default=None
            One answer per question: a str ("" for none), or a SQuAD dict.
        ids : sequence of int or str, default=None
            Document ids (without a chunker; with one, give a DataFrame with an
            id column).

        Returns
        -------
        self : RetrievalQA
        """
        from .. import question_answering
        from ._bm25 import BM25Retriever

        if (questions is None) != (answers is None):
            raise ValueError("Give both questions and answers to fine-tune the reader, or neither.")
        documents = X
        if self.chunker is not None:
            if ids is not None:
                raise ValueError("With a chunker, give the document ids as the id column of a DataFrame.")
            self.chunker_ = clone(self.chunker).fit(X)
            documents = self.chunker_.transform(X)
        else:
            self.chunker_ = None
        retriever = BM25Retriever(verbose=self.verbose) if self.retriever is None else clone(self.retriever)
        if not isinstance(retriever, BaseRetriever):
            raise TypeError(f"retriever must be an nlpipe retriever; got {type(retriever).__name__}.")
        self.retriever_ = retriever.fit(documents, ids=ids)
        reader = question_answering.ExtractiveQuestionAnswerer() if self.reader is None else clone(self.reader)
        if questions is not None:
            pairs, targets = self._training_pairs(reader, questions, answers)
            reader.fit(pairs, targets)
        else:
            try:
                check_is_fitted(reader)
            except NotFittedError:
                text = self.retriever_.documents_[self.retriever_.text_column].iloc[0]
                reader.fit([("What is this about?", text)] if self._reads_pairs(reader) else [text])
        self.reader_ = reader
        return self

    @staticmethod
    def _reads_pairs(reader):
        return hasattr(reader, "predict_spans") or getattr(reader, "_nlpipe_task", None) == "question-answering"

    def _passages(self, questions, k):
        """The retriever's ``search`` table for the questions, and the name of its text column."""
        return self.retriever_.search(questions, k=k), self.retriever_.text_column

    def _training_pairs(self, reader, questions, answers):
        from ..question_answering import check_qa_inputs

        is_pairs = (type(questions).__name__ == "DataFrame" and "context" in questions.columns) or (
            not isinstance(questions, str) and hasattr(questions, "__len__") and len(questions)
            and isinstance(questions[0], (tuple, list, dict)))
        if is_pairs:
            q, c = check_qa_inputs(questions, name="questions")
            _answer_texts(answers, len(q))
            return list(zip(q, c)), answers
        q = check_texts(questions, name="questions")
        texts = _answer_texts(answers, len(q))
        table, col = self._passages(q, self.n_passages)
        abstains = bool(reader.get_params().get("allow_no_answer", False))
        pairs, targets, missed = [], [], 0
        for i, (question, answer) in enumerate(zip(q, texts)):
            passages = table.loc[table["query"] == i, col].tolist()
            if not answer.strip():
                pairs.append((question, passages[0]))
                targets.append("")
                continue
            hit = next((p for p in passages if answer in p), None)
            if hit is not None:
                pairs.append((question, hit))
                targets.append({"text": answer, "answer_start": hit.find(answer)})
            elif abstains:
                pairs.append((question, passages[0]))
                targets.append("")
                missed += 1
            else:
                missed += 1
        if missed:
            logger.warning("%d of %d training answers are in none of their %d retrieved passages; %s", missed, len(q),
                           self.n_passages, "they train 'no answer'" if abstains else
                           "they are left out (the reader has allow_no_answer=False)")
        if not pairs:
            raise ValueError("No training answer occurs in the retrieved passages; nothing to train the reader on.")
        if not self._reads_pairs(reader):
            return [_CITE.format(passages=f"[1] {c}", question=qq) for qq, c in pairs], [
                t["text"] if isinstance(t, dict) else t for t in targets]
        return pairs, targets

    # -------------------------------------------------------------- answering
    @_questions_docs
    def predict_sources(self, X):
        """Answers with the passages they come from, their offsets and scores.

        Returns
        -------
        answers : pandas.DataFrame
            One row per question: ``question``, ``answer`` ("" for no answer),
            ``score`` (the reader's span probability; NaN for generative
            readers), ``passage_id``, ``passage`` (its text), ``answer_start``
            and ``answer_end`` (offsets in the passage, -1 when the answer is not
            a span of it), ``retrieval_score``, then the passage's metadata
            columns (with a chunker: ``source_id``, and ``start``/``end``, the
            passage's offsets in its document).
        """
        import pandas as pd

        check_is_fitted(self, "reader_")
        questions = check_texts(X)
        table, col = self._passages(questions, self.n_passages)
        groups = [table.iloc[idx] for idx in table.groupby("query", sort=True).indices.values()]
        reader = self.reader_
        rows = []
        if hasattr(reader, "predict_spans"):
            spans = reader.predict_spans(list(zip(np.asarray(questions, dtype=object)[table["query"].to_numpy()],
                                                  table[col])))
            for group in groups:
                cand = spans.iloc[group.index]
                found = cand[cand["answer"] != ""]
                if len(found) and found["score"].max() >= self.min_score:
                    best = found["score"].idxmax()
                    a = (cand.at[best, "answer"], float(cand.at[best, "score"]), int(cand.at[best, "start"]),
                         int(cand.at[best, "end"]))
                else:
                    best = group.index[0]
                    a = ("", float(found["score"].max()) if len(found) else 0.0, -1, -1)
                rows.append((best, *a))
        else:
            contexts = ["\n\n".join(g[col]) if self._reads_pairs(reader) else
                        "\n\n".join(f"[{j + 1}] {t}" for j, t in enumerate(g[col])) for g in groups]
            inputs = (list(zip(questions, contexts)) if self._reads_pairs(reader) else
                      [_CITE.format(passages=c, question=q) for q, c in zip(questions, contexts)])
            for group, answer in zip(groups, reader.predict(inputs)):
                best = next((i for i in group.index if answer.strip() and answer in group.at[i, col]), group.index[0])
                at = group.at[best, col].find(answer) if answer.strip() else -1
                rows.append((best, answer, float("nan"), at, at + len(answer) if at >= 0 else -1))
        picked = table.loc[[r[0] for r in rows]].reset_index(drop=True)
        out = pd.DataFrame({
            "question": questions,
            "answer": [r[1] for r in rows],
            "score": [r[2] for r in rows],
            "passage_id": picked["id"],
            "passage": picked[col],
            "answer_start": [r[3] for r in rows],
            "answer_end": [r[4] for r in rows],
            "retrieval_score": picked["score"],
        })
        meta = picked.drop(columns=[c for c in ("query", "rank", "id", "score", col) if c in picked.columns])
        meta = meta.drop(columns=[c for c in meta.columns if c in out.columns])
        return pd.concat([out, meta], axis=1)

    @_questions_docs
    def predict(self, X):
        """Answer each question from the documents.

        Returns
        -------
        answers : list of str
            One answer per question; "" when the passages support none.
        """
        return self.predict_sources(X)["answer"].tolist()

    @_questions_docs
    def score(self, X, y, sample_weight=None):
        """SQuAD token F1 of the answers against the gold answers ``y``.

        Parameters
        ----------
        y : list
            Gold answer(s) per question: a str ("" for no answer), a list of str,
            or a SQuAD dict.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        score : float
            Mean F1 in [0, 1].
        """
        from ..metrics import squad

        if sample_weight is not None:
            raise ValueError("RetrievalQA.score does not support sample_weight.")
        questions = check_texts(X)
        return squad(_gold_lists(y, len(questions)), self.predict(questions))["f1"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
