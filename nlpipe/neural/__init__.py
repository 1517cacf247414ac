"""The neural core: the one package that imports torch and transformers at module level.

Backbone loading (hub id or local directory), devices, seeding, the single
training loop, length-sorted batched inference, and model state <-> bytes.
Task estimators (``nlpipe.classification``, ...) import it inside ``fit``.
"""

from ._backbone import (
    autocast_dtype,
    load_backbone,
    load_tokenizer,
    quiet_transformers,
    resolve_device,
    resolve_max_length,
    seeded,
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
    "pack",
    "quiet_transformers",
    "resolve_device",
    "resolve_max_length",
    "run_inference",
    "seeded",
    "train",
    "unpack",
    "weights_to_bytes",
]
