"""The neural core: the one package that imports torch and transformers at module level.

Backbone loading (hub id or local directory), devices, seeding, the single
training loop, length-sorted batched inference, and model state <-> bytes.
Task estimators (``nlpipe.classification``, ...) import it inside ``fit``.
"""

from ._backbone import (
    autocast_dtype,
    load_backbone,
    load_tokenizer,
    mean_pool,
    mean_pooled_features,
    mean_pooled_logits,
    quiet_transformers,
    resolve_pooling,
    resolve_device,
    resolve_max_length,
    seeded,
    set_linear_head,
)
from ._loop import collate, encode, run_inference, train
from ._state import device_after_load, pack, unpack, weights_to_bytes

__all__ = [
    "autocast_dtype",
    "collate",
    "device_after_load",
    "encode",
    "load_backbone",
    "load_tokenizer",
    "mean_pool",
    "mean_pooled_features",
    "mean_pooled_logits",
    "pack",
    "quiet_transformers",
    "resolve_device",
    "resolve_max_length",
    "resolve_pooling",
    "run_inference",
    "seeded",
    "set_linear_head",
    "train",
    "unpack",
    "weights_to_bytes",
]
