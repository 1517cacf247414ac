"""Token ids to padded tensors, and the batched inference every neural estimator uses."""

import contextlib

import numpy as np
import torch

from ._backbone import tokenize


def encode(tokenizer, texts, max_length):
    """Token ids per text, truncated to ``max_length``; no padding (batches pad dynamically).

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Adds the model's special tokens (e.g. [CLS] and [SEP]).
    texts : iterable of str
        The texts.
    max_length : int
        Most tokens per text, special tokens included.

    Returns
    -------
    ids : list of list of int
        One list of token ids per text.

    Examples
    --------
    >>> from nlpipe.neural import encode, load_tokenizer
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> ids = encode(tokenizer, ["a great movie", "a great great great movie"], max_length=5)
    >>> [tokenizer.convert_ids_to_tokens(row) for row in ids]
    [['[CLS]', 'a', 'great', 'movie', '[SEP]'], ['[CLS]', 'a', 'great', 'great', '[SEP]']]
    """
    enc = tokenize(tokenizer, list(texts), truncation=True, max_length=max_length, padding=False)
    return enc["input_ids"]


def encode_windows(tokenizer, texts, max_length, stride):
    """Token ids of every window of ``max_length`` tokens of each text, consecutive windows sharing ``stride``.

    A text that fits in ``max_length`` tokens is one window (as :func:`encode` gives it);
    a longer one is read whole, as several windows, each with the model's special tokens.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        A fast tokenizer (it makes the windows).
    texts : iterable of str
        The texts.
    max_length : int
        Most tokens per window, special tokens included.
    stride : int
        Tokens shared by consecutive windows; less than ``max_length`` minus the special tokens.

    Returns
    -------
    ids : list of list of int
        One list of token ids per window.
    owners : ndarray of int64
        The text each window belongs to.

    Examples
    --------
    >>> from nlpipe.neural import encode_windows, load_tokenizer
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> ids, owners = encode_windows(tokenizer, ["a great movie", "a great great great movie"], 5, 1)
    >>> [tokenizer.convert_ids_to_tokens(row) for row in ids]
    [['[CLS]', 'a', 'great', 'movie', '[SEP]'], ['[CLS]', 'a', 'great', 'great', '[SEP]'], ['[CLS]', 'great', 'great', 'movie', '[SEP]']]
    >>> owners.tolist()
    [0, 1, 1]
    """
    enc = tokenize(tokenizer, list(texts), truncation=True, max_length=max_length, stride=stride, padding=False,
                   return_overflowing_tokens=True)
    return enc["input_ids"], np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)


