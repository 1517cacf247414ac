"""GenerativeQuestionAnswerer: answers written by the text-to-text core, the passage cut to the window."""

from ..base import store_params
from ..finetune import TextToTextEstimator, shared_parameters
from ._inputs import _check_answers, _qa_parameter_docs, _QuestionAnsweringMixin, check_qa_inputs


@shared_parameters
class GenerativeQuestionAnswerer(_QuestionAnsweringMixin, TextToTextEstimator):
    """Answers to questions about a passage, written by an encoder-decoder or an instruction model.

    The text-to-text core of the summarizer and the generator: the prompt holds
    the question and the passage, and only the passage is cut to fit the window.
    ``fit(X, y)`` fine-tunes on answered questions; ``fit(X)`` loads the model
    for zero-shot use.

    Parameters
    ----------
    model : str or path-like, default="google/flan-t5-small"
        Hub id (in the local cache) or local directory.
    %MODEL%
    prompt : str or None, default=None
        Template with ``"{question}"`` and ``"{context}"``. None:
        ``"question: {question} context: {context}"`` for encoder-decoders, an
        instruction for chat models.
    %GENERATION%
    %TRAINING%
    %ATTRIBUTES%

    See Also
    --------
    ExtractiveQuestionAnswerer : answers as spans of the passage.
    TextGenerator : the text-to-text core without a passage.

    Examples
    --------
    >>> from nlpipe import GenerativeQuestionAnswerer
    >>> from nlpipe.testing import make_question_answering, make_tiny_causal_lm
    >>> X, y = make_question_answering(4)
    >>> qa = GenerativeQuestionAnswerer(model=make_tiny_causal_lm(), max_new_tokens=4, random_state=0,
    ...                                 verbose=0).fit(X)
    >>> len(qa.predict(X))
    4
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

    def __init__(self, *, model="google/flan-t5-small", max_new_tokens=32, target_max_length=64, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _inputs(self, X):
        questions, contexts = check_qa_inputs(X)
        return contexts, [{"question": q} for q in questions]

    def _targets(self, y, n):
        return [text for text, _ in _check_answers(y, n)]

    @_qa_parameter_docs
    def predict(self, X):
        """Answer each question.

        Returns
        -------
        answers : list of str
            One generated answer per question ("" for an empty passage).
        """
        return self._predict_text2text(X, desc="answer")
