"""Inference without the training stack: ONNX Runtime models and what the CPU can run fast.

Nothing here imports torch or transformers. :class:`OnnxModel` is what an estimator exported by
:class:`nlpipe.compression.OnnxExporter` holds as ``model_``: it runs with ``onnxruntime`` and
``tokenizers`` alone (the ``onnx`` extra). :func:`quantize_onnx` makes int8 graphs with ONNX
Runtime's quantization tools; :func:`cpu_features` reads the instruction sets that decide which
precision is fastest here.

Examples
--------
>>> from nlpipe.inference import cpu_features
>>> cpu_features()["int8"] in ("amx", "vnni", "avx2", "none")
True
"""

from ._cpu import cpu_features
from ._onnx import OnnxModel, import_onnxruntime
from ._quantize import quantize_onnx

__all__ = ["OnnxModel", "cpu_features", "import_onnxruntime", "quantize_onnx"]