def collate(ids, pad_id, device, *, side="right", token_types=None):
    """Pad a list of id lists to the longest one; returns ``input_ids`` and ``attention_mask``.

    ``side="left"`` puts the padding first, as decoder-only models need for batched generation.
    ``token_types`` (one list per row, as long as its ids) adds ``token_type_ids``: the
    segment of each token in a text pair (question and passage).

    Parameters
    ----------
    ids : list of list of int
        Token ids per row, of any lengths.
    pad_id : int
        The tokenizer's padding id.
    device : torch.device or str
        Where the tensors go.
    side : {"right", "left"}, default="right"
        Where the padding goes.
    token_types : list of list of int, default=None
        Segment ids per row, as long as its ids.

    Returns
    -------
    batch : dict of str to torch.Tensor
        ``input_ids`` and ``attention_mask`` (and ``token_type_ids``), int64 tensors
        of shape (n_rows, longest row).

    Examples
    --------
    >>> from nlpipe.neural import collate
    >>> batch = collate([[5, 6, 7], [8]], pad_id=0, device="cpu")
    >>> batch["input_ids"]
    tensor([[5, 6, 7],
            [8, 0, 0]])
    >>> batch["attention_mask"]
    tensor([[1, 1, 1],
            [1, 0, 0]])
    >>> collate([[5, 6, 7], [8]], pad_id=0, device="cpu", side="left")["input_ids"]
    tensor([[5, 6, 7],
            [0, 0, 8]])
    >>> collate([[1, 2, 3], [1, 4]], pad_id=0, device="cpu", token_types=[[0, 0, 1], [0, 1]])["token_type_ids"]
    tensor([[0, 0, 1],
            [0, 1, 0]])
    """
    width = max(len(x) for x in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    types = np.zeros((len(ids), width), dtype=np.int64) if token_types is not None else None
    for i, row in enumerate(ids):
        span = slice(width - len(row), width) if side == "left" else slice(0, len(row))
        input_ids[i, span] = row
        mask[i, span] = 1
        if types is not None:
            types[i, span] = token_types[i]
    batch = {
        "input_ids": torch.from_numpy(input_ids).to(device, non_blocking=True),
        "attention_mask": torch.from_numpy(mask).to(device, non_blocking=True),
    }
    if types is not None:
        batch["token_type_ids"] = torch.from_numpy(types).to(device, non_blocking=True)
    return batch


def _rows(values, idx):
    return None if values is None else [values[i] for i in idx]


# Label value that Hugging Face models and torch's cross-entropy leave out of the loss.
IGNORE_INDEX = -100


def collate_labels(labels, device):
    """Pad token-label sequences with :data:`IGNORE_INDEX` to the longest one.

    Parameters
    ----------
    labels : list of list of int
        Label ids per row, of any lengths.
    device : torch.device or str
        Where the tensor goes.

    Returns
    -------
    labels : torch.Tensor of shape (n_rows, longest row)
        int64 labels; the padding is left out of the loss.

    Examples
    --------
    >>> from nlpipe.neural import collate_labels
    >>> collate_labels([[5, 6, 7], [8]], "cpu")
    tensor([[   5,    6,    7],
            [   8, -100, -100]])
    """
    width = max(len(x) for x in labels)
    out = np.full((len(labels), width), IGNORE_INDEX, dtype=np.int64)
    for i, row in enumerate(labels):
        out[i, : len(row)] = row
    return torch.from_numpy(out).to(device, non_blocking=True)


def _take(targets, idx, device):
    """The targets of the rows ``idx``: a tensor's rows, or padded label sequences."""
    if isinstance(targets, torch.Tensor):
        return targets[torch.as_tensor(idx)].to(device)
    return collate_labels([targets[i] for i in idx], device)


def _autocast(device, dtype):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.inference_mode()
def run_inference(model, ids, *, forward, batch_size, device, amp_dtype, pad_id, verbose=0, desc="predict",
                  token_types=None):
    """Forward all texts in length-sorted batches; outputs come back in input order.

    Sorting by length means each batch pads only to its own longest text, and a
    mix of short and long texts is split where that saves more padding than a model
    call costs (:func:`nlpipe.base.length_batches`); the longest batch runs first so
    an out-of-memory error shows up at once.

    Parameters
    ----------
    model : torch.nn.Module
        Put in eval mode; runs under ``torch.inference_mode``.
    ids : list of list of int
        Token ids per text (see :func:`encode`).
    forward : callable
        ``forward(model, batch) -> tensor`` with one row per text of the batch.
    batch_size : int
        Most texts per forward pass.
    device : torch.device
        Where the batches go.
    amp_dtype : torch.dtype or None
        Autocast dtype (see :func:`autocast_dtype`); None runs in full precision.
    pad_id : int
        The tokenizer's padding id.
    verbose : int, default=0
        A progress bar when > 0.
    desc : str, default="predict"
        The progress bar's label.
    token_types : list of list of int, default=None
        Segment ids per text, for text pairs.

    Returns
    -------
    outputs : ndarray of float32
        The outputs of ``forward``, one row per text, in input order.

    Examples
    --------
    Outputs come back in input order although batches run longest first:

    >>> import torch
    >>> from nlpipe.neural import run_inference
    >>> lengths = run_inference(torch.nn.Identity(), [[1, 2], [3, 4, 5, 6], [7]],
    ...                         forward=lambda model, batch: batch["attention_mask"].sum(dim=1),
    ...                         batch_size=2, device=torch.device("cpu"), amp_dtype=None, pad_id=0)
    >>> lengths
    array([2., 4., 1.], dtype=float32)

    The logits of a (here untrained) classifier:

    >>> from nlpipe.neural import encode, load_backbone, load_tokenizer, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> logits = run_inference(model, encode(tokenizer, ["a great movie", "boring"], 16),
    ...                        forward=lambda model, batch: model(**batch).logits, batch_size=8,
    ...                        device=torch.device("cpu"), amp_dtype=None, pad_id=tokenizer.pad_token_id)
    >>> logits.shape
    (2, 2)
    """
    from tqdm.auto import tqdm

    from ..base import length_batches

    model.eval()
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    batches = length_batches(lengths, batch_size)
    order = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    outputs = []
    for idx in tqdm(batches, desc=desc, unit="batch", disable=not verbose, leave=False):
        batch = collate([ids[i] for i in idx], pad_id, device, token_types=_rows(token_types, idx))
        with _autocast(device, amp_dtype):
            out = forward(model, batch)
        outputs.append(out.float().cpu().numpy())
    stacked = np.concatenate(outputs, axis=0)
    result = np.empty_like(stacked)
    result[order] = stacked
    return result
