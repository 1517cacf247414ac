"""The text-to-text estimators' shared base: prompts, token budgets, fine-tuning and ``generate``.

AbstractiveSummarizer, TextGenerator, Translator and the generative QuestionAnswerer
differ only in how an input becomes a prompt, their default prompts and their
``score``; everything else lives here (and the torch side in ``nlpipe.neural``).
Torch-free at import, like ``_transformer``.
"""

import logging
import numbers
import os

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .base import Interval, Options, _fitted_attributes, check_texts
from ._transformer import (
    CHECKPOINT_DOC,
    TRAINING_CONSTRAINTS,
    _neural,
    _TransformerBase,
    split_validation,
    training_kwargs,
)

logger = logging.getLogger(__name__)

# Stands for the document while a prompt template is cut into the parts before and after it.
_SLOT = "\x00NLPIPE_TEXT\x00"

TEXT2TEXT_CONSTRAINTS = {
    **_TransformerBase._parameter_constraints,
    **TRAINING_CONSTRAINTS,
    "epochs": [Interval(numbers.Integral, 0, None)],
    "architecture": [Options(["auto", "seq2seq", "causal", "encoder-decoder"])],
    "model_kwargs": [None, dict],
    "chat_template": [Options(["auto"]), "boolean"],
    "max_new_tokens": [Interval(numbers.Integral, 1, None)],
    "num_beams": [Interval(numbers.Integral, 1, None)],
    "generation_kwargs": [None, dict],
    "target_max_length": [Interval(numbers.Integral, 1, None)],
}


