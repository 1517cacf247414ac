"""The text-to-text core: encoder-decoder and decoder-only models, their training labels and batched ``generate``.

Summarization (and generation, question answering, translation) estimators build
on these functions; they differ only in how a document becomes a prompt.
"""

import functools
import logging
import warnings

import numpy as np
import torch

from ._backbone import _load_error, tokenize
from ._batches import IGNORE_INDEX, _autocast, collate

logger = logging.getLogger(__name__)

ARCHITECTURES = ("seq2seq", "causal", "encoder-decoder")


def resolve_architecture(architecture, config):
    """``"seq2seq"`` (an encoder-decoder checkpoint), ``"causal"`` (decoder-only) or ``"encoder-decoder"``.

    ``"encoder-decoder"`` warm-starts an :class:`~transformers.EncoderDecoderModel`
    from an encoder-only checkpoint (BERT-style): the same weights as encoder and
    decoder, randomly initialised cross-attention (Rothe et al., 2020). ``"auto"``
    picks from the checkpoint's config.

    Parameters
    ----------
    architecture : {"auto", "seq2seq", "causal", "encoder-decoder"}
        Returned as it is unless ``"auto"``.
    config : transformers.PretrainedConfig
        The checkpoint's config, read for ``"auto"``.

    Returns
    -------
    architecture : {"seq2seq", "causal", "encoder-decoder"}
        The architecture to load.

    Examples
    --------
    >>> from transformers import AutoConfig, T5Config
    >>> from nlpipe.neural import resolve_architecture
    >>> from nlpipe.testing import make_tiny_backbone, make_tiny_causal_lm
    >>> resolve_architecture("auto", AutoConfig.from_pretrained(make_tiny_causal_lm()))  # Llama
    'causal'
    >>> resolve_architecture("auto", AutoConfig.from_pretrained(make_tiny_backbone()))  # BERT
    'encoder-decoder'
    >>> resolve_architecture("auto", T5Config())
    'seq2seq'
    >>> resolve_architecture("causal", T5Config())
    'causal'
    """
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if architecture != "auto":
        return architecture
    if getattr(config, "is_encoder_decoder", False):
        return "seq2seq"
    names = getattr(config, "architectures", None) or []
    if getattr(config, "is_decoder", False) or any(n.endswith(("ForCausalLM", "LMHeadModel")) for n in names):
        return "causal"
    model_type = getattr(config, "model_type", None)
    # A config without architectures (read from a GGUF file, say): decoder-only model types have a
    # causal-LM class and no masked-LM one (BERT-style encoders have both).
    if not names and model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "causal"
    return "encoder-decoder"


def load_generator(model, architecture, model_kwargs=None):
    """Load ``(model, tokenizer, architecture)`` for text-to-text generation.

    Parameters
    ----------
    model : str
        Hub id or local directory.
    architecture : {"auto", "seq2seq", "causal", "encoder-decoder"}
        See :func:`resolve_architecture`.
    model_kwargs : dict, optional
        Passed to ``from_pretrained`` of the config, the tokenizer and the model
        (e.g. ``{"gguf_file": "model.Q4_1.gguf"}``).

    Returns
    -------
    model : transformers.PreTrainedModel
        Ready for ``generate`` (see :func:`prepare_generation`).
    tokenizer : transformers tokenizer
        Its tokenizer, with a pad token.
    architecture : {"seq2seq", "causal", "encoder-decoder"}
        The architecture loaded.

    Examples
    --------
    >>> from nlpipe.neural import load_generator, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone, make_tiny_causal_lm
    >>> with quiet_transformers(0):
    ...     model, tokenizer, architecture = load_generator(make_tiny_causal_lm(), "auto")
    >>> type(model).__name__, architecture
    ('LlamaForCausalLM', 'causal')
    >>> with quiet_transformers(0):  # a BERT encoder warm-starts an encoder-decoder
    ...     model, tokenizer, architecture = load_generator(make_tiny_backbone(), "auto")
    >>> type(model).__name__, architecture
    ('EncoderDecoderModel', 'encoder-decoder')
    """
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
        EncoderDecoderModel,
    )

    kwargs = dict(model_kwargs or {})
    try:
        config = AutoConfig.from_pretrained(model, **kwargs)
        architecture = resolve_architecture(architecture, config)
        tokenizer = AutoTokenizer.from_pretrained(model, **kwargs)
        if architecture == "encoder-decoder":
            if getattr(config, "is_encoder_decoder", False):
                net = AutoModelForSeq2SeqLM.from_pretrained(model, **kwargs)  # a saved warm-started model
            else:
                net = EncoderDecoderModel.from_encoder_decoder_pretrained(model, model, **kwargs)
        elif architecture == "seq2seq":
            net = AutoModelForSeq2SeqLM.from_pretrained(model, **kwargs)
        else:
            net = AutoModelForCausalLM.from_pretrained(model, **kwargs)
    except (OSError, ValueError, TypeError) as exc:
        raise _load_error(model, "text-to-text model", exc) from None
    prepare_generation(net, tokenizer)
    return net, tokenizer, architecture


