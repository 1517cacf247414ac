"""QuestionAnswerer: extractive (span head over striding windows) or generative (the text-to-text core)."""

import logging
import numbers
import os

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..base import Interval, Options, _fitted_attributes, check_texts
from .._text2text import TEXT2TEXT_CONSTRAINTS, _TextToTextBase, fill_doc
from .._transformer import _neural, _TransformerBase, split_validation, training_kwargs

logger = logging.getLogger(__name__)

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


@fill_doc
class QuestionAnswerer(_TextToTextBase):
    """Answers to questions about a passage: a span of the passage, or generated text.

    ``mode="extractive"`` puts a span head on an encoder
    (``AutoModelForQuestionAnswering``; a SQuAD checkpoint answers out of the
    box, a plain encoder learns the head in ``fit``). Passages longer than the
    window are read as overlapping windows (``doc_stride`` tokens shared), and the
    best-scoring span of any window wins. ``mode="generative"`` writes the
    answer with the text-to-text core of the summarizer and the generator (an
    encoder-decoder, or an instruction model through its chat template); the
    passage is cut to the window, never the question.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-cased-distilled-squad"
        Hub id (in the local cache) or local directory.
    mode : {"extractive", "generative"}, default="extractive"
        Extract a span of the passage or generate the answer.
    %MODEL%
    prompt : str or None, default=None
        Generative mode: template with ``"{question}"`` and ``"{context}"``.
        None: ``"question: {question} context: {context}"`` for encoder-decoders,
        an instruction for chat models.
    chat_template : {"auto"} or bool, default="auto"
        Generative mode: wrap the prompt in the tokenizer's chat template.
    max_length : int or None, default=None
        Window in tokens (question and passage together); None takes the
        model's limit.
    doc_stride : int, default=128
        Extractive mode: tokens shared by consecutive windows of a long passage
        (at most half of a window's passage tokens).
    max_answer_length : int, default=30
        Extractive mode: longest answer span in tokens.
    allow_no_answer : bool, default=False
        Extractive mode: empty answers ("") in ``y`` train the model to say that
        the passage has no answer (SQuAD 2.0), and ``predict`` returns "" when
        that beats every span. False: every question has an answer.
    max_new_tokens : int, default=32
        Generative mode: longest answer in tokens.
    num_beams : int, default=1
        Generative mode: beam width.
    generation_kwargs : dict or None, default=None
        Generative mode: more ``generate`` arguments.
    target_max_length : int, default=64
        Generative mode: gold answers are cut to this many tokens in ``fit``.
    %TRAINING%

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The (fine-tuned) model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    max_length_ : int
        The window in tokens.
    device_ : torch.device
        Where the model lives.
    history_ : list of dict
        Per-epoch training (and validation) loss; empty without fine-tuning.
    architecture_ : str
        Generative mode: the kind of model used.
    prompt_ : str
        Generative mode: the prompt template used.
    chat_template_ : bool
        Generative mode: whether prompts go through the chat template.

    See Also
    --------
    TextGenerator : the text-to-text core without a passage.
    nlpipe.metrics.squad : exact match and F1, the metric ``score`` reports.

    Examples
    --------
    >>> import pandas as pd
    >>> from nlpipe import QuestionAnswerer
    >>> from nlpipe.testing import make_question_answering, make_tiny_backbone
    >>> X, y = make_question_answering()
    >>> qa = QuestionAnswerer(model=make_tiny_backbone(), epochs=1, random_state=0, verbose=0).fit(X, y)
    >>> spans = qa.predict_spans(X[:2])
    >>> list(spans.columns)
    ['answer', 'start', 'end', 'score']
    >>> all(row.context[s:e] == a for row, a, s, e in zip(X[:2].itertuples(), spans.answer, spans.start, spans.end))
    True
    """

    _document_field = "context"
    _document_name = "passage"
    _fields = ("question",)
    _default_prompts = {
        "seq2seq": "question: {question} context: {context}",
        "chat": "Answer the question using the passage. Answer with a short phrase.\n\n"
                "Passage: {context}\n\nQuestion: {question}",
        "plain": "Passage: {context}\nQuestion: {question}\nAnswer:",
    }
    _parameter_constraints = {
        **TEXT2TEXT_CONSTRAINTS,
        "mode": [Options(["extractive", "generative"])],
        "prompt": [None, str],
        "doc_stride": [Interval(numbers.Integral, 1, None)],
        "max_answer_length": [Interval(numbers.Integral, 1, None)],
        "allow_no_answer": ["boolean"],
    }
    _nlpipe_task = "question-answering"
    _task = "question-answering"  # the head _load_pretrained puts on the encoder (extractive mode)

    def __init__(
        self,
        *,
        model="distilbert-base-cased-distilled-squad",
        mode="extractive",
        architecture="auto",
        model_kwargs=None,
        prompt=None,
        chat_template="auto",
        max_length=None,
        doc_stride=128,
        max_answer_length=30,
        allow_no_answer=False,
        max_new_tokens=32,
        num_beams=1,
        generation_kwargs=None,
        target_max_length=64,
        batch_size=8,
        epochs=3,
        learning_rate=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping_patience=None,
        checkpoint_dir=None,
        resume=False,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.mode = mode
        self.architecture = architecture
        self.model_kwargs = model_kwargs
        self.prompt = prompt
        self.chat_template = chat_template
        self.max_length = max_length
        self.doc_stride = doc_stride
        self.max_answer_length = max_answer_length
        self.allow_no_answer = allow_no_answer
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.generation_kwargs = generation_kwargs
        self.target_max_length = target_max_length
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping_patience = early_stopping_patience
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- inputs
    def _inputs(self, X):
        questions, contexts = check_qa_inputs(X)
        return contexts, [{"question": q} for q in questions]

    def _targets(self, y, n):
        return [text for text, _ in _check_answers(y, n)]

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Load the model and fine-tune it on answered questions.

        Parameters
        ----------
        X : DataFrame, list of (question, context) pairs or list of dicts
            Questions and their passages (see :func:`check_qa_inputs`).
        y : list of str or of dict, or None, default=None
            One answer per question: its text, or a SQuAD dict ``{"text": ...,
            "answer_start": ...}``. Extractive mode locates a text without a
            start at its first occurrence in the passage. None (or
            ``epochs=0``) keeps the pretrained weights.

        Returns
        -------
        self : QuestionAnswerer
        """
        if self.mode == "generative":
            return self._fit_text2text(X, y)
        self._validate_params()
        questions, contexts = check_qa_inputs(X)
        answers = None
        if y is not None:
            answers = _check_answers(y, len(questions))
            for i, ((text, _), context) in enumerate(zip(answers, contexts)):
                if not text.strip() and not self.allow_no_answer:
                    raise ValueError(f"y[{i}] is an empty answer; set allow_no_answer=True to train unanswerable "
                                     "questions (SQuAD 2.0 style).")
            answers = [(t, _locate(c, t, s, i) if t.strip() else None)
                       for i, ((t, s), c) in enumerate(zip(answers, contexts))]
        neural = _neural()
        self._release()
        for name in _fitted_attributes(self):  # start from scratch: nothing of a previous fit stays
            del self.__dict__[name]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = neural.resolve_device(self.device)
        with neural.seeded(seed, device):
            model, tokenizer = self._load_pretrained(neural, device)
            if not getattr(tokenizer, "is_fast", False):
                raise ValueError(f"Extractive question answering needs a fast tokenizer (character offsets); "
                                 f"{type(tokenizer).__name__} of model={self.model!r} is not one.")
            self.model_, self.tokenizer_, self.device_ = model, tokenizer, device
            self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
            self._windows(["?"], ["."])  # fail now, not in predict, when the window is too small
            self.history_ = []
            if answers is not None and self.epochs > 0:
                self._fine_tune_spans(neural, questions, contexts, answers, seed)
        return self

    def _windows(self, questions, contexts):
        """Tokenized (question, passage window) pairs with offsets; long passages give several windows."""
        tok = self.tokenizer_
        specials = tok.num_special_tokens_to_add(pair=True)
        q_budget = max(1, (self.max_length_ - specials) // 2)
        q_ids = tok(list(questions), add_special_tokens=False, truncation=True, max_length=q_budget)["input_ids"]
        if any(len(q) >= q_budget for q in q_ids):
            logger.warning("Questions longer than %d tokens (half the window) are cut.", q_budget)
            questions = [tok.decode(q) for q in q_ids]
        room = self.max_length_ - specials - max(len(q) for q in q_ids)
        if room < 2:
            raise ValueError(f"max_length={self.max_length_} leaves no room for the passage next to the question.")
        # Windows advance by room - stride tokens: a stride close to the room (doc_stride=128 in a
        # 128-token window) would make one window per token. At most half the room is shared.
        stride = min(self.doc_stride, room // 2)
        if stride < self.doc_stride:
            logger.info("doc_stride=%d is more than half the %d passage tokens of a window; using %d",
                        self.doc_stride, room, stride)
        enc = tok(list(questions), list(contexts), truncation="only_second", max_length=self.max_length_,
                  stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True, padding=False)
        windows = []
        for j, ids in enumerate(enc["input_ids"]):
            seq = enc.sequence_ids(j)
            in_context = np.array([s == 1 for s in seq], dtype=bool)
            windows.append({
                "ids": ids,
                "types": enc["token_type_ids"][j] if "token_type_ids" in enc else None,
                "example": int(enc["overflow_to_sample_mapping"][j]),
                "offsets": np.asarray([o if c else (0, 0) for o, c in zip(enc["offset_mapping"][j], in_context)],
                                      dtype=np.int64).reshape(-1, 2),
                "context": in_context,
                "cls": ids.index(tok.cls_token_id) if tok.cls_token_id in ids else 0,
            })
        return windows

    @staticmethod
    def _span_labels(window, start_char, text):
        """Token start/end of the answer in this window; the CLS position when it is not (all) here."""
        if start_char is None:
            return window["cls"], window["cls"]
        end_char = start_char + len(text)
        tokens = np.flatnonzero(window["context"])
        offsets = window["offsets"]
        if offsets[tokens[0], 0] > start_char or offsets[tokens[-1], 1] < end_char:
            return window["cls"], window["cls"]
        start = tokens[np.searchsorted(offsets[tokens, 1], start_char, side="right")]
        end = tokens[np.searchsorted(offsets[tokens, 0], end_char, side="left") - 1]
        return int(start), int(max(end, start))

    def _fine_tune_spans(self, neural, questions, contexts, answers, seed):
        import torch

        windows = self._windows(questions, contexts)
        targets = torch.as_tensor([self._span_labels(w, answers[w["example"]][1], answers[w["example"]][0])
                                   for w in windows], dtype=torch.long)
        ids = [w["ids"] for w in windows]
        types = [w["types"] for w in windows] if windows[0]["types"] is not None else None
        train_idx, val_idx = split_validation(len(ids), self.validation_fraction, seed)
        validation = None
        if val_idx is not None:
            validation = ([ids[i] for i in val_idx], targets[torch.as_tensor(val_idx)],
                          [types[i] for i in val_idx] if types else None)
        self.history_ = neural.train(
            self.model_,
            [ids[i] for i in train_idx],
            targets[torch.as_tensor(train_idx)],
            loss=lambda m, batch, t: m(**batch, start_positions=t[:, 0], end_positions=t[:, 1]).loss,
            validation=validation,
            token_types=[types[i] for i in train_idx] if types else None,
            **training_kwargs(self, neural, self.device_, self.tokenizer_.pad_token_id, seed),
        )

    # ---------------------------------------------------------------- predict
    def _span_logits(self, neural, windows):
        import torch

        width = self.max_length_

        def forward(model, batch):
            out = model(**batch)
            logits = torch.stack([out.start_logits, out.end_logits], dim=1).float()
            return torch.nn.functional.pad(logits, (0, width - logits.shape[-1]), value=float("-inf"))

        return neural.run_inference(
            self.model_, [w["ids"] for w in windows], forward=forward, batch_size=self.batch_size,
            device=self.device_, amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
            pad_id=self.tokenizer_.pad_token_id, verbose=self.verbose, desc="answer",
            token_types=[w["types"] for w in windows] if windows and windows[0]["types"] is not None else None,
        )

    def predict_spans(self, X):
        """The answer span of each question, with its character offsets and probability.

        Extractive mode only.

        Parameters
        ----------
        X : DataFrame, list of (question, context) pairs or list of dicts
            Questions and their passages.

        Returns
        -------
        spans : pandas.DataFrame
            One row per question: ``answer`` (str), ``start`` and ``end`` (character
            offsets, ``context[start:end] == answer``; -1 for no answer) and
            ``score`` (the model's probability of the span within its window).
        """
        import pandas as pd

        check_is_fitted(self, "model_")
        if self.mode != "extractive":
            raise ValueError("predict_spans needs mode='extractive'; generated answers have no offsets.")
        questions, contexts = check_qa_inputs(X)
        n = len(questions)
        best = np.full(n, -np.inf)
        null = np.full(n, np.inf)
        spans = [("", -1, -1, 0.0)] * n
        todo = [i for i, c in enumerate(contexts) if c.strip()]
        if todo:
            neural = _neural()
            windows = self._windows([questions[i] for i in todo], [contexts[i] for i in todo])
            logits = self._span_logits(neural, windows)
            band = np.triu(np.ones((self.max_length_, self.max_length_), dtype=bool))
            band &= ~np.triu(band, self.max_answer_length)
            for w, (start_logits, end_logits) in zip(windows, logits):
                i = todo[w["example"]]
                size = len(w["ids"])
                s, e = start_logits[:size].astype(np.float64), end_logits[:size].astype(np.float64)
                ok = w["context"]
                if not ok.any():
                    continue
                scores = s[:, None] + e[None, :]
                scores[~(band[:size, :size] & ok[:, None] & ok[None, :])] = -np.inf
                a, b = np.unravel_index(np.argmax(scores), scores.shape)
                cls = w["cls"]
                null[i] = min(null[i], s[cls] + e[cls])
                if scores[a, b] > best[i]:
                    best[i] = scores[a, b]
                    keep = ok.copy()
                    keep[cls] = True  # probabilities over the passage and the "no answer" position
                    p_start = np.exp(s[a] - np.logaddexp.reduce(s[keep]))
                    p_end = np.exp(e[b] - np.logaddexp.reduce(e[keep]))
                    lo, hi = int(w["offsets"][a, 0]), int(w["offsets"][b, 1])
                    spans[i] = (contexts[i][lo:hi], lo, hi, float(p_start * p_end))
            if self.allow_no_answer:
                for i in todo:
                    if null[i] > best[i]:
                        spans[i] = ("", -1, -1, spans[i][3])
        return pd.DataFrame(spans, columns=["answer", "start", "end", "score"])

    def predict(self, X):
        """Answer each question.

        Parameters
        ----------
        X : DataFrame, list of (question, context) pairs or list of dicts
            Questions and their passages.

        Returns
        -------
        answers : list of str
            One answer per question ("" for an empty passage, or no answer).
        """
        if self.mode == "generative":
            return self._predict_text2text(X, desc="answer")
        return self.predict_spans(X)["answer"].tolist()

    def score(self, X, y, sample_weight=None):
        """SQuAD token F1 of the answers to ``X`` against the gold answers ``y``.

        Parameters
        ----------
        X : DataFrame, list of (question, context) pairs or list of dicts
            Questions and their passages.
        y : list
            Gold answer(s) per question: a str, a list of str, or a SQuAD dict.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        score : float
            Mean F1 in [0, 1]; exact match through
            ``nlpipe.metrics.get_scorer("exact_match")``.
        """
        from ..metrics import squad

        if sample_weight is not None:
            raise ValueError("QuestionAnswerer.score does not support sample_weight.")
        questions, _ = check_qa_inputs(X)
        golds = _gold_answers(y, len(questions))
        return squad(golds, self.predict(X))["f1"]

    # ----------------------------------------------------------- persistence
    def _packed_task(self):
        return "question-answering" if self.mode == "extractive" else self.architecture_

    def _fitted_meta(self):
        if self.mode == "extractive":
            return _TransformerBase._fitted_meta(self)
        return super()._fitted_meta()

    def _set_fitted_meta(self, meta):
        if self.mode == "extractive":
            _TransformerBase._set_fitted_meta(self, meta)
            self.history_ = []
            return
        super()._set_fitted_meta(meta)

    def _load_saved(self, neural, path):
        if self.mode == "extractive":
            return neural.load_backbone(path, "question-answering"), neural.load_tokenizer(path)
        return super()._load_saved(neural, path)
