"""The neural core: the one package that imports torch and transformers at module level.

Backbone loading (hub id or local directory), devices, seeding, the single
training loop, length-sorted batched inference, and model state <-> bytes.
Task estimators (``nlpipe.classification``, ...) import it inside ``fit``.

``IGNORE_INDEX`` (-100) is the label value that Hugging Face models and torch's
cross-entropy leave out of the loss: :func:`collate_labels` pads label sequences
with it, and :func:`causal_training_ids` marks prompt tokens with it.

Examples
--------
>>> import torch
>>> from nlpipe.neural import IGNORE_INDEX, causal_training_ids, collate_labels
>>> IGNORE_INDEX
-100
>>> collate_labels([[5, 6], [7]], "cpu").tolist()
[[5, 6], [7, -100]]
>>> causal_training_ids([[1, 2]], [[3]], eos=9, max_length=8)[1]  # no loss on the prompt
[[-100, -100, 3, 9]]
>>> logits, labels = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, IGNORE_INDEX])
>>> bool(torch.nn.functional.cross_entropy(logits, labels) == torch.nn.functional.cross_entropy(logits[:1], labels[:1]))
True
"""

from ._backbone import (
    autocast_dtype,
    length_groups,
    load_backbone,
    load_tokenizer,
    mean_pool,
    mean_pooled_features,
    mean_pooled_logits,
    pretrained_pooling,
    quiet_transformers,
    resolve_pooling,
    resolve_device,
    resolve_max_length,
    seeded,
    set_linear_head,
    tokenize,
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
from ._batches import IGNORE_INDEX, collate, collate_labels, encode, encode_windows, run_inference
from ._distributed import is_sharded, unshard
from ._loop import TrainingConfig, train
from ._lora import adapter_bytes, add_lora, backbone_sha256, lora_settings, merge_adapter, merge_lora
from ._losses import SoftTargets, pair_similarity_loss
from ._rates import auto_learning_rate
from ._onnx import export_onnx
from ._state import device_after_load, pack, unpack, weights_to_bytes

__all__ = [
    "IGNORE_INDEX",
    "SoftTargets",
    "TrainingConfig",
    "adapter_bytes",
    "auto_learning_rate",
    "add_lora",
    "autocast_dtype",
    "backbone_sha256",
    "causal_training_ids",
    "collate",
    "collate_labels",
    "device_after_load",
    "encode",
    "encode_windows",
    "encoder_layers",
    "eos_ids",
    "export_onnx",
    "generate_texts",
    "lm_loss",
    "load_generator",
    "magnitude_prune_linears",
    "is_sharded",
    "length_groups",
    "load_backbone",
    "load_tokenizer",
    "lora_settings",
    "mean_pool",
    "mean_pooled_features",
    "mean_pooled_logits",
    "merge_adapter",
    "merge_lora",
    "pair_similarity_loss",
    "pack",
    "prepare_generation",
    "pretrained_pooling",
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
    "tokenize",
    "train",
    "unshard",
    "unpack",
    "weights_to_bytes",
]