def prepare_generation(model, tokenizer):
    """Fill the special token ids ``generate`` needs and the tokenizer lacks (pad, decoder start, EOS).

    BERT-style tokenizers have no BOS/EOS: a warm-started encoder-decoder starts
    decoding at [CLS] and stops at [SEP]; decoder-only tokenizers without a pad
    token pad with EOS (masked out by the attention mask).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Its generation config (and config) are filled in place.
    tokenizer : transformers tokenizer
        Gets EOS as pad token when it has none.

    Returns
    -------
    model : transformers.PreTrainedModel
        The same model.

    Examples
    --------
    >>> from transformers import EncoderDecoderModel
    >>> from nlpipe.neural import load_tokenizer, prepare_generation, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> path = make_tiny_backbone()
    >>> tokenizer = load_tokenizer(path)
    >>> with quiet_transformers(0):
    ...     model = EncoderDecoderModel.from_encoder_decoder_pretrained(path, path)
    >>> model.generation_config.decoder_start_token_id is None
    True
    >>> model = prepare_generation(model, tokenizer)
    >>> gen = model.generation_config
    >>> tokenizer.convert_ids_to_tokens([gen.decoder_start_token_id, gen.eos_token_id, gen.pad_token_id])
    ['[CLS]', '[SEP]', '[PAD]']
    """
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("The tokenizer has neither a pad nor an EOS token.")
        tokenizer.pad_token = tokenizer.eos_token
    gen = model.generation_config
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    if gen.eos_token_id is None:
        gen.eos_token_id = eos
    if gen.pad_token_id is None:
        gen.pad_token_id = tokenizer.pad_token_id
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if model.config.is_encoder_decoder:
        start = getattr(model.config, "decoder_start_token_id", None)
        if start is None:
            start = gen.decoder_start_token_id
        if start is None:
            start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
        if start is None:
            raise ValueError("Cannot tell the decoder start token: the tokenizer has no BOS or CLS token.")
        gen.decoder_start_token_id = start
        model.config.decoder_start_token_id = start  # the model shifts labels right with it in training
        if getattr(model.config, "eos_token_id", None) is None:
            model.config.eos_token_id = gen.eos_token_id
    return model


def eos_ids(model):
    """The generation config's end-of-sequence id(s) as a list.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model with a ``generation_config``.

    Returns
    -------
    ids : list of int
        Empty when the config has no EOS id.

    Examples
    --------
    >>> from nlpipe.neural import eos_ids, load_generator, quiet_transformers
    >>> from nlpipe.testing import make_tiny_causal_lm
    >>> with quiet_transformers(0):
    ...     model, tokenizer, _ = load_generator(make_tiny_causal_lm(), "causal")
    >>> tokenizer.convert_ids_to_tokens(eos_ids(model))
    ['<|im_end|>']
    """
    eos = model.generation_config.eos_token_id
    if eos is None:
        return []
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]


