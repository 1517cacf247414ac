"""Abstractive summarization: encoder-decoder and decoder-only models behind ``fit``/``predict``."""

import logging

from sklearn.utils.validation import check_is_fitted

from ..base import Options, check_texts, parameter_docs, store_params
from ..finetune import TextToTextEstimator, shared_parameters
from ..finetune import import_neural
from ._common import SummarizerMixin
from ._sentences import iter_sentences

logger = logging.getLogger(__name__)


@shared_parameters
class AbstractiveSummarizer(SummarizerMixin, TextToTextEstimator):
    """Summaries written by a text-to-text transformer, fine-tuned with ``fit`` or used as it is.

    Three kinds of model: an encoder-decoder checkpoint (BART, T5, Pegasus;
    ``AutoModelForSeq2SeqLM``), an ``EncoderDecoderModel`` warm-started from an
    encoder-only checkpoint (BERT, MiniLM: its weights become both encoder and
    decoder, the cross-attention starts random and needs fine-tuning), or a
    decoder-only instruction model (``AutoModelForCausalLM``) prompted through
    its chat template. ``fit(X, y)`` fine-tunes on reference summaries with the
    training loop every nlpipe transformer shares (the loss is the cross-entropy
    of the reference tokens only); ``fit(X)`` or ``epochs=0`` loads the model
    without training. ``predict`` generates in length-sorted batches.

    Parameters
    ----------
    model : str or path-like, default="sshleifer/distilbart-cnn-12-6"
        Hub id (in the local cache) or local directory.
    long_input : {"truncate", "chunk"}, default="truncate"
        What to do with a document longer than the input window: cut it, or
        summarize consecutive chunks of whole sentences and then summarize the
        joined chunk summaries (two passes).
    spacy_model : str, default="blank:en"
        Sentence splitter for ``long_input="chunk"``.
    %MODEL%
    prompt : str or None, default=None
        Template containing ``"{text}"``, where the document goes. None: the
        document as it is for encoder-decoders (give ``"summarize: {text}"`` for
        T5), an instruction for chat models, ``"{text}\\n\\nSummary:"`` for
        decoder-only models without a chat template.
    %GENERATION%
    %TRAINING%
    %ATTRIBUTES%

    See Also
    --------
    ExtractiveSummarizer : sentence extraction, no model to train.
    nlpipe.metrics.rouge : the metric ``score`` reports.

    Examples
    --------
    >>> from nlpipe import AbstractiveSummarizer
    >>> from nlpipe.testing import make_summarization, make_tiny_causal_lm
    >>> X, y = make_summarization()
    >>> summarizer = AbstractiveSummarizer(model=make_tiny_causal_lm(), max_new_tokens=8, epochs=1,
    ...                                    random_state=0, verbose=0).fit(X, y)
    >>> summaries = summarizer.predict(X[:2])
    >>> len(summaries), type(summaries[0]).__name__
    (2, 'str')
    """

    _document_name = "document"
    _default_prompts = {
        "seq2seq": "{text}",
        "chat": "Summarize the following news article in three sentences.\n\n{text}",
        "plain": "{text}\n\nSummary:",
    }
    _parameter_constraints = {
        **TextToTextEstimator._parameter_constraints,
        "long_input": [Options(["truncate", "chunk"])],
        "spacy_model": [str],
    }

    def __init__(self, *, model="sshleifer/distilbart-cnn-12-6", long_input="truncate", spacy_model="blank:en",
                 max_new_tokens=128, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _chunks(self, texts, budget):
        """Each document as consecutive runs of whole sentences of at most ``budget`` tokens."""
        out = []
        for doc in iter_sentences(texts, self.spacy_model):
            sentences = [s for s, _ in doc]
            lengths = [len(x) for x in self._document_ids(sentences, 10**9)] if sentences else []
            chunks, current, used = [], [], 0
            for sentence, n in zip(sentences, lengths):
                if current and used + n > budget:
                    chunks.append(" ".join(current))
                    current, used = [], 0
                current.append(sentence)  # a sentence longer than the budget is cut when it is encoded
                used += n
            if current:
                chunks.append(" ".join(current))
            out.append(chunks)
        return out

    @parameter_docs(X="Documents.")
    def predict(self, X):
        """Write a summary of each document.

        Returns
        -------
        summaries : list of str
            One generated summary per document ("" for an empty document).
        """
        if self.long_input != "chunk":
            return self._predict_text2text(X, desc="summarize")
        check_is_fitted(self, "model_")
        texts = check_texts(X)
        neural = import_neural()
        summaries = [""] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return summaries
        before, after = self._frame()
        chunked = self._chunks([texts[i] for i in todo], self._budget(before, after, self._reserve()))
        flat = [c for chunks in chunked for c in chunks]
        firsts = iter(self._generate(neural, flat, desc="summarize chunks"))
        parts = [[next(firsts) for _ in chunks] for chunks in chunked]
        multi = [k for k, p in enumerate(parts) if len(p) > 1]
        results = [p[0] if len(p) == 1 else "" for p in parts]
        if multi:
            seconds = self._generate(neural, [" ".join(parts[k]) for k in multi], desc="summarize summaries")
            for k, s in zip(multi, seconds):
                results[k] = s
        for i, s in zip(todo, results):
            summaries[i] = s
        return summaries
