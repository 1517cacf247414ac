"""Question answering over passages: span extraction (encoder + span head) or generated answers."""

from ._qa import QuestionAnswerer, check_qa_inputs

__all__ = ["QuestionAnswerer", "check_qa_inputs"]
