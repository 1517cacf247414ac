"""Free text generation: a causal or seq2seq model fine-tuned on (prompt, completion) pairs."""

import numbers

from ..base import Interval
from .._text2text import TEXT2TEXT_CONSTRAINTS, _TextToTextBase, fill_doc


@fill_doc
class TextGenerator(_TextToTextBase):
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
    %MODEL%
    prompt_template : str or None, default=None
        Template containing ``"{text}"``, where each input goes (e.g.
        ``"Q: {text}\\nA:"``). None: the input as it is. Instruction models
        wrap it in their chat template (see ``chat_template``).
    chat_template : {"auto"} or bool, default="auto"
        Wrap the prompt as a user message in the tokenizer's chat template
        (decoder-only models). "auto": when the tokenizer has one.
    max_length : int or None, default=None
        Longest prompt in tokens (inputs are cut, never the template); None
        takes the model's limit. Decoder-only models keep ``max_new_tokens``
        of it free for the completion.
    max_new_tokens : int, default=64
        Longest completion in tokens.
    do_sample : bool, default=False
        Sample the next token instead of taking the most likely one.
    temperature : float, default=1.0
        Sampling temperature (with ``do_sample=True``); lower is more conservative.
    top_p : float, default=1.0
        Nucleus sampling: draw from the smallest set of tokens whose
        probabilities add up to ``top_p`` (with ``do_sample=True``).
    num_beams : int, default=1
        Beam width; 1 is greedy decoding (or plain sampling).
    generation_kwargs : dict or None, default=None
        More ``generate`` arguments (``repetition_penalty``, ``top_k``,
        ``no_repeat_ngram_size``...); they win over the parameters above.
    target_max_length : int, default=128
        Completions are cut to this many tokens in ``fit``.
    %TRAINING%

    Attributes
    ----------
    %ATTRIBUTES%

    See Also
    --------
    Translator : the same core with translation prompts and BLEU.
    AbstractiveSummarizer : the same core with summarization prompts and ROUGE.
    QuestionAnswerer : answers from a passage (extractive or generated).

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

    _prompt_param = "prompt_template"
    _nlpipe_task = "text-generation"
    _parameter_constraints = {
        **TEXT2TEXT_CONSTRAINTS,
        "prompt_template": [None, str],
        "do_sample": ["boolean"],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "top_p": [Interval(numbers.Real, 0, 1, closed="right")],
    }

    def __init__(
        self,
        *,
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        architecture="auto",
        model_kwargs=None,
        prompt_template=None,
        chat_template="auto",
        max_length=None,
        max_new_tokens=64,
        do_sample=False,
        temperature=1.0,
        top_p=1.0,
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
        checkpoint_dir=None,
        resume=False,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.architecture = architecture
        self.model_kwargs = model_kwargs
        self.prompt_template = prompt_template
        self.chat_template = chat_template
        self.max_length = max_length
        self.max_new_tokens = max_new_tokens
        self.do_sample = do_sample
        self.temperature = temperature
        self.top_p = top_p
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
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None):
        """Load the model and fine-tune it on (prompt, completion) pairs.

        Parameters
        ----------
        X : list of str
            Prompts (each fills ``"{text}"`` of ``prompt_template``).
        y : list of str or None, default=None
            One completion per prompt; None (or ``epochs=0``) keeps the
            pretrained weights.

        Returns
        -------
        self : TextGenerator
        """
        return self._fit_text2text(X, y)

    def _generation_settings(self):
        settings = {"max_new_tokens": self._max_new_tokens(), "num_beams": self.num_beams,
                    "do_sample": bool(self.do_sample)}
        if self.do_sample:  # transformers warns about sampling settings that greedy decoding ignores
            settings.update(temperature=float(self.temperature), top_p=float(self.top_p))
        return {**settings, **(self.generation_kwargs or {})}

    def predict(self, X):
        """Generate a completion of each prompt.

        Parameters
        ----------
        X : list of str
            Prompts.

        Returns
        -------
        completions : list of str
            The new text only (the prompt is not repeated); "" for an empty prompt.
        """
        return self._predict_text2text(X, desc="generate")

    def score(self, X, y, sample_weight=None):
        """Mean ROUGE-L F1 of the completions of ``X`` against the references ``y``.

        Parameters
        ----------
        X : list of str
            Prompts.
        y : list of str
            One reference completion per prompt.
        sample_weight : None
            Not supported; must be None.

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
