"""int8 ONNX graphs with ONNX Runtime's quantization tools: dynamic, or static calibrated on texts."""

import contextlib
import logging
import os
import tempfile

from ..base import import_optional

logger = logging.getLogger(__name__)


def quantize_onnx(graph, *, mode="dynamic", calibration=None, per_channel=False, reduce_range=False):
    """An int8 version of an ONNX graph, made by ``onnxruntime.quantization``.

    ``"dynamic"``: int8 weights, activations quantized per batch at run time.
    ``"static"``: the inputs of the products with weight matrices quantized too, with
    ranges measured on the ``calibration`` batches (percentile calibration, uint8
    activations and int8 weights in ONNX Runtime's integer operators); attention
    scores and softmax stay float. The graph is first run through
    ONNX Runtime's pre-processing (shape inference and graph optimizations), as its
    documentation recommends for transformers.

    Parameters
    ----------
    graph : bytes
        The fp32 ONNX model.
    mode : {"dynamic", "static"}, default="dynamic"
        What to quantize (see above).
    calibration : iterable of dict of str to ndarray or None, default=None
        Input batches (``{"input_ids": ..., "attention_mask": ...}``), for ``"static"``;
        percentile calibration stacks them, so all must have the same width.
    per_channel : bool, default=False
        One weight scale per output channel instead of one per tensor (more
        accurate, a little slower).
    reduce_range : bool, default=False
        7-bit weights: avoids the int16 overflow of ``vpmaddubsw`` on CPUs without
        VNNI (AVX2, AVX-512 without VNNI), at some accuracy.

    Returns
    -------
    graph : bytes
        The int8 model.

    Raises
    ------
    ValueError
        When ``mode`` is unknown, or ``"static"`` has no calibration batches.

    Examples
    --------
    >>> from nlpipe.inference import quantize_onnx
    >>> quantize_onnx(b"", mode="float8")
    Traceback (most recent call last):
    ...
    ValueError: mode must be 'dynamic' or 'static', got 'float8'.
    """
    if mode not in ("dynamic", "static"):
        raise ValueError(f"mode must be 'dynamic' or 'static', got {mode!r}.")
    batches = None
    if mode == "static":
        batches = list(calibration or ())
        if not batches:
            raise ValueError("Static int8 quantization needs calibration batches (texts passed to fit).")
    import_optional("onnx", extra="onnx", what="ONNX quantization")
    q = import_optional("onnxruntime.quantization", extra="onnx", what="ONNX quantization", requires=("onnxruntime",))
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        source, prepared, target = (os.path.join(tmp, name) for name in ("model.onnx", "pre.onnx", "int8.onnx"))
        with open(source, "wb") as fh:
            fh.write(graph)
        common = {"per_channel": per_channel, "reduce_range": reduce_range}
        with _working_directory(tmp):  # both steps write temporary files into the working directory
            # ONNX shape inference and graph optimizations only: ONNX Runtime's symbolic shape inference cannot
            # follow the exporter's Min(512, sequence) slice of the position ids (and says so on stdout).
            try:
                quant_pre_process(source, prepared, skip_symbolic_shape=True)
            except Exception as exc:  # noqa: BLE001 - pre-processing is an optimization, never required
                logger.debug("quantization pre-processing failed, quantizing the graph as exported: %s", exc)
                prepared = source
            _quantize(q, mode, prepared, target, batches, common)
        with open(target, "rb") as fh:
            return fh.read()


@contextlib.contextmanager
def _working_directory(path):
    """Run in ``path``: the static calibration saves a copy of the model with its weights in a
    ``<uuid>.data`` file of the current directory (onnx's external data) and leaves it there."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _quantize(q, mode, prepared, target, batches, common):
    if mode == "dynamic":
        q.quantize_dynamic(prepared, target, weight_type=q.QuantType.QInt8, **common)
        return
    # Only products with a weight matrix (MatMulConstBOnly): quantized attention scores and softmax
    # outputs cost MiniLM most of its accuracy (embedding cosine 0.27 with every op quantized).
    # Gather: the word-embedding table in int8 too, as dynamic quantization does (0.65x -> 0.27x of the fp32
    # size on MiniLM, 0.2 accuracy points on SST-2).
    q.quantize_static(prepared, target, _reader(q, batches), quant_format=q.QuantFormat.QOperator,
                      op_types_to_quantize=["MatMul", "Gather"], activation_type=q.QuantType.QUInt8,
                      weight_type=q.QuantType.QInt8, calibrate_method=q.CalibrationMethod.Percentile,
                      extra_options={"MatMulConstBOnly": True}, **common)


def _reader(q, batches):
    """An ONNX Runtime ``CalibrationDataReader`` over a list of feed dicts."""

    class Reader(q.CalibrationDataReader):
        def __init__(self):
            self._it = iter(batches)

        def get_next(self):
            return next(self._it, None)

        def rewind(self):
            self._it = iter(batches)

    return Reader()
