"""Question answering over passages: spans of the passage (encoder + span head) or generated answers."""

from ._extractive import ExtractiveQuestionAnswerer
from ._generative import GenerativeQuestionAnswerer
from ._inputs import check_qa_inputs

__all__ = ["ExtractiveQuestionAnswerer", "GenerativeQuestionAnswerer", "check_qa_inputs"]
