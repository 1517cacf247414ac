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
from ._compress import (
    encoder_layers,
    magnitude_prune_linears,
    prune_heads_and_neurons,
    quantize_dynamic_int8,
    quantize_embeddings_int8,
    quantized_modules,
    structure,
)
from ._generation import (
    causal_training_ids,
    eos_ids,
    generate_texts,
    lm_loss,
    load_generator,
    prepare_generation,
    resolve_architecture,
    target_ids,
)
from ._loop import IGNORE_INDEX, collate, collate_labels, encode, run_inference, train
from ._state import device_after_load, pack, unpack, weights_to_bytes

__all__ = [
    "IGNORE_INDEX",
    "autocast_dtype",
    "causal_training_ids",
    "collate",
    "collate_labels",
    "device_after_load",
    "encode",
    "encoder_layers",
    "eos_ids",
    "generate_texts",
    "lm_loss",
    "load_generator",
    "magnitude_prune_linears",
    "load_backbone",
    "load_tokenizer",
    "mean_pool",
    "mean_pooled_features",
    "mean_pooled_logits",
    "pack",
    "prepare_generation",
    "prune_heads_and_neurons",
    "quantize_dynamic_int8",
    "quantize_embeddings_int8",
    "quantized_modules",
    "quiet_transformers",
    "resolve_architecture",
    "resolve_device",
    "resolve_max_length",
    "resolve_pooling",
    "run_inference",
    "seeded",
    "set_linear_head",
    "structure",
    "target_ids",
    "train",
    "unpack",
    "weights_to_bytes",
]
