"""An exported transformer run by ONNX Runtime: tokenizer and graph, numpy in and out, no torch."""

import logging
import threading

import numpy as np

from ..base import import_optional, length_batches

logger = logging.getLogger(__name__)
_ENCODE_LOCK = threading.Lock()

# A TensorProto's external_data entry, serialized: the key "location" (field 1, 8 bytes) of a
# StringStringEntryProto. The exporter's metadata, which could hold the same bytes, is stripped.
_EXTERNAL_DATA = b"\n\x08location"
# ONNX Runtime's graph optimization levels by name (SessionOptions.graph_optimization_level).
OPTIMIZATION_LEVELS = {"none": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
                       "all": "ORT_ENABLE_ALL"}


def import_onnxruntime():
    """``onnxruntime``, or a MissingExtraError naming the ``onnx`` extra.

    Returns
    -------
    onnxruntime : module

    Examples
    --------
    >>> from nlpipe.inference import import_onnxruntime
    >>> import_onnxruntime().__name__
    'onnxruntime'
    """
    return import_optional("onnxruntime", extra="onnx", what="ONNX Runtime inference")


def _import_tokenizers():
    return import_optional("tokenizers", extra="onnx", what="ONNX Runtime inference")


class OnnxModel:
    """A transformer exported to ONNX with its tokenizer, run by ONNX Runtime on the CPU.

    What a fitted estimator holds as ``model_`` after
    :class:`~nlpipe.compression.OnnxExporter`: the graph (its outputs are what the
    estimator's forward returns: logits, or pooled embeddings) and the tokenizer, as
    bytes and JSON. The session and the tokenizer object are rebuilt from them when
    the model is unpickled (an ``InferenceSession`` cannot be pickled), and neither
    needs torch or transformers: ``onnxruntime`` and ``tokenizers`` are enough.

    Parameters
    ----------
    graph : bytes
        The serialized ONNX model.
    tokenizer : str
        The tokenizer as ``tokenizers`` JSON (``Tokenizer.to_str()``).
    pad_id : int
        The padding token id.
    n_threads : int or None, default=None
        ONNX Runtime's intra-op threads; None lets it choose (one per core). Set in
        the session options: ONNX Runtime does not follow the process's CPU affinity.
    optimization : {"all", "extended", "basic", "none"}, default="all"
        ONNX Runtime's graph optimization level.
    info : dict or None, default=None
        What the graph is (precision, quantization settings), for reports.

    Attributes
    ----------
    session : onnxruntime.InferenceSession
        The session, built on first use.
    input_names : list of str
        The graph's inputs (``input_ids``, ``attention_mask``, maybe ``token_type_ids``).

    Examples
    --------
    >>> from nlpipe.inference import OnnxModel
    >>> OnnxModel.__name__
    'OnnxModel'
    """

    def __init__(self, graph, tokenizer, *, pad_id, n_threads=None, optimization="all", info=None):
        self.__setstate__({"graph": graph, "tokenizer_json": tokenizer, "pad_id": pad_id, "n_threads": n_threads,
                           "optimization": optimization, "info": info or {}})

    # -------------------------------------------------------------- runtime
    @property
    def session(self):
        if self._session is None:
            ort = import_onnxruntime()
            options = ort.SessionOptions()
            options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, OPTIMIZATION_LEVELS[self.optimization])
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.inter_op_num_threads = 1
            if self.n_threads is not None:
                options.intra_op_num_threads = self.n_threads
            self._session = ort.InferenceSession(self.graph, sess_options=options, providers=["CPUExecutionProvider"])
        return self._session

    @property
    def input_names(self):
        return [i.name for i in self.session.get_inputs()]

    @property
    def tokenizer(self):
        """The ``tokenizers.Tokenizer`` (no padding, no truncation: :meth:`encode` sets them per call)."""
        if self._tokenizer is None:
            tok = _import_tokenizers().Tokenizer.from_str(self.tokenizer_json)
            tok.no_padding()
            tok.no_truncation()
            self._tokenizer = tok
        return self._tokenizer

    def set_threads(self, n_threads):
        """Use ``n_threads`` intra-op threads from now on (the session is rebuilt).

        Parameters
        ----------
        n_threads : int or None
            See the class parameters.

        Returns
        -------
        self : OnnxModel
        """
        self.n_threads = n_threads
        self._session = None
        return self

    def encode(self, texts, max_length, *, stride=None):
        """Token ids per text, as the transformers tokenizer the model was trained with makes them.

        Parameters
        ----------
        texts : list of str
            The texts.
        max_length : int
            Most tokens per row, special tokens included.
        stride : int or None, default=None
            None truncates each text to one row; an int reads a longer text as
            several rows (windows) that overlap by ``stride`` tokens.

        Returns
        -------
        ids : list of list of int
            One row per text, or per window.
        owners : ndarray of int
            The text each row belongs to.
        """
        tok = self.tokenizer
        # The truncation setting lives in the shared tokenizer: set and encode under one lock so
        # that threads predicting at once (a server) do not encode with each other's settings.
        with _ENCODE_LOCK:
            tok.enable_truncation(max_length, stride=stride or 0)
            encodings = tok.encode_batch(list(texts))
        ids, owners = [], []
        for i, enc in enumerate(encodings):
            rows = [enc] + (list(enc.overflowing) if stride is not None else [])
            ids += [row.ids for row in rows]
            owners += [i] * len(rows)
        return ids, np.asarray(owners, dtype=np.int64)

    def run(self, ids, *, batch_size, verbose=0, desc="predict"):
        """Run the graph over token ids in length-sorted batches (:func:`nlpipe.base.length_batches`); outputs come back in input order.

        Parameters
        ----------
        ids : list of list of int
            Token ids per row (see :meth:`encode`).
        batch_size : int
            Most rows per session run.
        verbose : int, default=0
            A progress bar when > 0.
        desc : str, default="predict"
            The progress bar's label.

        Returns
        -------
        outputs : ndarray of float32
            The graph's first output, one row per row of ``ids``.
        """
        from tqdm.auto import tqdm

        session = self.session
        output = session.get_outputs()[0].name
        batches = length_batches(np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids)), batch_size)
        outputs = []
        for idx in tqdm(batches, desc=desc, unit="batch", disable=not verbose, leave=False):
            feeds = self.feeds([ids[i] for i in idx])
            outputs.append(np.asarray(session.run([output], feeds)[0], dtype=np.float32))
        if not outputs:
            width = session.get_outputs()[0].shape[-1]
            return np.zeros((0, width if isinstance(width, int) else 0), dtype=np.float32)
        stacked = np.concatenate(outputs, axis=0)
        result = np.empty_like(stacked)
        result[np.concatenate(batches)] = stacked
        return result

    def feeds(self, rows):
        """The session inputs of one batch: ``rows`` padded on the right, with their attention mask.

        Parameters
        ----------
        rows : list of list of int
            Token ids per row.

        Returns
        -------
        feeds : dict of str to ndarray of int64
            ``input_ids``, ``attention_mask`` (and ``token_type_ids``, all 0, when the
            graph takes them), shape (n_rows, longest row).
        """
        lengths = [len(r) for r in rows]
        width = max(max(lengths, default=1), 1)
        input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        names = set(self.input_names)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        return {k: v for k, v in feeds.items() if k in names}

    @property
    def nbytes(self):
        """Bytes of the graph and the tokenizer (what the pickle holds)."""
        return len(self.graph) + len(self.tokenizer_json.encode("utf-8"))

    # ---------------------------------------------------------- persistence
    def __getstate__(self):
        # Bytes and JSON only: a session or a tokenizer object cannot be pickled (onnxruntime #643).
        return {"graph": self.graph, "tokenizer_json": self.tokenizer_json, "pad_id": self.pad_id,
                "n_threads": self.n_threads, "optimization": self.optimization, "info": self.info}

    def __setstate__(self, state):
        # Also what nlpipe.load rebuilds from a file: every field is checked before a session exists.
        graph, tokenizer = state.get("graph"), state.get("tokenizer_json")
        pad_id, n_threads, optimization = state.get("pad_id"), state.get("n_threads"), state.get("optimization")
        if not isinstance(graph, (bytes, bytearray)):
            raise TypeError(f"graph must be the ONNX model's bytes, got {type(graph).__name__}.")
        if _EXTERNAL_DATA in graph:
            # ONNX Runtime reads external weights relative to the working directory for a graph loaded from
            # bytes: a crafted graph would read a local file into its outputs.
            raise ValueError("This ONNX graph refers to external data files; nlpipe runs self-contained graphs only.")
        if not isinstance(tokenizer, str):
            raise TypeError(f"tokenizer must be tokenizers JSON (str), got {type(tokenizer).__name__}.")
        if not isinstance(pad_id, int) or isinstance(pad_id, bool) or pad_id < 0:
            raise ValueError(f"pad_id must be a non-negative int, got {pad_id!r}.")
        if optimization not in OPTIMIZATION_LEVELS:
            raise ValueError(f"optimization must be one of {sorted(OPTIMIZATION_LEVELS)}, got {optimization!r}.")
        if n_threads is not None and (not isinstance(n_threads, int) or isinstance(n_threads, bool) or n_threads < 1):
            raise ValueError(f"n_threads must be a positive int or None, got {n_threads!r}.")
        if not isinstance(state.get("info"), dict):
            raise TypeError(f"info must be a dict, got {type(state.get('info')).__name__}.")
        self.graph, self.tokenizer_json, self.pad_id = bytes(graph), tokenizer, pad_id
        self.n_threads, self.optimization, self.info = n_threads, optimization, dict(state["info"])
        self._session = self._tokenizer = None

    def __repr__(self):
        return f"OnnxModel({len(self.graph) / 1e6:.1f} MB, {self.info.get('precision', 'fp32')})"
