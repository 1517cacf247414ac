"""The default learning rate: one rule, read from the backbone's width."""

import logging

logger = logging.getLogger(__name__)

#: all-MiniLM-L6-v2 (hidden size 384) fine-tuned best at 1e-4 on the dev splits (docs/transformers.md,
#: "The default learning rate"); the rule scales that point as 1 / width.
REFERENCE_WIDTH = 384
REFERENCE_RATE = 1e-4
#: Low-rank adapters start at zero and move a small subspace: they want about 10x the full rate
#: (1e-3 on all-MiniLM-L6-v2 in benchmarks/results/peft.md).
LORA_FACTOR = 10.0
RATE_RANGE = (1e-5, 5e-4)
#: BERT-base's usual fine-tuning rate, for a model whose config names no width.
FALLBACK_RATE = 5e-5


def model_width(model):
    """The hidden size of a transformers model (``hidden_size``, ``d_model`` or ``n_embd``), or None."""
    config = getattr(model, "config", None)
    config = getattr(config, "encoder", None) or config  # EncoderDecoderModel: the encoder's width
    for name in ("hidden_size", "d_model", "n_embd", "dim"):
        width = getattr(config, name, None)
        if isinstance(width, int) and width > 0:
            return width
    return None


def auto_learning_rate(model, *, lora=False):
    """The learning rate ``learning_rate="auto"`` means for this model.

    ``1e-4 * 384 / width``, clipped to [1e-5, 5e-4], where ``width`` is the
    model's hidden size; ten times that (clipped to [1e-4, 5e-3]) when only LoRA
    adapters train. The point 1e-4 at width 384 is measured: all-MiniLM-L6-v2
    on SST-2, EmoInt-2017 and SemEval-2018 EI-reg dev, three seeds
    (``benchmarks/results/learning_rate.md``). The 1 / width slope is not
    measured here (one width installs offline); it reproduces the rates that
    published recipes use at other widths: 5e-5 for BERT-base (768),
    3.75e-5 for 1024-wide models (BERT-large, BART-large), and it is the
    Adam scaling of maximal-update parametrization (Yang et al. 2021).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The backbone about to be trained.
    lora : bool, default=False
        Whether only LoRA adapters (and the task head) train.

    Returns
    -------
    learning_rate : float

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from nlpipe.neural import auto_learning_rate
    >>> minilm = SimpleNamespace(config=SimpleNamespace(hidden_size=384))
    >>> auto_learning_rate(minilm), auto_learning_rate(minilm, lora=True)
    (0.0001, 0.001)
    >>> auto_learning_rate(SimpleNamespace(config=SimpleNamespace(hidden_size=768)))
    5e-05
    """
    width = model_width(model)
    if width is None:
        logger.warning("learning_rate='auto': the model's config names no hidden size; using %g.", FALLBACK_RATE)
        rate, low, high = FALLBACK_RATE, *RATE_RANGE
    else:
        rate, low, high = REFERENCE_RATE * REFERENCE_WIDTH / width, *RATE_RANGE
    if lora:
        rate, low, high = rate * LORA_FACTOR, low * LORA_FACTOR, high * LORA_FACTOR
    # 3 significant digits: a rate as a person writes it (3.75e-05, not 3.7500000000000003e-05).
    return float(f"{min(max(rate, low), high):.3g}")
