"""Backbone resolution and loading, devices, seeding, transformers' chatter."""

import contextlib
import json
import logging
import os
import threading

import torch

logger = logging.getLogger(__name__)

# Position limit used when neither the tokenizer nor the config states one.
_FALLBACK_MAX_LENGTH = 512


def resolve_device(device):
    """Turn ``"auto"`` / ``"cpu"`` / ``"cuda[:i]"`` / ``"mps"`` into a usable ``torch.device``.

    ``"auto"`` prefers CUDA, then Apple MPS, then CPU. Asking for a device that is
    not there is a ``ValueError``, not a crash deep inside torch.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` or a torch device spec.

    Returns
    -------
    device : torch.device
        A device that is available here.

    Raises
    ------
    ValueError
        If ``device`` is not a device spec, or names a device that is not available.

    Examples
    --------
    >>> from nlpipe.neural import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in ("cuda", "mps", "cpu")
    True
    >>> resolve_device("gpu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: device='gpu' is not a torch device: ...
    """
    if device == "auto":
        if torch.cuda.is_available():
            # Under torchrun every process takes the GPU of its local rank, not all cuda:0.
            local_rank = os.environ.get("LOCAL_RANK")
            return torch.device(f"cuda:{int(local_rank)}" if local_rank is not None else "cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use device='auto' or 'cpu'.")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={device!r} but MPS is not available here; use device='auto' or 'cpu'.")
    return dev


def autocast_dtype(device, mixed_precision):
    """The autocast dtype for ``mixed_precision`` on ``device``, or None for full fp32.

    Mixed precision is a CUDA feature here: CPU autocast is slower than fp32 on most CPUs.

    Parameters
    ----------
    device : torch.device
        The device the model runs on.
    mixed_precision : {"auto", "bf16", "fp16", "no"}
        ``"auto"`` takes bfloat16 where the GPU supports it, else float16.

    Returns
    -------
    dtype : torch.dtype or None
        ``torch.bfloat16``, ``torch.float16``, or None for full precision.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import autocast_dtype
    >>> autocast_dtype(torch.device("cpu"), "bf16") is None  # the CPU always runs fp32
    True
    >>> autocast_dtype(torch.device("cuda"), "fp16")
    torch.float16
    >>> autocast_dtype(torch.device("cuda"), "no") is None
    True
    """
    if device.type != "cuda" or mixed_precision == "no":
        return None
    if mixed_precision == "fp16":
        return torch.float16
    if mixed_precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


