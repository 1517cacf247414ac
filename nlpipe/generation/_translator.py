"""Translation: an encoder-decoder (or instruction) model fine-tuned on sentence pairs, scored with BLEU."""

from ..base import check_texts, parameter_docs, store_params
from ..finetune import TextToTextEstimator, shared_parameters

_LANGUAGE_SLOTS = ("{source_lang}", "{target_lang}")


@shared_parameters
class Translator(TextToTextEstimator):
    """Translations by a sequence-to-sequence transformer, fine-tuned with ``fit`` or used as it is.

    Works with the three kinds of translation model: a fixed-pair model
    (Marian ``opus-mt-*``: no languages to give), a multilingual model with
    language codes in its tokenizer (NLLB, M2M100, mBART-50: ``source_lang`` and
    ``target_lang`` are its codes, e.g. ``"eng_Latn"``/``"deu_Latn"``; the target
    code is forced as the first generated token), or a model prompted with
    language names (T5's ``"translate English to German: {text}"``, or a
    decoder-only instruction model). ``fit(X, y)`` fine-tunes on sentence pairs
    with the shared training loop; ``fit(X)`` or ``epochs=0`` loads the model as
    it is. ``score`` is corpus BLEU.

    Parameters
    ----------
    model : str or path-like, default="Helsinki-NLP/opus-mt-en-de"
        Hub id (in the local cache) or local directory.
    source_lang : str or None, default=None
        Language of the inputs: a language code for tokenizers that have them
        (NLLB, M2M100, mBART-50), otherwise a name used in the prompt
        ("English"). None for fixed-pair models.
    target_lang : str or None, default=None
        Language to translate into (as ``source_lang``).
    %MODEL%
    prompt : str or None, default=None
        Template containing ``"{text}"`` and optionally ``"{source_lang}"`` and
        ``"{target_lang}"``. None: the text as it is for fixed-pair and
        language-code models, ``"translate {source_lang} to {target_lang}:
        {text}"`` for other encoder-decoders when both languages are given, an
        instruction for decoder-only models.
    %GENERATION%
    %TRAINING%
    %ATTRIBUTES%
    language_codes_ : bool
        Whether the languages are the tokenizer's codes (else they are only in the prompt).
    forced_bos_token_id_ : int or None
        The target language code's token, generated first (language-code models).

    See Also
    --------
    TextGenerator : the same core for free completions.
    nlpipe.metrics.bleu : the metric ``score`` reports (``chrf`` as well).

    Examples
    --------
    >>> from nlpipe import Translator
    >>> from nlpipe.testing import make_tiny_causal_lm
    >>> tr = Translator(model=make_tiny_causal_lm(), source_lang="English", target_lang="French",
    ...                 max_new_tokens=4, num_beams=1, epochs=0, verbose=0).fit(["Good morning."])
    >>> tr.prompt_
    'Translate the following text from English to French. Answer with the translation only.\\n\\n{text}'
    >>> len(tr.predict(["Good morning.", "Thank you."]))
    2
    """

    _default_prompts = {
        "seq2seq": "{text}",
        "chat": "Translate the following text from {source_lang} to {target_lang}. "
                "Answer with the translation only.\n\n{text}",
        "plain": "{source_lang}: {text}\n{target_lang}:",
    }
    _nlpipe_task = "translation"
    _parameter_constraints = {
        **TextToTextEstimator._parameter_constraints,
        "source_lang": [None, str],
        "target_lang": [None, str],
    }

    def __init__(self, *, model="Helsinki-NLP/opus-mt-en-de", source_lang=None, target_lang=None, max_new_tokens=256,
                 num_beams=4, target_max_length=256, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _after_load(self, model, tokenizer):
        self.language_codes_ = hasattr(tokenizer, "src_lang")  # NLLB, M2M100, mBART-50 tokenizers
        self.forced_bos_token_id_ = None
        if not self.language_codes_:
            return
        if self.source_lang is None or self.target_lang is None:
            raise ValueError(
                f"This model is multilingual ({type(tokenizer).__name__} has language codes): give source_lang "
                "and target_lang as its codes, e.g. source_lang='eng_Latn', target_lang='deu_Latn' (NLLB) or "
                "'en', 'de' (M2M100)."
            )
        self._set_languages(tokenizer)
        if hasattr(tokenizer, "get_lang_id"):  # M2M100 keeps its codes as "__de__" tokens
            try:
                bos = tokenizer.get_lang_id(self.target_lang)
            except KeyError:
                bos = None
        else:
            bos = tokenizer.convert_tokens_to_ids(self.target_lang)
        if bos is None or bos == tokenizer.unk_token_id:
            raise ValueError(f"target_lang={self.target_lang!r} is not a language code of this tokenizer.")
        self.forced_bos_token_id_ = int(bos)

    def _set_languages(self, tokenizer):
        try:
            tokenizer.src_lang = self.source_lang
        except KeyError:
            raise ValueError(f"source_lang={self.source_lang!r} is not a language code of this tokenizer.") from None
        if hasattr(tokenizer, "tgt_lang"):
            tokenizer.tgt_lang = self.target_lang

    def _format_prompt(self, template):
        if any(slot in template for slot in _LANGUAGE_SLOTS):
            if self.source_lang is None or self.target_lang is None:
                raise ValueError(
                    f"The prompt {template!r} names the languages: give source_lang and target_lang "
                    "(e.g. 'English', 'German'), or a prompt without {source_lang}/{target_lang}."
                )
            return template.replace("{source_lang}", self.source_lang).replace("{target_lang}", self.target_lang)
        return template

    def _default_prompt(self, kind):
        if kind == "seq2seq" and not self.language_codes_ and self.source_lang and self.target_lang:
            return "translate {source_lang} to {target_lang}: {text}"  # T5's task prefix
        return super()._default_prompt(kind)

    def _generation_settings(self):
        settings = super()._generation_settings()
        if self.forced_bos_token_id_ is not None:
            settings.setdefault("forced_bos_token_id", self.forced_bos_token_id_)
        return settings

    def _fitted_meta(self):
        return {**super()._fitted_meta(), "language_codes_": self.language_codes_,
                "forced_bos_token_id_": self.forced_bos_token_id_}

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.language_codes_ = meta["language_codes_"]
        self.forced_bos_token_id_ = meta["forced_bos_token_id_"]

    def __setstate__(self, state):
        super().__setstate__(state)
        if getattr(self, "language_codes_", False) and "tokenizer_" in self.__dict__:
            self._set_languages(self.tokenizer_)  # the codes select the tokenizer's special tokens

    # -------------------------------------------------------------- fit/use
    @parameter_docs(X="Source texts.")
    def predict(self, X):
        """Translate each text.

        Returns
        -------
        translations : list of str
            One translation per text ("" for an empty text).
        """
        return self._predict_text2text(X, desc="translate")

    @parameter_docs(X="Source texts.")
    def score(self, X, y, sample_weight=None):
        """Corpus BLEU of the translations of ``X`` against the references ``y``.

        Parameters
        ----------
        y : list of str
            One reference translation per text.

        Returns
        -------
        score : float
            sacrebleu's corpus BLEU / 100, in [0, 1]; chrF through
            ``nlpipe.metrics.get_scorer("chrf")``.
        """
        from ..metrics import bleu

        if sample_weight is not None:
            raise ValueError("Translator.score does not support sample_weight.")
        texts = check_texts(X)
        refs = self._targets(y, len(texts))
        return bleu(refs, self.predict(texts))
