"""Text generation and translation as estimators, on the text-to-text core the summarizer uses."""

from ._generator import TextGenerator
from ._translator import Translator

__all__ = ["TextGenerator", "Translator"]
