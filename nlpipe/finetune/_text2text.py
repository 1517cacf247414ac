"""The text-to-text estimators' shared base: prompts, token budgets, fine-tuning and ``generate``.

AbstractiveSummarizer, TextGenerator, Translator and GenerativeQuestionAnswerer
differ only in how an input becomes a prompt, their default prompts and their
``score``; everything else lives here (and the torch side in ``nlpipe.neural``).
Torch-free at import, like the rest of ``nlpipe.finetune``.
"""

import logging
import numbers
import os

from sklearn.utils.validation import check_is_fitted

from ..base import Interval, Options, check_references, check_texts, store_params
from ._base import import_neural
from ._docs import shared_parameters
from ._template import FineTunedEstimator, TrainingExamples, draw_seed

logger = logging.getLogger(__name__)

# Stands for the document while a prompt template is cut into the parts before and after it.
_SLOT = "\x00NLPIPE_TEXT\x00"

@shared_parameters
class TextToTextEstimator(FineTunedEstimator):
    """Base of the estimators that write text: an encoder-decoder or decoder-only model on (prompt, target) pairs.

    The fit template's hooks are implemented here once: the model comes from
    :func:`nlpipe.neural.load_generator`, training examples are prompts (the
    document cut to the window, never the prompt) with the reference tokens as
    labels, and the loss is the model's own token cross-entropy. Subclasses set
    the prompt slots and defaults:

    * ``_document_field``: the slot of the prompt template that holds the input
      text; it is the part cut to fit the window (never the rest of the prompt);
    * ``_fields``: other slots, filled per row from ``_inputs`` (the question of
      a question-answering prompt);
    * ``_default_prompts``: templates for ``"seq2seq"``, ``"chat"`` (decoder-only
      with a chat template) and ``"plain"`` (decoder-only without one).

    Parameters
    ----------
    %MODEL%
    prompt : str or None, default=None
        Template with the document slot (``"{text}"``, or the subclass's) and its
        other slots; None takes the default prompt for the kind of model.
    %GENERATION%
    %TRAINING%

    See Also
    --------
    FineTunedEstimator : the fit template.

    Examples
    --------
    >>> from nlpipe import AbstractiveSummarizer, Translator
    >>> from nlpipe.finetune import TextToTextEstimator
    >>> issubclass(AbstractiveSummarizer, TextToTextEstimator), issubclass(Translator, TextToTextEstimator)
    (True, True)
    """

    _parameter_constraints = {
        **FineTunedEstimator._parameter_constraints,
        "architecture": [Options(["auto", "seq2seq", "causal", "encoder-decoder"])],
        "model_kwargs": [None, dict],
        "prompt": [None, str],
        "chat_template": [Options(["auto"]), "boolean"],
        "max_new_tokens": [Interval(numbers.Integral, 1, None)],
        "num_beams": [Interval(numbers.Integral, 1, None)],
        "generation_kwargs": [None, dict],
        "target_max_length": [Interval(numbers.Integral, 1, None)],
    }

    _document_field = "text"
    _document_name = "input"  # what error messages call it
    _fields = ()
    _default_prompts = {"seq2seq": "{text}", "chat": "{text}", "plain": "{text}"}

    def __init__(
        self,
        *,
        architecture="auto",
        model_kwargs=None,
        prompt=None,
        chat_template="auto",
        max_new_tokens=64,
        num_beams=1,
        generation_kwargs=None,
        target_max_length=128,
        batch_size=8,
        **params,
    ):
        super().__init__(**params)
        store_params(self, locals())

    # ---------------------------------------------------------------- inputs
    def _inputs(self, X):
        """``(documents, fields)``: the texts that fill the document slot and, per row, the other slots."""
        return check_texts(X), None

    def _targets(self, y, n):
        """Reference outputs for ``fit``: one str per input."""
        return check_references(y, n)

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
        template = self.prompt
        if template is None:
            template = self._default_prompt("seq2seq" if not causal else "chat" if self.chat_template_ else "plain")
        else:
            slot = "{" + self._document_field + "}"
            if template.count(slot) != 1:
                raise ValueError(
                    f"prompt must contain {slot!r} exactly once, where the "
                    f"{self._document_field} goes; got {template!r}."
                )
            for field in self._fields:
                if "{" + field + "}" not in template:
                    raise ValueError(f"prompt must contain '{{{field}}}'; got {template!r}.")
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
        neural = import_neural()
        tok = self.tokenizer_
        text = template if template is not None else self.prompt_.replace("{" + self._document_field + "}", _SLOT)
        if self.chat_template_:
            text = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
            before, after = text.split(_SLOT)
            return neural.tokenize(tok, before, add_special_tokens=False)["input_ids"], neural.tokenize(tok, after, add_special_tokens=False)["input_ids"]
        before, after = text.split(_SLOT)
        # The tokenizer's own special tokens ([CLS] ... [SEP], <s> ... </s>, BOS, a language code) frame
        # the whole prompt: find them around a probe word.
        framed, bare = neural.tokenize(tok, "summary")["input_ids"], neural.tokenize(tok, "summary", add_special_tokens=False)["input_ids"]
        at = next((i for i in range(len(framed)) if framed[i:i + len(bare)] == bare), 0)
        head, tail = framed[:at], framed[at + len(bare):]
        before_ids = neural.tokenize(tok, before, add_special_tokens=False)["input_ids"] if before.strip() else []
        after_ids = neural.tokenize(tok, after, add_special_tokens=False)["input_ids"] if after.strip() else []
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
        neural = import_neural()
        return neural.tokenize(self.tokenizer_, list(texts), add_special_tokens=False, truncation=True, max_length=budget)["input_ids"]

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

    def _validate_data(self, X, y):
        docs, fields = self._inputs(X)
        return docs, fields, (self._targets(y, len(docs)) if y is not None else None)

    def _build_model(self, neural, data):
        with neural.quiet_transformers(self.verbose):
            model, tokenizer, self.architecture_ = neural.load_generator(
                os.fspath(self.model), self.architecture, self.model_kwargs
            )
        return model, tokenizer

    def _training_examples(self, neural, data):
        docs, fields, refs = data
        self._after_load(self.model_, self.tokenizer_)
        self._resolve_prompt(self.tokenizer_)
        before, after = self._frame()
        self._budget(before, after, self._reserve())  # fail now, not in predict, when the prompt leaves no room
        if refs is None or self.epochs == 0:
            return None
        return TrainingExamples(*self._training_pairs(neural, docs, fields, refs))

    def _loss(self, neural, data):
        return neural.lm_loss

    def _training_pairs(self, neural, docs, fields, refs):
        """Input ids and label sequences (reference tokens; prompt positions ignored)."""
        if self.architecture_ != "causal":
            target_len = min(self.target_max_length, (self._decoder_limit() or self.target_max_length + 1) - 1)
            return self._prompt_ids(docs, fields), neural.target_ids(self.tokenizer_, self.model_, refs, target_len)
        # One window holds prompt and answer: each document gets what its reference leaves free,
        # but at least half, and a reference too long for the rest is cut.
        frames = self._frames(fields, len(docs))
        frees = [self.max_length_ - len(b) - len(a) for b, a in frames]
        answers = neural.tokenize(self.tokenizer_, list(refs), add_special_tokens=False, truncation=True,
                                  max_length=self.target_max_length - 1)["input_ids"]
        ids = self._document_ids(docs, max(frees))
        inputs = [b + d[: max(free - len(ans) - 1, free // 2)] + a
                  for (b, a), d, ans, free in zip(frames, ids, answers, frees)]
        eos = neural.eos_ids(self.model_)
        return neural.causal_training_ids(inputs, answers, eos[0] if eos else None, self.max_length_)

    # ---------------------------------------------------------------- predict
    def _generation_settings(self):
        """``generate`` keyword arguments (subclasses add their sampling or language settings)."""
        return {"max_new_tokens": self._max_new_tokens(), "num_beams": self.num_beams,
                **(self.generation_kwargs or {})}

    def _generate(self, neural, docs, fields=None, desc="generate"):
        # Sampling draws from torch's RNG: seeded from random_state on every call, so an int
        # random_state gives the same texts each time (and the caller's RNG is left alone).
        with neural.seeded(draw_seed(self.random_state), self.device_):
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
        neural = import_neural()
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

    def _load_saved(self, neural, path):
        model, tokenizer, _ = neural.load_generator(path, self.architecture_)
        self._after_load(model, tokenizer)
        return model, tokenizer
