"""ExtractiveQuestionAnswerer: a span head on an encoder, long passages read in overlapping windows."""

import logging
import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..base import Interval, store_params
from ..finetune import FineTunedEstimator, TrainingExamples, shared_parameters, import_neural
from ._inputs import _check_answers, _locate, _qa_parameter_docs, _QuestionAnsweringMixin, check_qa_inputs

logger = logging.getLogger(__name__)


@shared_parameters
class ExtractiveQuestionAnswerer(_QuestionAnsweringMixin, FineTunedEstimator):
    """Answers to questions about a passage, as spans of the passage.

    A span head on an encoder (``AutoModelForQuestionAnswering``; a SQuAD
    checkpoint answers out of the box, a plain encoder learns the head in
    ``fit``). Passages longer than the window are read as overlapping windows
    (``doc_stride`` tokens shared), and the best-scoring span of any window wins,
    searched exactly over all (start, end) pairs up to ``max_answer_length``.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-cased-distilled-squad"
        Hub id (in the local cache) or local directory.
    doc_stride : int, default=128
        Tokens shared by consecutive windows of a long passage (at most half of
        a window's passage tokens).
    max_answer_length : int, default=30
        Longest answer span in tokens.
    allow_no_answer : bool, default=False
        Empty answers ("") in ``y`` train the model to say that the passage has
        no answer (SQuAD 2.0), and ``predict`` returns "" when that beats every
        span. False: every question has an answer.
    %TRAINING%

    Attributes
    ----------
    %FITTED%
    %TRAINED%
    history_ : list of dict
        Per-epoch training (and validation) loss; empty without fine-tuning.

    See Also
    --------
    GenerativeQuestionAnswerer : writes the answer with a text-to-text model.
    nlpipe.metrics.squad : exact match and F1, the metric ``score`` reports.

    Examples
    --------
    >>> from nlpipe import ExtractiveQuestionAnswerer
    >>> from nlpipe.testing import make_question_answering, make_tiny_backbone
    >>> X, y = make_question_answering()
    >>> qa = ExtractiveQuestionAnswerer(model=make_tiny_backbone(), epochs=1, random_state=0, verbose=0).fit(X, y)
    >>> spans = qa.predict_spans(X[:2])
    >>> list(spans.columns)
    ['answer', 'start', 'end', 'score']
    >>> all(row.context[s:e] == a for row, a, s, e in zip(X[:2].itertuples(), spans.answer, spans.start, spans.end))
    True
    """

    _task = "question-answering"  # the head _load_pretrained puts on the encoder
    _parameter_constraints = {
        **FineTunedEstimator._parameter_constraints,
        "doc_stride": [Interval(numbers.Integral, 1, None)],
        "max_answer_length": [Interval(numbers.Integral, 1, None)],
        "allow_no_answer": ["boolean"],
    }

    def __init__(self, *, model="distilbert-base-cased-distilled-squad", doc_stride=128, max_answer_length=30,
                 allow_no_answer=False, batch_size=8, **params):
        super().__init__(**params)
        store_params(self, locals())

    # -------------------------------------------------------------- fit hooks
    def _validate_data(self, X, y):
        questions, contexts = check_qa_inputs(X)
        answers = None
        if y is not None:
            answers = _check_answers(y, len(questions))
            for i, (text, _) in enumerate(answers):
                if not text.strip() and not self.allow_no_answer:
                    raise ValueError(f"y[{i}] is an empty answer; set allow_no_answer=True to train unanswerable "
                                     "questions (SQuAD 2.0 style).")
            answers = [(t, _locate(c, t, s, i) if t.strip() else None)
                       for i, ((t, s), c) in enumerate(zip(answers, contexts))]
        return questions, contexts, answers

    def _build_model(self, neural, data):
        model, tokenizer = self._load_pretrained(neural)
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(f"Extractive question answering needs a fast tokenizer (character offsets); "
                             f"{type(tokenizer).__name__} of model={self.model!r} is not one.")
        return model, tokenizer

    def _training_examples(self, neural, data):
        questions, contexts, answers = data
        self._windows(["?"], ["."])  # fail now, not in predict, when the window is too small
        if answers is None or self.epochs == 0:
            return None
        windows = self._windows(questions, contexts)
        targets = np.asarray([self._span_labels(w, answers[w["example"]][1], answers[w["example"]][0])
                              for w in windows], dtype=np.int64)
        types = [w["types"] for w in windows] if windows[0]["types"] is not None else None
        return TrainingExamples([w["ids"] for w in windows], targets, token_types=types)

    def _loss(self, neural, data):
        return lambda model, batch, target: model(**batch, start_positions=target[:, 0],
                                                  end_positions=target[:, 1]).loss

    def _windows(self, questions, contexts):
        """Tokenized (question, passage window) pairs with offsets; long passages give several windows."""
        neural = import_neural()
        tok = self.tokenizer_
        specials = tok.num_special_tokens_to_add(pair=True)
        q_budget = max(1, (self.max_length_ - specials) // 2)
        q_ids = neural.tokenize(tok, list(questions), add_special_tokens=False, truncation=True, max_length=q_budget)["input_ids"]
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
        enc = neural.tokenize(tok, list(questions), list(contexts), truncation="only_second", max_length=self.max_length_,
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

    @_qa_parameter_docs
    def predict_spans(self, X):
        """The answer span of each question, with its character offsets and probability.

        Returns
        -------
        spans : pandas.DataFrame
            One row per question: ``answer`` (str), ``start`` and ``end`` (character
            offsets, ``context[start:end] == answer``; -1 for no answer) and
            ``score`` (the model's probability of the span within its window).
        """
        import pandas as pd

        check_is_fitted(self, "model_")
        questions, contexts = check_qa_inputs(X)
        n = len(questions)
        best = np.full(n, -np.inf)
        null = np.full(n, np.inf)
        spans = [("", -1, -1, 0.0)] * n
        todo = [i for i, c in enumerate(contexts) if c.strip()]
        if todo:
            neural = import_neural()
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

    @_qa_parameter_docs
    def predict(self, X):
        """Answer each question.

        Returns
        -------
        answers : list of str
            One answer span per question ("" for an empty passage, or no answer).
        """
        return self.predict_spans(X)["answer"].tolist()
