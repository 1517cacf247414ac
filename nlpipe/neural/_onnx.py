"""Export a transformer estimator's forward pass to ONNX (torch.onnx, the torch.export-based exporter)."""

import logging
import warnings

import torch

from ._batches import collate, encode

logger = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask")


class _Forward(torch.nn.Module):
    """``forward(model, batch)`` as a module of two tensors, which is what the exporter traces."""

    def __init__(self, model, forward):
        super().__init__()
        self.model = model
        self._forward = forward

    def forward(self, input_ids, attention_mask):
        return self._forward(self.model, {"input_ids": input_ids, "attention_mask": attention_mask})


def export_onnx(model, forward, tokenizer, *, max_length, opset=18):
    """The ONNX bytes of ``forward(model, batch)``, with dynamic batch and sequence axes.

    The graph takes ``input_ids`` and ``attention_mask`` (int64, shape (batch, sequence))
    and returns ``outputs``, whatever ``forward`` returns for them: logits, or pooled
    embeddings. It is exported by ``torch.onnx.export(dynamo=True)`` (the exporter
    built on ``torch.export``; the TorchScript one is deprecated) on a small batch of
    example texts, in fp32 on the CPU; ``model`` itself is left as it was.

    Parameters
    ----------
    model : torch.nn.Module
        The fine-tuned model (fp32 weights).
    forward : callable
        ``forward(model, batch) -> tensor`` with one row per text, as the estimator
        runs it (its ``_forward``).
    tokenizer : transformers tokenizer
        Makes the example batch.
    max_length : int
        The longest sequence the estimator feeds (the example batch stays shorter).
    opset : int, default=18
        The ONNX opset.

    Returns
    -------
    graph : bytes
        The serialized ONNX model.

    Examples
    --------
    >>> from nlpipe.neural import export_onnx, load_backbone, load_tokenizer, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> graph = export_onnx(model, lambda m, batch: m(**batch).logits, tokenizer, max_length=32)
    >>> graph[:2]  # a protobuf ModelProto
    b'\\x08\\n'
    """
    if any(p.dtype not in (torch.float32,) for p in model.parameters() if p.is_floating_point()):
        raise ValueError("export_onnx takes an fp32 model; export before casting or quantizing the weights.")
    device = next(model.parameters()).device
    was_training = model.training
    module = _Forward(model.to("cpu").eval(), forward).eval()
    # Two rows of different lengths: torch.export specializes a dimension of size 1, and the mask must vary.
    texts = ["an example text for the exporter to trace through", "a shorter one"]
    batch = collate(encode(tokenizer, texts, min(max_length, 16)), tokenizer.pad_token_id, "cpu")
    args = tuple(batch[name] for name in _INPUTS)
    dims = {"batch": torch.export.Dim("batch"), "sequence": torch.export.Dim("sequence", max=max(max_length, 17))}
    shapes = {name: {0: dims["batch"], 1: dims["sequence"]} for name in _INPUTS}
    # The exporter logs a warning per missing torchvision operator and its progress: not the user's business.
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracing chatter
            program = torch.onnx.export(module, args, input_names=list(_INPUTS), output_names=["outputs"],
                                        dynamic_shapes=shapes, opset_version=opset, dynamo=True, verbose=False)
        proto = program.model_proto
        for node in proto.graph.node:  # the exporter's per-node stack traces and FX names: 2/3 of a small graph
            node.doc_string = ""
            del node.metadata_props[:]
        return proto.SerializeToString()  # weights inside: one self-contained bytes object
    finally:
        exporter_log.setLevel(level)
        model.to(device).train(was_training)
