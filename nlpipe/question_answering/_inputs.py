"""What both question answerers share: question/passage input, answers, and the SQuAD F1 ``score``."""

import numbers

import numpy as np

from ..base import check_texts, parameter_docs

# The ``X`` of every question-answering method.
_qa_parameter_docs = parameter_docs(
    X_type="DataFrame, list of (question, context) pairs or list of dicts", X="Questions and their passages."
)
_PAIR = "a DataFrame with 'question' and 'context' columns, a list of (question, context) pairs or a list of dicts"


def check_qa_inputs(X, *, name="X"):
    """Validate question/context input and return ``(questions, contexts)`` as lists of str.

    Parameters
    ----------
    X : DataFrame, dict of lists, list of (question, context) pairs or list of dicts
        A pandas DataFrame (or dict) with ``question`` and ``context`` columns
        (other columns are ignored), or one pair / one ``{"question", "context"}``
        dict per sample.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    questions : list of str
    contexts : list of str

    Examples
    --------
    >>> from nlpipe.question_answering import check_qa_inputs
    >>> check_qa_inputs([("Who?", "Ann came."), {"question": "Where?", "context": "In Oslo."}])
    (['Who?', 'Where?'], ['Ann came.', 'In Oslo.'])
    >>> check_qa_inputs([("Who?", None)])
    Traceback (most recent call last):
    ...
    ValueError: X.context[0] is a missing value (None); every sample must be a str. Drop or fill missing texts first (empty strings are valid).
    """
    if X is None:
        raise TypeError(f"{name} is None; expected {_PAIR}.")
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} is a single {type(X).__name__}; expected {_PAIR}.")
    columns = None
    if type(X).__name__ == "DataFrame" or isinstance(X, dict):
        keys = list(X.columns) if type(X).__name__ == "DataFrame" else list(X)
        missing = [c for c in ("question", "context") if c not in keys]
        if missing:
            raise ValueError(f"{name} has no {' or '.join(repr(m) for m in missing)} column (it has {keys[:6]}); "
                             f"expected {_PAIR}.")
        columns = (X["question"], X["context"])
    else:
        try:
            rows = list(X)
        except TypeError:
            raise TypeError(f"{name} is a {type(X).__name__}; expected {_PAIR}.") from None
        questions, contexts = [], []
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                if "question" not in row or "context" not in row:
                    raise ValueError(f"{name}[{i}] is a dict without 'question' and 'context' keys: {sorted(row)[:6]}.")
                q, c = row["question"], row["context"]
            elif isinstance(row, (tuple, list, np.ndarray)) and len(row) == 2:
                q, c = row[0], row[1]
            else:
                raise TypeError(f"{name}[{i}] is {type(row).__name__} {str(row)[:40]!r}; expected a (question, context) "
                                "pair or a dict with 'question' and 'context'.")
            questions.append(q)
            contexts.append(c)
        columns = (questions, contexts)
    if len(columns[0]) == 0:
        raise ValueError(f"{name} contains 0 texts; at least 1 question is required.")
    return check_texts(columns[0], name=f"{name}.question"), check_texts(columns[1], name=f"{name}.context")


def _answer(item, i, name):
    """``(text, start or None)`` of one answer: a str or a SQuAD dict ``{"text", "answer_start"}``."""
    if isinstance(item, str):
        return item, None
    if isinstance(item, dict) and "text" in item:
        text, start = item["text"], item.get("answer_start")
        if isinstance(text, (list, tuple, np.ndarray)):  # SQuAD's lists of gold answers: the first one trains
            if len(text) == 0:
                return "", None
            text, start = text[0], (start[0] if isinstance(start, (list, tuple, np.ndarray)) and len(start) else None)
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}]['text'] is {type(text).__name__}, not str.")
        if start is not None and not isinstance(start, numbers.Integral):
            raise TypeError(f"{name}[{i}]['answer_start'] is {type(start).__name__}, not int.")
        return text, None if start is None else int(start)
    if item is None or (isinstance(item, float) and np.isnan(item)):
        raise ValueError(f"{name}[{i}] is a missing value; give the answer text ('' for no answer).")
    raise TypeError(f"{name}[{i}] is {type(item).__name__}; expected the answer text or a dict with 'text' "
                    "(and 'answer_start').")


def _check_answers(y, n, name="y"):
    if y is None:
        raise ValueError(f"{name} is None: this needs one answer per question.")
    if isinstance(y, str):
        raise TypeError(f"{name} is a single string; pass one answer per question.")
    items = y.tolist() if hasattr(y, "tolist") else list(y)
    if len(items) != n:
        raise ValueError(f"X and {name} have different lengths: {n} questions, {len(items)} answers.")
    return [_answer(item, i, name) for i, item in enumerate(items)]


def _gold_answers(y, n):
    """Every gold answer per question, for scoring (SQuAD dicts may list several)."""
    if y is None or isinstance(y, str):
        _check_answers(y, n)
    items = y.tolist() if hasattr(y, "tolist") else list(y)
    if len(items) != n:
        raise ValueError(f"X and y have different lengths: {n} questions, {len(items)} answers.")
    golds = []
    for i, item in enumerate(items):
        if isinstance(item, (list, tuple)) and item and all(isinstance(a, str) for a in item):
            golds.append(list(item))
        elif isinstance(item, dict) and isinstance(item.get("text"), (list, tuple, np.ndarray)):
            golds.append([str(a) for a in item["text"]] or [""])
        else:
            golds.append([_answer(item, i, "y")[0]])
    return golds


def _locate(context, text, start, i):
    """Character offset of the answer in its context: the given one (checked), else the first match."""
    if start is not None:
        if context[start : start + len(text)] != text:
            raise ValueError(f"y[{i}]: answer_start={start} does not point at the answer {text!r:.40} in its context.")
        return start
    at = context.find(text)
    if at < 0:
        at = context.lower().find(text.lower())
    if at < 0:
        raise ValueError(f"y[{i}]: the answer {text!r:.40} does not occur in its context (row {i}); extractive "
                         "question answering needs answers that are spans of the context.")
    return at




class _QuestionAnsweringMixin:
    """Inputs are questions with passages; ``score`` is SQuAD F1."""

    _nlpipe_task = "question-answering"

    @_qa_parameter_docs
    def score(self, X, y, sample_weight=None):
        """SQuAD token F1 of the answers to ``X`` against the gold answers ``y``.

        Parameters
        ----------
        y : list
            Gold answer(s) per question: a str, a list of str, or a SQuAD dict.

        Returns
        -------
        score : float
            Mean F1 in [0, 1]; exact match through
            ``nlpipe.metrics.get_scorer("exact_match")``.
        """
        from ..metrics import squad

        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__}.score does not support sample_weight.")
        questions, _ = check_qa_inputs(X)
        golds = _gold_answers(y, len(questions))
        return squad(golds, self.predict(X))["f1"]
