"""Free text generation: a causal or seq2seq model fine-tuned on (prompt, completion) pairs."""

import numbers

from ..base import Interval, parameter_docs, store_params
from ..finetune import TextToTextEstimator, shared_parameters


@shared_parameters
class TextGenerator(TextToTextEstimator):
    """Completions of prompts by a decoder-only or encoder-decoder transformer.

    ``fit(X, y)`` fine-tunes on (prompt, completion) pairs with the training loop
    every nlpipe transformer shares; for decoder-only models only the completion
    tokens count in the loss (the prompt positions are masked out). ``fit(X)`` or
    ``epochs=0`` loads the model as it is (zero-shot). ``predict`` generates
    greedily, with beams, or by sampling (``do_sample=True``), reproducibly for an
    int ``random_state``.

    Parameters
    ----------
    model : str or path-like, default="HuggingFaceTB/SmolLM2-135M-Instruct"
        Hub id (in the local cache) or local directory.
    do_sample : bool, default=False
        Sample the next token instead of taking the most likely one.
    temperature : float, default=1.0
        Sampling temperature (with ``do_sample=True``); lower is more conservative.
    top_p : float, default=1.0
        Nucleus sampling: draw from the smallest set of tokens whose
        probabilities add up to ``top_p`` (with ``do_sample=True``).
    %MODEL%
    prompt : str or None, default=None
        Template containing ``"{text}"``, where each input goes (e.g.
        ``"Q: {text}\\nA:"``). None: the input as it is. Instruction models
        wrap it in their chat template (see ``chat_template``).
    %GENERATION%
    %TRAINING%
    %ATTRIBUTES%

    See Also
    --------
    Translator : the same core with translation prompts and BLEU.
    AbstractiveSummarizer : the same core with summarization prompts and ROUGE.
    GenerativeQuestionAnswerer : answers from a passage, generated.

    Examples
    --------
    >>> from nlpipe import TextGenerator
    >>> from nlpipe.testing import make_tiny_causal_lm
    >>> prompts = ["Say hello to Ann.", "Say hello to Bob."]
    >>> gen = TextGenerator(model=make_tiny_causal_lm(), max_new_tokens=4, epochs=0, verbose=0).fit(prompts)
    >>> completions = gen.predict(prompts)
    >>> len(completions), type(completions[0]).__name__
    (2, 'str')
    """

    _nlpipe_task = "text-generation"
    _parameter_constraints = {
        **TextToTextEstimator._parameter_constraints,
        "do_sample": ["boolean"],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "top_p": [Interval(numbers.Real, 0, 1, closed="right")],
    }

    def __init__(self, *, model="HuggingFaceTB/SmolLM2-135M-Instruct", do_sample=False, temperature=1.0, top_p=1.0,
                 **params):
        super().__init__(**params)
        store_params(self, locals())

    def _generation_settings(self):
        settings = {"max_new_tokens": self._max_new_tokens(), "num_beams": self.num_beams,
                    "do_sample": bool(self.do_sample)}
        if self.do_sample:  # transformers warns about sampling settings that greedy decoding ignores
            settings.update(temperature=float(self.temperature), top_p=float(self.top_p))
        return {**settings, **(self.generation_kwargs or {})}

    @parameter_docs(X="Prompts.")
    def predict(self, X):
        """Generate a completion of each prompt.

        Returns
        -------
        completions : list of str
            The new text only (the prompt is not repeated); "" for an empty prompt.
        """
        return self._predict_text2text(X, desc="generate")

    @parameter_docs(X="Prompts.")
    def score(self, X, y, sample_weight=None):
        """Mean ROUGE-L F1 of the completions of ``X`` against the references ``y``.

        Parameters
        ----------
        y : list of str
            One reference completion per prompt.

        Returns
        -------
        score : float
            In [0, 1]; other metrics through ``nlpipe.metrics.get_scorer``.
        """
        from ..metrics import rouge

        if sample_weight is not None:
            raise ValueError("TextGenerator.score does not support sample_weight.")
        docs, _ = self._inputs(X)
        refs = self._targets(y, len(docs))
        return rouge(refs, self.predict(docs), rouge_types=["rougeL"])["rougeL"]