class _TextToTextBase(_TransformerBase):
    """Fit/predict of an encoder-decoder or decoder-only model on (prompt, target text) pairs.

    Subclasses set the prompt slots and defaults:

    * ``_document_field``: the slot of the prompt template that holds the input
      text; it is the part cut to fit the window (never the rest of the prompt);
    * ``_fields``: other slots, filled per row from ``_inputs`` (the question of
      a question-answering prompt);
    * ``_default_prompts``: templates for ``"seq2seq"``, ``"chat"`` (decoder-only
      with a chat template) and ``"plain"`` (decoder-only without one);
    * ``_prompt_param``: the name of the estimator parameter holding the template.
    """

    _document_field = "text"
    _document_name = "input"  # what error messages call it
    _fields = ()
    _default_prompts = {"seq2seq": "{text}", "chat": "{text}", "plain": "{text}"}
    _prompt_param = "prompt"

    # ---------------------------------------------------------------- inputs
    def _inputs(self, X):
        """``(documents, fields)``: the texts that fill the document slot and, per row, the other slots."""
        return check_texts(X), None

    def _targets(self, y, n):
        """Reference outputs for ``fit``: one str per input."""
        from .summarization._common import check_references

        return check_references(y, n)

    # ---------------------------------------------------------------- prompts
    def _template(self):
        return getattr(self, self._prompt_param)

    def _resolve_prompt(self, tokenizer):
        causal = self.architecture_ == "causal"
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if self.chat_template is True and not (causal and has_template):
            raise ValueError(
                "chat_template=True needs a decoder-only model whose tokenizer has a chat template; "
                f"this is a {self.architecture_} model{'' if has_template else ' and its tokenizer has none'}."
            )
        self.chat_template_ = bool(causal and has_template and self.chat_template is not False)
        template = self._template()
        if template is None:
            template = self._default_prompt("seq2seq" if not causal else "chat" if self.chat_template_ else "plain")
        else:
            slot = "{" + self._document_field + "}"
            if template.count(slot) != 1:
                raise ValueError(
                    f"{self._prompt_param} must contain {slot!r} exactly once, where the "
                    f"{self._document_field} goes; got {template!r}."
                )
            for field in self._fields:
                if "{" + field + "}" not in template:
                    raise ValueError(f"{self._prompt_param} must contain '{{{field}}}'; got {template!r}.")
        self.prompt_ = self._format_prompt(template)

    def _default_prompt(self, kind):
        """The template used when none is given: ``kind`` is "seq2seq", "chat" or "plain"."""
        return self._default_prompts[kind]

    def _format_prompt(self, template):
        """Hook: fill slots fixed at fit time (a translator's languages)."""
        return template

    def _row_templates(self, fields):
        """The prompt of each row with the document slot marked and the other slots filled."""
        base = self.prompt_.replace("{" + self._document_field + "}", _SLOT)
        if not fields:
            return None
        out = []
        for row in fields:
            text = base
            for name in self._fields:
                text = text.replace("{" + name + "}", row[name])
            out.append(text)
        return out

    def _frame(self, template=None):
        """Token ids before and after the document (chat template and special tokens included)."""
        tok = self.tokenizer_
        text = template if template is not None else self.prompt_.replace("{" + self._document_field + "}", _SLOT)
        if self.chat_template_:
            text = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
            before, after = text.split(_SLOT)
            return tok(before, add_special_tokens=False)["input_ids"], tok(after, add_special_tokens=False)["input_ids"]
        before, after = text.split(_SLOT)
        # The tokenizer's own special tokens ([CLS] ... [SEP], <s> ... </s>, BOS, a language code) frame
        # the whole prompt: find them around a probe word.
        framed, bare = tok("summary")["input_ids"], tok("summary", add_special_tokens=False)["input_ids"]
        at = next((i for i in range(len(framed)) if framed[i:i + len(bare)] == bare), 0)
        head, tail = framed[:at], framed[at + len(bare):]
        before_ids = tok(before, add_special_tokens=False)["input_ids"] if before.strip() else []
        after_ids = tok(after, add_special_tokens=False)["input_ids"] if after.strip() else []
        return head + before_ids, after_ids + tail

    def _frames(self, fields, n):
        """``(before, after)`` token ids per row (computed once per distinct prompt)."""
        templates = self._row_templates(fields)
        if templates is None:
            return [self._frame()] * n
        cache = {}
        for t in templates:
            if t not in cache:
                cache[t] = self._frame(t)
        return [cache[t] for t in templates]

    def _budget(self, before, after, reserve):
        """Document tokens that fit the window with the prompt around them and ``reserve`` tokens to spare."""
        budget = self.max_length_ - len(before) - len(after) - reserve
        if budget < 1:
            raise ValueError(
                f"No room for the {self._document_name}: the window is {self.max_length_} tokens, the prompt "
                f"takes {len(before) + len(after)} and {reserve} are kept for the output. Raise max_length, "
                "shorten the prompt or lower max_new_tokens / target_max_length."
            )
        return budget

    def _reserve(self):
        """Tokens of the window kept for the output: only decoder-only models share one window."""
        return self._max_new_tokens() if self.architecture_ == "causal" else 0

    def _document_ids(self, texts, budget):
        return self.tokenizer_(list(texts), add_special_tokens=False, truncation=True, max_length=budget)["input_ids"]

    def _prompt_ids(self, docs, fields=None):
        """Model inputs: each document cut to the token budget and framed by its prompt."""
        frames = self._frames(fields, len(docs))
        reserve = self._reserve()
        budgets = [self._budget(b, a, reserve) for b, a in frames]
        top = max(budgets, default=1)
        ids = self._document_ids(docs, top)
        return [b + d[:k] + a for (b, a), d, k in zip(frames, ids, budgets)]

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
    def _after_load(self, model, tokenizer):
        """Hook: task settings that need the loaded tokenizer (a translator's language codes)."""

    def _fit_text2text(self, X, y):
        self._validate_params()
        docs, fields = self._inputs(X)
        refs = self._targets(y, len(docs)) if y is not None else None
        neural = _neural()
        self._release()
        for name in _fitted_attributes(self):  # start from scratch: nothing of a previous fit stays
            del self.__dict__[name]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = neural.resolve_device(self.device)
        with neural.seeded(seed, device):
            with neural.quiet_transformers(self.verbose):
                model, tokenizer, self.architecture_ = neural.load_generator(
                    os.fspath(self.model), self.architecture, self.model_kwargs
                )
            self.model_, self.tokenizer_, self.device_ = model.to(device), tokenizer, device
            self.max_length_ = neural.resolve_max_length(self.max_length, tokenizer, model)
            self._after_load(model, tokenizer)
            self._resolve_prompt(tokenizer)
            before, after = self._frame()
            self._budget(before, after, self._reserve())  # fail now, not in predict, when the prompt leaves no room
            self.history_ = []
            if refs is not None and self.epochs > 0:
                self._fine_tune(neural, docs, fields, refs, seed)
        return self

    def _training_pairs(self, neural, docs, fields, refs):
        """Input ids and label sequences (reference tokens; prompt positions ignored)."""
        if self.architecture_ != "causal":
            target_len = min(self.target_max_length, (self._decoder_limit() or self.target_max_length + 1) - 1)
            return self._prompt_ids(docs, fields), neural.target_ids(self.tokenizer_, self.model_, refs, target_len)
        # One window holds prompt and answer: each document gets what its reference leaves free,
        # but at least half, and a reference too long for the rest is cut.
        frames = self._frames(fields, len(docs))
        frees = [self.max_length_ - len(b) - len(a) for b, a in frames]
        answers = self.tokenizer_(list(refs), add_special_tokens=False, truncation=True,
                                  max_length=self.target_max_length - 1)["input_ids"]
        ids = self._document_ids(docs, max(frees))
        inputs = [b + d[: max(free - len(ans) - 1, free // 2)] + a
                  for (b, a), d, ans, free in zip(frames, ids, answers, frees)]
        eos = neural.eos_ids(self.model_)
        return neural.causal_training_ids(inputs, answers, eos[0] if eos else None, self.max_length_)

    def _fine_tune(self, neural, docs, fields, refs, seed):
        ids, labels = self._training_pairs(neural, docs, fields, refs)
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
    def _generation_settings(self):
        """``generate`` keyword arguments (subclasses add their sampling or language settings)."""
        return {"max_new_tokens": self._max_new_tokens(), "num_beams": self.num_beams,
                **(self.generation_kwargs or {})}

    def _generate(self, neural, docs, fields=None, desc="generate"):
        # Sampling draws from torch's RNG: seeded from random_state on every call, so an int
        # random_state gives the same texts each time (and the caller's RNG is left alone).
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with neural.seeded(seed, self.device_):
            return neural.generate_texts(
                self.model_,
                self.tokenizer_,
                self._prompt_ids(docs, fields),
                causal=self.architecture_ == "causal",
                batch_size=self.batch_size,
                device=self.device_,
                amp_dtype=neural.autocast_dtype(self.device_, self.mixed_precision),
                generation=self._generation_settings(),
                verbose=self.verbose,
                desc=desc,
            )

    def _predict_text2text(self, X, desc="generate"):
        check_is_fitted(self, "model_")
        docs, fields = self._inputs(X)
        neural = _neural()
        out = [""] * len(docs)
        todo = [i for i, t in enumerate(docs) if t.strip()]
        if not todo:
            return out
        sub_fields = [fields[i] for i in todo] if fields else None
        for i, text in zip(todo, self._generate(neural, [docs[i] for i in todo], sub_fields, desc=desc)):
            out[i] = text
        return out

    def __sklearn_tags__(self):
        # y is optional: fit(X) alone loads the model for zero-shot use.
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

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
        self._after_load(model, tokenizer)
        return model, tokenizer


_TRAINING_DOC = """\
    batch_size : int, default=8
        Inputs per training step and per ``generate`` call.
    epochs : int, default=3
        Passes over the training pairs in ``fit(X, y)``; 0 keeps the pretrained weights.
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
    %CHECKPOINT%
    device : str, default="auto"
        "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps".
    mixed_precision : {"auto", "no", "fp16", "bf16"}, default="auto"
        Autocast on CUDA ("auto": bf16 where supported, else fp16); ignored on CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the new weights, dropout, batch order, the validation split and
        sampling in ``predict`` (an int gives the same outputs on every call).
    verbose : int or bool, default=1
        Progress bars for training and generation.
"""

_MODEL_DOC = """\
    architecture : {"auto", "seq2seq", "causal", "encoder-decoder"}, default="auto"
        "auto" reads the checkpoint's config: encoder-decoder checkpoints are
        "seq2seq", decoder-only ones "causal", encoder-only ones are warm-started
        as "encoder-decoder" (an ``EncoderDecoderModel``; its cross-attention
        starts random and needs fine-tuning).
    model_kwargs : dict or None, default=None
        Extra ``from_pretrained`` arguments for the config, tokenizer and model,
        e.g. ``{"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}``.
"""

_TEXT2TEXT_ATTRIBUTES = """\
    model_ : transformers.PreTrainedModel
        The (fine-tuned) model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    architecture_ : {"seq2seq", "causal", "encoder-decoder"}
        The kind of model used.
    prompt_ : str
        The prompt template used.
    chat_template_ : bool
        Whether prompts go through the tokenizer's chat template.
    max_length_ : int
        The input window in tokens.
    device_ : torch.device
        Where the model lives.
    history_ : list of dict
        Per-epoch training (and validation) loss; empty without fine-tuning.
"""


def fill_doc(cls):
    """Put the shared parameter and attribute descriptions into ``cls``'s docstring."""
    cls.__doc__ = (
        cls.__doc__.replace("    %TRAINING%\n", _TRAINING_DOC.replace("    %CHECKPOINT%\n", CHECKPOINT_DOC))
        .replace("    %MODEL%\n", _MODEL_DOC)
        .replace("    %ATTRIBUTES%\n", _TEXT2TEXT_ATTRIBUTES)
    )
    return cls