def target_ids(tokenizer, model, targets, max_length):
    """Label sequences for an encoder-decoder: tokens of each target, no decoder start, ending in EOS.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Tokenizes the targets.
    model : transformers.PreTrainedModel
        An encoder-decoder prepared by :func:`prepare_generation`.
    targets : iterable of str
        The target texts.
    max_length : int
        Most labels per target, EOS included.

    Returns
    -------
    labels : list of list of int
        One label sequence per target.

    Examples
    --------
    >>> from nlpipe.neural import load_generator, quiet_transformers, target_ids
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model, tokenizer, _ = load_generator(make_tiny_backbone(), "encoder-decoder")
    >>> labels = target_ids(tokenizer, model, ["a great movie", "a great great great movie"], max_length=4)
    >>> [tokenizer.convert_ids_to_tokens(row) for row in labels]
    [['a', 'great', 'movie', '[SEP]'], ['a', 'great', 'great', '[SEP]']]
    """
    enc = tokenize(tokenizer, text_target=list(targets), truncation=True, max_length=max_length + 1, padding=False)
    start = model.generation_config.decoder_start_token_id
    ends = eos_ids(model)
    labels = []
    for row in enc["input_ids"]:
        row = list(row)
        if row and row[0] == start:
            row = row[1:]  # the model prepends the start token itself when shifting labels right
        row = row[:max_length]
        if ends and (not row or row[-1] not in ends):
            row = row[: max_length - 1] + [ends[0]]
        labels.append(row)
    return labels


def causal_training_ids(prompt_ids, answer_ids, eos, max_length):
    """Input ids and labels for a decoder-only model: ``prompt + answer + EOS``, loss on the answer only.

    Parameters
    ----------
    prompt_ids : iterable of list of int
        Token ids of each prompt.
    answer_ids : iterable of list of int
        Token ids of each answer.
    eos : int or None
        End-of-sequence id appended to answers that lack it; None appends nothing.
    max_length : int
        Most tokens per row (prompt and answer); longer rows are cut at the end.

    Returns
    -------
    ids : list of list of int
        Prompt and answer ids per row.
    labels : list of list of int
        The same with the prompt positions set to :data:`IGNORE_INDEX`.

    Examples
    --------
    >>> from nlpipe.neural import causal_training_ids
    >>> causal_training_ids([[1, 2, 3]], [[7, 8]], eos=9, max_length=10)
    ([[1, 2, 3, 7, 8, 9]], [[-100, -100, -100, 7, 8, 9]])
    >>> causal_training_ids([[1, 2, 3]], [[7, 8]], eos=9, max_length=4)
    ([[1, 2, 3, 7]], [[-100, -100, -100, 7]])
    """
    ids, labels = [], []
    for p, a in zip(prompt_ids, answer_ids):
        a = list(a) + ([eos] if eos is not None and (not a or a[-1] != eos) else [])
        row = (list(p) + a)[:max_length]
        ids.append(row)
        labels.append(([IGNORE_INDEX] * len(p) + a)[:max_length])
    return ids, labels


def lm_loss(model, batch, labels):
    """The model's own token cross-entropy over the labelled positions.

    Encoder-decoders shift the labels right into decoder inputs; decoder-only
    models shift them left against their inputs; both skip :data:`IGNORE_INDEX`.
    It is the ``loss`` that :func:`train` takes for text-to-text models.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model that computes its loss from ``labels``.
    batch : dict of str to torch.Tensor
        ``input_ids`` and ``attention_mask`` (see :func:`collate`).
    labels : torch.Tensor
        Label ids (see :func:`collate_labels`).

    Returns
    -------
    loss : torch.Tensor
        The scalar mean token cross-entropy.

    Examples
    --------
    >>> from nlpipe.neural import (causal_training_ids, collate, collate_labels, encode, lm_loss, load_generator,
    ...                            quiet_transformers)
    >>> from nlpipe.testing import make_tiny_causal_lm
    >>> with quiet_transformers(0):
    ...     model, tokenizer, _ = load_generator(make_tiny_causal_lm(), "causal")
    >>> ids, labels = causal_training_ids(encode(tokenizer, ["Say hi."], 16), encode(tokenizer, [" hi"], 16),
    ...                                   eos=tokenizer.eos_token_id, max_length=32)
    >>> loss = lm_loss(model, collate(ids, tokenizer.pad_token_id, "cpu"), collate_labels(labels, "cpu"))
    >>> loss.shape, bool(loss > 0)
    (torch.Size([]), True)
    """
    if _keeps_logits(model, batch, labels):
        return _labelled_positions_loss(model, batch, labels)
    with warnings.catch_warnings():
        # EncoderDecoderModel warns on every call with labels about a change made in transformers 4.12.
        warnings.filterwarnings("ignore", message="Version v4.12.0 introduces", category=FutureWarning)
        return model(**batch, labels=labels).loss