@contextlib.contextmanager
def quiet_transformers(verbose):
    """Silence transformers' loading reports and progress bars unless ``verbose >= 2``.

    ``verbose=1`` means nlpipe's own progress bars; the report that a new head was
    initialised comes with every fine-tune and is noise at that level.

    Parameters
    ----------
    verbose : int or None
        The estimator's ``verbose``; below 2 (or None) silences transformers.

    Examples
    --------
    >>> from transformers.utils import logging as hf_logging
    >>> from nlpipe.neural import quiet_transformers
    >>> before = hf_logging.get_verbosity()
    >>> with quiet_transformers(0):
    ...     hf_logging.get_verbosity() == hf_logging.ERROR
    True
    >>> hf_logging.get_verbosity() == before  # restored on exit
    True
    """
    if verbose is not None and verbose >= 2:
        yield
        return
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def seeded(seed, device):
    """Seed torch for head initialisation and dropout without touching the caller's RNG state.

    Parameters
    ----------
    seed : int
        Seed of torch's generators inside the block.
    device : torch.device
        A CUDA device's generator is forked and seeded too.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import seeded
    >>> cpu = torch.device("cpu")
    >>> with seeded(0, cpu):
    ...     a = torch.rand(2)
    >>> with seeded(0, cpu):
    ...     b = torch.rand(2)
    >>> torch.equal(a, b)
    True
    >>> state = torch.random.get_rng_state()
    >>> with seeded(1, cpu):
    ...     _ = torch.rand(3)
    >>> torch.equal(state, torch.random.get_rng_state())  # the caller's generator did not move
    True
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if device.type == "cuda":
            torch.cuda.manual_seed_all(seed)
        yield


def _load_error(model, what, exc):
    where = "local directory" if os.path.isdir(str(model)) else "hub id"
    return ValueError(
        f"Could not load the {what} of model={model!r} ({where}): {exc}. Give a local directory "
        "saved with save_pretrained, or a hub id that is in the local Hugging Face cache "
        "(nlpipe never downloads on its own when offline)."
    )


# A fast tokenizer keeps its truncation and padding settings in the shared Rust object, and
# every call sets them before encoding: two threads calling one tokenizer with different settings
# (a question budget, then question/passage windows) encode with each other's. One lock for all
# tokenizers is enough; encoding is a small share of a predict.
_TOKENIZE_LOCK = threading.Lock()


def tokenize(tokenizer, *args, **kwargs):
    """Call ``tokenizer(*args, **kwargs)`` so that concurrent calls from threads do not mix settings.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        The tokenizer.
    *args, **kwargs
        What ``tokenizer.__call__`` takes.

    Returns
    -------
    encoding : transformers.BatchEncoding
        What the tokenizer returns.

    Examples
    --------
    >>> from nlpipe.neural import load_tokenizer, tokenize
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> tokenize(tokenizer, ["a great movie"], add_special_tokens=False)["input_ids"] == [tokenizer.convert_tokens_to_ids(["a", "great", "movie"])]
    True
    """
    with _TOKENIZE_LOCK:
        return tokenizer(*args, **kwargs)


def load_tokenizer(model):
    """Load the tokenizer of ``model`` (hub id or local directory).

    A tokenizer without a pad token (decoder-only models) pads with its EOS token.

    Parameters
    ----------
    model : str or path-like
        Hub id (in the local cache) or local directory.

    Returns
    -------
    tokenizer : transformers tokenizer
        With a pad token.

    Raises
    ------
    ValueError
        If the tokenizer cannot be loaded, or has neither a pad nor an EOS token.

    Examples
    --------
    >>> from nlpipe.neural import load_tokenizer
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> tokenizer.tokenize("A great movie!")
    ['a', 'great', 'movie', '!']
    """
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError, TypeError) as exc:
        raise _load_error(model, "tokenizer", exc) from None
    if tok.pad_token is None:  # decoder-only models: pad with EOS (masked out anyway)
        if tok.eos_token is None:
            raise ValueError(f"The tokenizer of {model!r} has neither a pad nor an EOS token.")
        tok.pad_token = tok.eos_token
    return tok


def load_backbone(model, task, *, num_labels=None, problem_type=None, id2label=None):
    """Load ``model`` with the head ``task`` needs.

    Parameters
    ----------
    model : str
        Hub id or local directory.
    task : {"sequence-classification", "embedding", "question-answering"}
        A fresh sequence-classification head (``num_labels`` outputs), the bare
        encoder, or a span head (the checkpoint's own, if it has one).
    num_labels : int, optional
        Outputs of the sequence-classification head.
    problem_type : str, optional
        ``"single_label_classification"``, ``"multi_label_classification"`` or ``"regression"``.
    id2label : dict, optional
        Stored in the config so saved folders show label names.

    Returns
    -------
    model : transformers.PreTrainedModel
        On CPU; a sequence-classification head is freshly initialised.

    Raises
    ------
    ValueError
        If the model cannot be loaded (the message says where it looked).

    Examples
    --------
    >>> from nlpipe.neural import load_backbone, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):  # no report about the new head
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=3,
    ...                           problem_type="single_label_classification",
    ...                           id2label={0: "neg", 1: "neutral", 2: "pos"})
    >>> type(model).__name__, model.config.num_labels, model.config.id2label[2]
    ('BertForSequenceClassification', 3, 'pos')
    >>> with quiet_transformers(0):
    ...     type(load_backbone(make_tiny_backbone(), "embedding")).__name__
    'BertModel'
    """
    from transformers import AutoModel, AutoModelForQuestionAnswering, AutoModelForSequenceClassification

    try:
        if task == "embedding":
            return AutoModel.from_pretrained(model)
        if task == "question-answering":
            return AutoModelForQuestionAnswering.from_pretrained(model)
        kwargs = {"num_labels": num_labels, "problem_type": problem_type}
        if id2label is not None:
            kwargs["id2label"] = id2label
            kwargs["label2id"] = {v: k for k, v in id2label.items()}
        # A checkpoint fine-tuned for another label set still gives its encoder.
        return AutoModelForSequenceClassification.from_pretrained(model, ignore_mismatched_sizes=True, **kwargs)
    except (OSError, ValueError, TypeError) as exc:
        raise _load_error(model, "weights", exc) from None


def resolve_max_length(max_length, tokenizer, model):
    """``max_length`` clipped to what the backbone can take; the backbone's limit when None.

    The limit is the smaller of the config's ``max_position_embeddings`` and the
    tokenizer's ``model_max_length`` (512 when neither states one); a larger
    ``max_length`` is clipped with a logged warning.

    Parameters
    ----------
    max_length : int or None
        The estimator's ``max_length``.
    tokenizer : transformers tokenizer
        Its ``model_max_length`` is a limit.
    model : transformers.PreTrainedModel
        Its config's ``max_position_embeddings`` is a limit.

    Returns
    -------
    max_length : int
        Tokens per text, at most the backbone's limit.

    Examples
    --------
    >>> from nlpipe.neural import load_backbone, load_tokenizer, quiet_transformers, resolve_max_length
    >>> from nlpipe.testing import make_tiny_backbone
    >>> path = make_tiny_backbone()  # max_position_embeddings=128
    >>> with quiet_transformers(0):
    ...     model = load_backbone(path, "embedding")
    >>> tokenizer = load_tokenizer(path)
    >>> resolve_max_length(None, tokenizer, model), resolve_max_length(64, tokenizer, model)
    (128, 64)
    >>> resolve_max_length(1000, tokenizer, model)  # logs a warning
    128
    """
    # A warm-started EncoderDecoderModel keeps the encoder's limit in its sub-config.
    config = getattr(model.config, "encoder", None) or model.config
    limits = [
        getattr(config, "max_position_embeddings", None),
        getattr(tokenizer, "model_max_length", None),
    ]
    limits = [int(v) for v in limits if isinstance(v, int) and 0 < v < 1_000_000]
    limit = min(limits) if limits else _FALLBACK_MAX_LENGTH
    if max_length is None:
        return limit
    if max_length > limit:
        logger.warning("max_length=%d exceeds the backbone's limit; using %d", max_length, limit)
    return min(max_length, limit)


def _pooling_config(model):
    """The path of a sentence-transformers pooling config of ``model``, or None."""
    if os.path.isdir(str(model)):
        path = os.path.join(str(model), "1_Pooling", "config.json")
        return path if os.path.isfile(path) else None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        return None
    path = try_to_load_from_cache(str(model), "1_Pooling/config.json")
    return path if isinstance(path, str) else None


def pretrained_pooling(model_name):
    """The pooling a backbone was pretrained with: ``"mean"`` for sentence-transformers folders, else ``"cls"``.

    Parameters
    ----------
    model_name : str or path-like
        The backbone's hub id or folder, searched for ``1_Pooling/config.json``.

    Returns
    -------
    pooling : {"cls", "mean"}

    Examples
    --------
    >>> from nlpipe.neural import pretrained_pooling
    >>> from nlpipe.testing import make_tiny_backbone
    >>> pretrained_pooling(make_tiny_backbone())  # a plain BERT folder
    'cls'
    """
    path = _pooling_config(model_name)
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            if json.load(fh).get("pooling_mode_mean_tokens"):
                return "mean"
    return "cls"


def resolve_pooling(pooling, model_name, model):
    """Decide how a sequence head reads the encoder: ``"cls"`` (the architecture's own head) or ``"mean"``.

    ``"auto"`` follows the backbone's pretraining: sentence-transformers folders declare mean
    pooling in ``1_Pooling/config.json``, and their [CLS] pooler was never trained, so a head on
    it starts from noise. ``"mean"`` needs a head that is one linear layer on the hidden size.

    Parameters
    ----------
    pooling : {"auto", "cls", "mean"}
        The estimator's ``pooling``.
    model_name : str or path-like
        The backbone's hub id or folder, searched for ``1_Pooling/config.json``.
    model : transformers.PreTrainedModel
        The loaded model, checked for a linear head with ``"mean"``.

    Returns
    -------
    pooling : {"cls", "mean"}
        How the head reads the encoder.

    Raises
    ------
    ValueError
        If ``"mean"`` is asked of a model whose head is not one linear layer.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> from nlpipe.neural import load_backbone, quiet_transformers, resolve_pooling
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> resolve_pooling("auto", make_tiny_backbone(), model)  # a plain BERT folder
    'cls'
    >>> with tempfile.TemporaryDirectory() as tmp:  # the same folder as sentence-transformers saves it
    ...     folder = shutil.copytree(make_tiny_backbone(), Path(tmp, "st-model"))
    ...     (folder / "1_Pooling").mkdir()
    ...     _ = (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    ...     resolve_pooling("auto", folder, model)
    'mean'
    """
    if pooling == "auto":
        pooling = pretrained_pooling(model_name)
    if pooling == "mean":
        head = getattr(model, "classifier", None)
        hidden = getattr(model.config, "hidden_size", None)
        if not (isinstance(head, torch.nn.Linear) and head.in_features == hidden):
            raise ValueError(
                f"pooling='mean' needs a model whose head is one linear layer on the hidden states "
                f"(BERT-style); {type(model).__name__} has {type(head).__name__}. Use pooling='cls'."
            )
    return pooling


def mean_pool(hidden, attention_mask):
    """Average the token vectors where ``attention_mask`` is 1.

    Parameters
    ----------
    hidden : torch.Tensor of shape (n_texts, n_tokens, hidden_size)
        Token vectors.
    attention_mask : torch.Tensor of shape (n_texts, n_tokens)
        1 for real tokens, 0 for padding.

    Returns
    -------
    pooled : torch.Tensor of shape (n_texts, hidden_size)
        The mean of each text's real tokens (zeros for a text without any).

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import mean_pool
    >>> hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]])  # 1 text, 3 tokens, 2 dimensions
    >>> mean_pool(hidden, torch.tensor([[1, 1, 0]]))  # the third token is padding
    tensor([[2., 3.]])
    """
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def mean_pooled_features(model, batch, *, trim_padding=False):
    """The encoder's mean-pooled output, the input of the linear head.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model with a ``base_model`` encoder.
    batch : dict of str to torch.Tensor
        ``input_ids`` and ``attention_mask`` (see :func:`collate`).
    trim_padding : bool, default=False
        Run the encoder on groups of rows of similar length, each group cut to
        its own longest row, where that saves padded positions (see
        :func:`length_groups`). The result is the same up to float rounding;
        a batch of texts of very different lengths costs less. Needs right
        padding; a left-padded batch runs whole.

    Returns
    -------
    features : torch.Tensor of shape (n_texts, hidden_size)
        See :func:`mean_pool`.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import collate, encode, load_backbone, load_tokenizer, mean_pooled_features
    >>> from nlpipe.neural import quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2).eval()
    >>> batch = collate(encode(tokenizer, ["a great movie", "boring"], 16), tokenizer.pad_token_id, "cpu")
    >>> whole = mean_pooled_features(model, batch)
    >>> whole.shape  # hidden size 32
    torch.Size([2, 32])
    >>> torch.allclose(mean_pooled_features(model, batch, trim_padding=True), whole, atol=1e-5)
    True
    """
    mask = batch["attention_mask"]
    groups = length_groups(mask) if trim_padding else None
    if groups is None or len(groups) == 1:  # one call on the whole batch
        hidden = model.base_model(**batch).last_hidden_state
        return mean_pool(hidden, mask)
    parts = []
    for rows, length in groups:
        part = {key: value[rows, :length] for key, value in batch.items()}
        parts.append(mean_pool(model.base_model(**part).last_hidden_state, part["attention_mask"]))
    order = torch.cat([rows for rows, _ in groups])
    # the groups' rows back in the batch's order
    return torch.cat(parts).index_select(0, torch.argsort(order))


# One more encoder call costs about as much as this many token positions: MiniLM's forward and backward on 2
# CPU cores, 16 SST-2 or AG News texts, took least time with 48-96 (docs/fewshot.md); 0 (a call per length)
# was slower than no split at all.
_GROUP_COST = 48


def length_groups(attention_mask, *, call_cost=_GROUP_COST):
    """Split a right-padded batch into groups of similar length that waste the fewest padded positions.

    The rows are sorted by length and cut into consecutive groups so that the
    positions the encoder computes (rows x the group's longest row), plus
    ``call_cost`` per group, are fewest (exact, by dynamic programming).

    Parameters
    ----------
    attention_mask : torch.Tensor of shape (n_rows, n_tokens)
        1 for real tokens, 0 for padding, padding on the right.
    call_cost : int, default=48
        What one more encoder call costs, in token positions.

    Returns
    -------
    groups : list of (torch.Tensor, int) or None
        Each group's row indices (int64, on the mask's device) and its longest
        row; None for a batch that is not right-padded (a 0 before a 1 in a row).

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import length_groups
    >>> mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0]])
    >>> [(rows.tolist(), n) for rows, n in length_groups(mask, call_cost=4)]
    [([1, 2], 3), ([0], 8)]
    >>> [(rows.tolist(), n) for rows, n in length_groups(mask, call_cost=100)]  # one call is cheaper
    [([0, 1, 2], 8)]
    """
    mask = attention_mask.bool()
    lengths = mask.sum(dim=1)
    if lengths.sum() and not bool((mask == (torch.arange(mask.shape[1], device=mask.device) < lengths[:, None])).all()):
        return None
    order = torch.argsort(lengths, stable=True)
    sorted_lengths = [max(int(n), 1) for n in lengths[order].tolist()]  # an empty row still needs one position
    n = len(sorted_lengths)
    # best[j]: the least cost of the first j sorted rows; cut[j]: where their last group starts
    best, cut = [0] + [None] * n, [0] * (n + 1)
    for j in range(1, n + 1):
        longest = sorted_lengths[j - 1]
        best[j], cut[j] = min((best[i] + (j - i) * longest + call_cost, i) for i in range(j))
    groups, j = [], n
    while j:
        i = cut[j]
        groups.append((order[i:j], sorted_lengths[j - 1]))
        j = i
    if len(groups) == 1:  # the whole batch, in its own order
        return [(torch.arange(n, device=mask.device), groups[0][1])]
    return groups[::-1]


def mean_pooled_logits(model, batch, *, normalize=False):
    """Logits of a BERT-style model with its linear head on mean-pooled tokens instead of the [CLS] pooler.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model whose ``classifier`` is one linear layer on the hidden size.
    batch : dict of str to torch.Tensor
        ``input_ids`` and ``attention_mask`` (see :func:`collate`).
    normalize : bool, default=False
        L2-normalize the pooled vector before the head (a head fitted on
        normalized sentence embeddings, as SetFit's).

    Returns
    -------
    logits : torch.Tensor of shape (n_texts, n_outputs)
        The head applied to :func:`mean_pooled_features` (after the model's dropout).

    Examples
    --------
    >>> from nlpipe.neural import collate, encode, load_backbone, load_tokenizer, mean_pooled_logits
    >>> from nlpipe.neural import quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=3)
    >>> batch = collate(encode(tokenizer, ["a great movie", "boring"], 16), tokenizer.pad_token_id, "cpu")
    >>> mean_pooled_logits(model, batch).shape
    torch.Size([2, 3])
    """
    pooled = mean_pooled_features(model, batch)
    if normalize:
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
    dropout = getattr(model, "dropout", None)
    return model.classifier(dropout(pooled) if dropout is not None else pooled)


def set_linear_head(model, weight, bias):
    """Overwrite the linear head's weights (shape ``(n_outputs, hidden)``) and bias.

    Used to start a fine-tune from a head fitted on frozen features (e.g. a
    logistic regression on :func:`mean_pooled_features`).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model whose ``classifier`` is one linear layer.
    weight : array-like of shape (n_outputs, hidden_size)
        The new weights.
    bias : array-like of shape (n_outputs,)
        The new bias.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from nlpipe.neural import (collate, encode, load_backbone, load_tokenizer, mean_pooled_logits,
    ...                            quiet_transformers, set_linear_head)
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2).eval()
    >>> set_linear_head(model, np.zeros((2, 32)), [1.0, -1.0])
    >>> batch = collate(encode(tokenizer, ["a great movie", "boring"], 16), tokenizer.pad_token_id, "cpu")
    >>> with torch.no_grad():
    ...     mean_pooled_logits(model, batch).tolist()
    [[1.0, -1.0], [1.0, -1.0]]
    """
    head = model.classifier
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=head.weight.dtype))
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))
