"""What every summarizer shares: ROUGE ``score``."""

from ..base import check_references, check_texts, parameter_docs


class SummarizerMixin:
    """Mixin for summarizers: ``predict`` returns one summary string per document, ``score`` is ROUGE-2 F1."""

    _nlpipe_task = "summarization"

    @parameter_docs(X="Documents.")
    def score(self, X, y, sample_weight=None):
        """Mean ROUGE-2 F1 of the summaries of ``X`` against the references ``y``.

        Parameters
        ----------
        y : list of str
            One reference summary per document.

        Returns
        -------
        score : float
            In [0, 1]; other variants via ``nlpipe.metrics.get_scorer("rouge1")`` etc.
        """
        from ..metrics import rouge

        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__}.score does not support sample_weight.")
        texts = check_texts(X)
        refs = check_references(y, len(texts))
        return rouge(refs, self.predict(texts), rouge_types=["rouge2"])["rouge2"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