def _keeps_logits(model, batch, labels):
    """Whether a decoder-only ``model`` can project only chosen positions onto its vocabulary."""
    inner = getattr(model, "module", model)  # DistributedDataParallel passes keywords through
    config = getattr(inner, "config", None)
    return (config is not None and not getattr(config, "is_encoder_decoder", False)
            and _forward_takes_mask(type(inner)) and labels.shape == batch["input_ids"].shape)


@functools.cache
def _forward_takes_mask(cls):
    """Per class, once: the signature is read on every training step otherwise."""
    import inspect

    from transformers import modeling_utils

    # the helper that reads a (batch, length) boolean mask; older releases take positions only
    return (hasattr(modeling_utils, "slice_logits_to_keep")
            and "logits_to_keep" in inspect.signature(cls.forward).parameters)


def _labelled_positions_loss(model, batch, labels):
    """Token cross-entropy with logits only where the next token is labelled.

    The model's own loss projects every position onto the vocabulary: batch x length x
    vocabulary floats, kept for the backward pass with their softmax and gradient
    (SmolLM2, 49,152 words, batch 8 x 128 tokens: 200 MB each), and its largest matrix
    product; a prompt's positions are then thrown away by the labels. The mean is the
    same as the model's (over the labelled tokens).
    """
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    logits = model(**batch, logits_to_keep=keep).logits
    if logits.dim() != 2 or logits.shape[0] != int(keep.sum()):  # a model that slices its own way
        logger.debug("%s ignores a logits_to_keep mask: full logits", type(getattr(model, "module", model)).__name__)
        return model(**batch, labels=labels).loss
    return torch.nn.functional.cross_entropy(logits.float(), labels[:, 1:][keep[:, :-1]])


@torch.inference_mode()
def generate_texts(model, tokenizer, ids, *, causal, batch_size, device, amp_dtype, generation, verbose=0,
                   desc="generate"):
    """``generate`` over all inputs in length-sorted batches; decoded texts come back in input order.

    Decoder-only inputs are padded on the left so every row's continuation starts
    at the same position; only the new tokens are decoded.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Prepared by :func:`prepare_generation`; put in eval mode.
    tokenizer : transformers tokenizer
        Pads the batches and decodes the outputs.
    ids : list of list of int
        Token ids of each input.
    causal : bool
        Whether ``model`` is decoder-only.
    batch_size : int
        Inputs per ``generate`` call.
    device : torch.device
        Where the batches go.
    amp_dtype : torch.dtype or None
        Autocast dtype; None runs in full precision.
    generation : dict
        Keyword arguments of ``generate`` (``max_new_tokens``, ``num_beams``...).
    verbose : int, default=0
        A progress bar when > 0.
    desc : str, default="generate"
        The progress bar's label.

    Returns
    -------
    texts : list of str
        One stripped text per input, in input order.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import encode, generate_texts, load_generator, quiet_transformers
    >>> from nlpipe.testing import make_tiny_causal_lm
    >>> with quiet_transformers(0):
    ...     model, tokenizer, _ = load_generator(make_tiny_causal_lm(), "causal")
    >>> ids = encode(tokenizer, ["Say hi.", "Tell a story about the river."], 32)
    >>> texts = generate_texts(model, tokenizer, ids, causal=True, batch_size=2, device=torch.device("cpu"),
    ...                        amp_dtype=None, generation={"max_new_tokens": 3, "do_sample": False})
    >>> len(texts), all(isinstance(text, str) for text in texts)  # random weights: the words are noise
    (2, True)
    """
    from tqdm.auto import tqdm

    model.eval()
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(-lengths, kind="stable")
    texts = [None] * len(ids)
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not verbose, leave=False):
        idx = order[start : start + batch_size]
        batch = collate([ids[i] for i in idx], tokenizer.pad_token_id, device, side="left" if causal else "right")
        with _autocast(device, amp_dtype):
            out = model.generate(**batch, **generation)
        if causal:
            out = out[:, batch["input_ids"].shape[1] :]
        for i, text in zip(idx, tokenizer.batch_decode(out, skip_special_tokens=True)):
            texts[i] = text.strip()
    return texts
