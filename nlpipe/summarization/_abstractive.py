"""Abstractive summarization: encoder-decoder and decoder-only models behind ``fit``/``predict``."""

import logging
import numbers
import os

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..base import Interval, Options, check_texts
from .._transformer import (
    TRAINING_CONSTRAINTS,
    _neural,
    _TransformerBase,
    split_validation,
    training_kwargs,
)
from ._common import SummarizerMixin, check_references
from ._sentences import iter_sentences

logger = logging.getLogger(__name__)

_DEFAULT_PROMPTS = {
    "seq2seq": "{text}",
    "chat": "Summarize the following news article in three sentences.\n\n{text}",
    "plain": "{text}\n\nSummary:",
}
# Stands for the document while a prompt template is cut into the parts before and after it.
_SLOT = "\x00NLPIPE_TEXT\x00"


class AbstractiveSummarizer(SummarizerMixin, _TransformerBase):
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
    architecture : {"auto", "seq2seq", "causal", "encoder-decoder"}, default="auto"
        "auto" reads the checkpoint's config: encoder-decoder checkpoints are
        "seq2seq", decoder-only ones "causal", encoder-only ones are warm-started
        as "encoder-decoder".
    model_kwargs : dict or None, default=None
        Extra ``from_pretrained`` arguments for the config, tokenizer and model,
        e.g. ``{"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}``.
    prompt : str or None, default=None
        Template containing ``"{text}"``, where the document goes. None: the
        document as it is for encoder-decoders (give ``"summarize: {text}"`` for
        T5), an instruction for chat models, ``"{text}\\n\\nSummary:"`` for
        decoder-only models without a chat template.
    chat_template : {"auto"} or bool, default="auto"
        Wrap the prompt as a user message in the tokenizer's chat template
        (decoder-only models). "auto": when the tokenizer has one.
    max_length : int or None, default=None
        Longest input in tokens; None takes the model's limit. Decoder-only
        models keep ``max_new_tokens`` of it free for the answer.
    long_input : {"truncate", "chunk"}, default="truncate"
        What to do with a document longer than the input window: cut it, or
        summarize consecutive chunks of whole sentences and then summarize the
        joined chunk summaries (two passes).
    spacy_model : str, default="blank:en"
        Sentence splitter for ``long_input="chunk"``.
    max_new_tokens : int, default=128
        Longest summary in tokens.
    num_beams : int, default=1
        Beam width; 1 is greedy decoding.
    generation_kwargs : dict or None, default=None
        More ``generate`` arguments (``no_repeat_ngram_size``, ``length_penalty``,
        ``do_sample``...). For decoder-only models ``no_repeat_ngram_size`` also
        counts the prompt, so it forbids copying phrases from the document.
    target_max_length : int, default=128
        Reference summaries are cut to this many tokens in ``fit``.
    batch_size : int, default=8
        Documents per training step and per ``generate`` call.
    epochs : int, default=3
        Passes over the training documents; 0 keeps the pretrained weights.
    learning_rate : float, default=5e-5
        Peak AdamW learning rate (linear warm-up and decay).
    weight_decay : float, default=0.01
        AdamW weight decay (not on biases and norms).
    warmup_ratio : float, default=0.1
        Fraction of steps spent warming up.
    gradient_accumulation_steps : int, default=1
        Batches per optimizer step.
    max_grad_norm : float or None, default=1.0
        Gradient clipping; None disables it.
    validation_fraction : float or None, default=None
        Hold this fraction out to measure the validation loss each epoch and
        keep the best epoch's weights.
    early_stopping_patience : int or None, default=None
        Stop after this many epochs without a better validation loss.
    device : str, default="auto"
        "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps".
    mixed_precision : {"auto", "no", "fp16", "bf16"}, default="auto"
        Autocast on CUDA ("auto": bf16 where supported, else fp16); ignored on CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the new weights, dropout, batch order and the validation split.
    verbose : int or bool, default=1
        Progress bars for training and generation.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The (fine-tuned) model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    architecture_ : {"seq2seq", "causal", "encoder-decoder"}
        The kind of model used.
    prompt_ : str
        The prompt template used.
    chat_template_ : bool
        Whether prompts go through the chat template.
    max_length_ : int
        The input window in tokens.
    device_ : torch.device
        Where the model lives.
    history_ : list of dict
        Per-epoch training (and validation) loss; empty without fine-tuning.

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

    _parameter_constraints = {
        **_TransformerBase._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        "epochs": [Interval(numbers.Integral, 0, None)],
        "architecture": [Options(["auto", "seq2seq", "causal", "encoder-decoder"])],
        "model_kwargs": [None, dict],
        "prompt": [None, str],
        "chat_template": [Options(["auto"]), "boolean"],
        "long_input": [Options(["truncate", "chunk"])],
        "spacy_model": [str],
        "max_new_tokens": [Interval(numbers.Integral, 1, None)],
        "num_beams": [Interval(numbers.Integral, 1, None)],
        "generation_kwargs": [None, dict],
        "target_max_length": [Interval(numbers.Integral, 1, None)],
    }

    def __init__(
        self,
        *,
        model="sshleifer/distilbart-cnn-12-6",
        architecture="auto",
        model_kwargs=None,
        prompt=None,
        chat_template="auto",
        max_length=None,
        long_input="truncate",
        spacy_model="blank:en",
        max_new_tokens=128,
        num_beams=1,
        generation_kwargs=None,
        target_max_length=128,
        batch_size=8,
        epochs=3,
        learning_rate=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping_patience=None,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.architecture = architecture
        self.model_kwargs = model_kwargs
        self.prompt = prompt
        self.chat_template = chat_template
        self.max_length = max_length
        self.long_input = long_input
        self.spacy_model = spacy_model
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
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- prompts
    def _resolve_prompt(self, tokenizer):
        causal = self.architecture_ == "causal"
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if self.chat_template is True and not (causal and has_template):
            raise ValueError(
                "chat_template=True needs a decoder-only model whose tokenizer has a chat template; "
                f"this is a {self.architecture_} model{'' if has_template else ' and its tokenizer has none'}."
            )
        self.chat_template_ = bool(causal and has_template and self.chat_template is not False)
        if self.prompt is not None:
            if self.prompt.count("{text}") != 1:
                raise ValueError(f"prompt must contain '{{text}}' exactly once, where the document goes; got {self.prompt!r}.")
            self.prompt_ = self.prompt
        else:
            self.prompt_ = _DEFAULT_PROMPTS["seq2seq" if not causal else "chat" if self.chat_template_ else "plain"]

    def _frame(self):
        """Token ids before and after the document (chat template and special tokens included)."""
        tok = self.tokenizer_
        text = self.prompt_.replace("{text}", _SLOT)
        if self.chat_template_:
            text = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
            before, after = text.split(_SLOT)
            return tok(before, add_special_tokens=False)["input_ids"], tok(after, add_special_tokens=False)["input_ids"]
        before, after = text.split(_SLOT)
        # The tokenizer's own special tokens ([CLS] ... [SEP], <s> ... </s>, BOS) frame the whole prompt:
        # find them around a probe word.
        framed, bare = tok("summary")["input_ids"], tok("summary", add_special_tokens=False)["input_ids"]
        at = next((i for i in range(len(framed)) if framed[i:i + len(bare)] == bare), 0)
        head, tail = framed[:at], framed[at + len(bare):]
        before_ids = tok(before, add_special_tokens=False)["input_ids"] if before.strip() else []
        after_ids = tok(after, add_special_tokens=False)["input_ids"] if after.strip() else []
        return head + before_ids, after_ids + tail

    def _budget(self, reserve):
        """Document tokens that fit the window with the prompt around them and ``reserve`` tokens to spare."""
        before, after = self._frame()
        budget = self.max_length_ - len(before) - len(after) - reserve
        if budget < 1:
            raise ValueError(
                f"No room for the document: the window is {self.max_length_} tokens, the prompt takes "
                f"{len(before) + len(after)} and {reserve} are kept for the summary. Raise max_length, "
                "shorten the prompt or lower max_new_tokens / target_max_length."
            )
        return budget

    def _reserve(self):
        """Tokens of the window kept for the summary: only decoder-only models share one window."""
        return self._max_new_tokens() if self.architecture_ == "causal" else 0

    def _document_ids(self, texts, budget):
        return self.tokenizer_(list(texts), add_special_tokens=False, truncation=True, max_length=budget)["input_ids"]

    def _prompt_ids(self, texts):
        """Model inputs: each document cut to the token budget and framed by the prompt."""
        before, after = self._frame()
        budget = self._budget(self._reserve())
        return [before + doc + after for doc in self._document_ids(texts, budget)]

    def _max_new_tokens(self):
        limit = self._decoder_limit()
        if limit is not None and self.max_new_tokens >= limit:
            logger.warning("max_new_tokens=%d exceeds the decoder's %d positions; using %d",
                           self.max_new_tokens, limit, limit - 1)
            return limit - 1
        return self.max_new_tokens

    def _decoder_limit(self):
        if self.architecture_ == "causal":
            return None  # the prompt budget already keeps max_new_tokens free
        decoder = getattr(self.model_.config, "decoder", None)
        limit = getattr(decoder, "max_position_embeddings", None)
        return int(limit) if isinstance(limit, int) else None

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Load the model and fine-tune it on reference summaries.

        Parameters
        ----------
        X : list of str
            Documents.
        y : list of str or None, default=None
            One reference summary per document; None (or ``epochs=0``) keeps the
            pretrained weights.

        Returns
        -------
        self : AbstractiveSummarizer
        """
        self._validate_params()
        texts = check_texts(X)
        refs = check_references(y, len(texts)) if y is not None else None
        neural = _neural()
        self._release()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = neural.resolve_device(self.device)
        try:
            with neural.seeded(seed, device):
                with neural.quiet_transformers(self.verbose):
                    model, tokenizer, self.architecture_ = neural.load_generator(
                        os.fspath(self.model), self.architecture, self.model_kwargs
                    )
                self.model_, self.tokenizer_, self.device_ = model.to(device), tokenizer, device
                self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
                self._resolve_prompt(tokenizer)
                self._budget(self._reserve())  # fail now, not in predict, when the prompt leaves no room
                self.history_ = []
                if refs is not None and self.epochs > 0:
                    self._fine_tune(neural, texts, refs, seed)
        except BaseException:
            # A failed fit leaves an unfitted estimator, not a half-fitted one.
            for name in ("model_", "tokenizer_", "device_", "architecture_", "max_length_", "prompt_",
                         "chat_template_", "history_"):
                self.__dict__.pop(name, None)
            raise
        return self

    def _training_pairs(self, neural, texts, refs):
        """Input ids and label sequences (reference tokens; prompt positions ignored)."""
        if self.architecture_ != "causal":
            target_len = min(self.target_max_length, (self._decoder_limit() or self.target_max_length + 1) - 1)
            return self._prompt_ids(texts), neural.target_ids(self.tokenizer_, self.model_, refs, target_len)
        # One window holds prompt and answer: each document gets what its reference leaves free,
        # but at least half, and a reference too long for the rest is cut.
        before, after = self._frame()
        free = self.max_length_ - len(before) - len(after)
        answers = self.tokenizer_(list(refs), add_special_tokens=False, truncation=True,
                                  max_length=self.target_max_length - 1)["input_ids"]
        docs = self._document_ids(texts, free)
        inputs = [before + d[: max(free - len(a) - 1, free // 2)] + after for d, a in zip(docs, answers)]
        eos = neural.eos_ids(self.model_)
        return neural.causal_training_ids(inputs, answers, eos[0] if eos else None, self.max_length_)

    def _fine_tune(self, neural, texts, refs, seed):
        ids, labels = self._training_pairs(neural, texts, refs)
        train_idx, val_idx = split_validation(len(ids), self.validation_fraction, seed)
        validation = None
        if val_idx is not None:
            validation = ([ids[i] for i in val_idx], [labels[i] for i in val_idx])
        self.history_ = neural.train(
            self.model_,
            [ids[i] for i in train_idx],
            [labels[i] for i in train_idx],
            loss=neural.lm_loss,
            validation=validation,
            **training_kwargs(self, neural, self.device_, self.tokenizer_.pad_token_id, seed),
        )

    # ---------------------------------------------------------------- predict
    def _generate(self, neural, texts, desc):
        generation = {"max_new_tokens": self._max_new_tokens(), "num_beams": self.num_beams,
                      **(self.generation_kwargs or {})}
        return neural.generate_texts(
            self.model_,
            self.tokenizer_,
            self._prompt_ids(texts),
            causal=self.architecture_ == "causal",
            batch_size=self.batch_size,
            device=self.device_,
            amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
            generation=generation,
            verbose=self.verbose,
            desc=desc,
        )

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

    def predict(self, X):
        """Summarize each document.

        Parameters
        ----------
        X : list of str
            Documents.

        Returns
        -------
        summaries : list of str
            One generated summary per document ("" for an empty document).
        """
        check_is_fitted(self, "model_")
        texts = check_texts(X)
        neural = _neural()
        summaries = [""] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return summaries
        docs = [texts[i] for i in todo]
        if self.long_input == "chunk":
            budget = self._budget(self._reserve())
            chunked = self._chunks(docs, budget)
            flat = [c for chunks in chunked for c in chunks]
            firsts = iter(self._generate(neural, flat, desc="summarize chunks"))
            parts = [[next(firsts) for _ in chunks] for chunks in chunked]
            multi = [k for k, p in enumerate(parts) if len(p) > 1]
            docs = [p[0] if len(p) == 1 else "" for p in parts]
            if multi:
                seconds = self._generate(neural, [" ".join(parts[k]) for k in multi], desc="summarize summaries")
                for k, s in zip(multi, seconds):
                    docs[k] = s
            results = docs
        else:
            results = self._generate(neural, docs, desc="summarize")
        for i, s in zip(todo, results):
            summaries[i] = s
        return summaries

    # ----------------------------------------------------------- persistence
    def _packed_task(self):
        return self.architecture_

    def _fitted_meta(self):
        return {
            **super()._fitted_meta(),
            "architecture_": self.architecture_,
            "prompt_": self.prompt_,
            "chat_template_": self.chat_template_,
        }

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.architecture_ = meta["architecture_"]
        self.prompt_ = meta["prompt_"]
        self.chat_template_ = meta["chat_template_"]
        self.history_ = []

    def _load_saved(self, neural, path):
        model, tokenizer, _ = neural.load_generator(path, self.architecture_)
        return model, tokenizer
