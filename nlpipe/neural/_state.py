"""Models and tokenizers <-> plain bytes, so pickles hold no CUDA tensor and no live handle."""

import contextlib
import re
import tempfile
import warnings
from pathlib import Path

import torch

from ..exceptions import DeviceWarning

# Written with the weights; read back to rebuild the architecture without a download.
_CONFIG_FILE = "config.json"


def weights_to_bytes(model, state=None):
    """The model's state dict (or ``state``) as safetensors bytes, on CPU.

    Tied parameters (one storage under several names) are stored once; loading
    restores them through the module that owns the shared tensor.

    Parameters
    ----------
    model : torch.nn.Module
        The model whose state dict is stored.
    state : dict of str to torch.Tensor, default=None
        Tensors to store instead of ``model.state_dict()`` (``model`` then only
        names the owner of tied tensors).

    Returns
    -------
    blob : bytes
        A safetensors file's content.

    Examples
    --------
    >>> import torch
    >>> from safetensors.torch import load
    >>> from nlpipe.neural import weights_to_bytes
    >>> blob = weights_to_bytes(torch.nn.Linear(3, 2))
    >>> sorted((name, tuple(tensor.shape)) for name, tensor in load(blob).items())
    [('bias', (2,)), ('weight', (2, 3))]
    >>> tied = torch.nn.Sequential(torch.nn.Embedding(5, 3), torch.nn.Linear(3, 5, bias=False))
    >>> tied[1].weight = tied[0].weight  # an output layer tied to the embeddings
    >>> sorted(load(weights_to_bytes(tied)))  # the shared matrix is stored once
    ['0.weight']
    """
    from safetensors.torch import save

    seen, tensors = set(), {}
    for name, tensor in (model.state_dict() if state is None else state).items():
        if not isinstance(tensor, torch.Tensor):
            continue
        key = _storage_key(tensor)
        if tensor.device.type != "meta" and key in seen:
            continue
        seen.add(key)
        tensors[name] = tensor.detach().to("cpu").contiguous()
    return save(tensors)


def _storage_key(tensor):
    return tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape)


def load_weights(model, blob, skip=(), sparse=()):
    """Load safetensors bytes into ``model`` (always read on CPU; no code runs on load).

    A name missing from the bytes is fine when the model ties it to a loaded tensor
    (same storage), as :func:`weights_to_bytes` stores tied tensors once, or when it
    lies under one of the module names ``skip`` (restored separately).
    """
    from safetensors.torch import load

    state = load(blob)
    if sparse:
        from ._compress import sparse_decode

        state = sparse_decode(state, sparse)
    state = {k: v for k, v in state.items() if not any(k.startswith(f"{m}.") for m in skip)}
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    missing, unexpected = model.load_state_dict(state, strict=False)
    current = model.state_dict()
    loaded = {_storage_key(current[k]) for k in state if k in current}
    really_missing = [
        k for k in missing
        if _storage_key(current[k]) not in loaded and not any(k.startswith(f"{m}.") for m in skip)
    ]
    if unexpected or really_missing:
        raise ValueError(f"Stored weights do not fit the model: missing {really_missing[:5]}, unexpected {unexpected[:5]}")
    return model


def folder_to_files(save):
    """Run ``save(tmpdir)`` and return the folder's files as ``{name: bytes}``."""
    with tempfile.TemporaryDirectory() as tmp:
        save(tmp)
        return {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}


_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_MAX_FILES = 64


@contextlib.contextmanager
def files_in_temp_folder(files):
    """Write ``{name: bytes}`` into a fresh private temporary folder and yield its path.

    The names come from a pickle or a loaded file, so they are checked: plain file names
    only (no folder, no leading dot), at most 64 files. The folder is removed on exit.
    """
    if not isinstance(files, dict) or len(files) > _MAX_FILES:
        raise ValueError(f"Stored files must be a mapping of at most {_MAX_FILES} names to bytes.")
    for name, data in files.items():
        if not isinstance(name, str) or not _FILE_NAME.fullmatch(name) or ".." in name:
            raise ValueError(f"Refusing to write suspicious file name {name!r} from stored state.")
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"Stored file {name!r} must be bytes, got {type(data).__name__}.")
    with tempfile.TemporaryDirectory(prefix="nlpipe-state-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        yield tmp


def _pruned_structure(model):
    """Layer sizes of a model whose heads or feed-forward neurons were pruned, else None."""
    from ._compress import structure

    config = model.config
    heads, width = getattr(config, "num_attention_heads", None), getattr(config, "intermediate_size", None)
    if heads is None or width is None:
        return None
    try:
        sizes = structure(model)
    except TypeError:  # not a BERT-style encoder: nothing of ours can have pruned it
        return None
    if all(s["heads"] == heads and s["neurons"] == width for s in sizes.values()):
        return None
    return sizes


def _float_dtype(model):
    dtypes = {p.dtype for p in model.parameters() if p.is_floating_point()}
    return next(iter(dtypes)) if len(dtypes) == 1 else None


def pack(model, tokenizer, *, adapter=None, lora=None, base=None):
    """``{"config", "generation_config", "tokenizer": {...files}, "weights": bytes, ...}`` for pickling.

    Compressed models stay compressed: half-precision weights keep their dtype
    (``"dtype"``), dynamic int8 layers are stored as int8 tensors with their scales
    (``"quantized"`` names them; see ``_compress``).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The model (on any device; the bytes are written from CPU copies).
    tokenizer : transformers tokenizer
        Its tokenizer.
    adapter : bytes or None, default=None
        A LoRA adapter and head (:func:`adapter_bytes`) to store instead of the
        weights; ``model`` is then the base ``base`` with this adapter merged.
    lora : dict or None, default=None
        With ``adapter``: its LoRA settings, ``base_sha256`` included.
    base : str or None, default=None
        With ``adapter``: where the base model is (hub id or folder).

    Returns
    -------
    packed : dict
        Plain bytes and lists only: ``config`` and ``tokenizer`` map file names to
        bytes, ``weights`` is a safetensors blob (the adapter, with ``lora`` and
        ``base``); the other keys appear when needed.

    Examples
    --------
    >>> import pickle
    >>> from nlpipe.neural import load_backbone, load_tokenizer, pack, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> packed = pack(model, load_tokenizer(make_tiny_backbone()))
    >>> sorted(packed), sorted(packed["config"])
    (['config', 'tokenizer', 'weights'], ['config.json'])
    >>> type(pickle.loads(pickle.dumps(packed))["weights"]).__name__
    'bytes'
    """
    from ._compress import int8_embedding_tensors, quantized_modules, quantized_tensors, sparse_encode

    packed = {
        "config": folder_to_files(model.config.save_pretrained),
        "tokenizer": folder_to_files(tokenizer.save_pretrained),
    }
    if getattr(model, "generation_config", None) is not None and model.can_generate():
        # Decoding settings (start/EOS/pad ids) live here in transformers 5, not in the config.
        packed["generation_config"] = folder_to_files(model.generation_config.save_pretrained)
    if adapter is not None:
        packed.update(weights=bytes(adapter), lora=dict(lora), base=str(base))
        return packed
    state = model.state_dict()
    quantized = quantized_modules(model)
    if quantized:
        state = {k: v for k, v in state.items() if not any(k.startswith(f"{m}.") for m in quantized)}
        state.update(quantized_tensors(model))
        packed["quantized"] = quantized
    embeddings, codes = int8_embedding_tensors(model)
    if embeddings:
        # Rounded tables are stored as their int8 codes (a quarter of the bytes), not as float values.
        state = {k: v for k, v in state.items() if k not in {f"{n}.weight" for n in embeddings}}
        state.update(codes)
        packed["int8_embeddings"] = embeddings
    sizes = _pruned_structure(model)
    if sizes:
        packed["structure"] = sizes
    state, sparse = sparse_encode(state)
    if sparse:
        packed["sparse"] = sparse
    packed["weights"] = weights_to_bytes(model, state)
    dtype = _float_dtype(model)
    if dtype in (torch.float16, torch.bfloat16):
        packed["dtype"] = str(dtype).removeprefix("torch.")
    return packed


_TASK_CLASSES = {
    "embedding": "AutoModel",
    "sequence-classification": "AutoModelForSequenceClassification",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "encoder-decoder": "AutoModelForSeq2SeqLM",
    "causal": "AutoModelForCausalLM",
    "question-answering": "AutoModelForQuestionAnswering",
}


_PACKED_KEYS = {"config", "tokenizer", "weights", "generation_config", "quantized", "int8_embeddings", "structure",
                "sparse", "dtype", "lora", "base"}
# What a stored adapter's settings may hold: LoraConfig arguments and what nlpipe records beside them.
_LORA_VALUES = {"r": int, "lora_alpha": (int, float), "lora_dropout": (int, float), "target_modules": (str, list),
                "bias": str, "use_rslora": bool, "use_dora": bool, "trainable": int, "total": int, "base_sha256": str}


def _check_packed(packed):
    """The shape of :func:`pack`'s output, checked field by field: it may come from a hostile file."""
    if not isinstance(packed, dict) or not {"config", "tokenizer", "weights"} <= set(packed):
        raise ValueError("Stored model state must hold config, tokenizer and weights.")
    unknown = set(packed) - _PACKED_KEYS
    if unknown:
        raise ValueError(f"Stored model state has unknown fields {sorted(unknown)}.")
    if not isinstance(packed["weights"], (bytes, bytearray)):
        raise TypeError("Stored weights must be safetensors bytes.")
    for key in ("quantized", "int8_embeddings", "sparse"):
        value = packed.get(key, [])
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"Stored {key} must be a list of module names.")
    if packed.get("dtype", "float16") not in ("float16", "bfloat16"):
        raise ValueError(f"Stored dtype must be float16 or bfloat16, got {packed['dtype']!r}.")
    if ("lora" in packed) != ("base" in packed):
        raise ValueError("A stored adapter needs both its settings (lora) and its base model (base).")
    if "lora" in packed:
        lora = packed["lora"]
        if not isinstance(lora, dict) or not isinstance(lora.get("base_sha256"), str) or not all(
                k in _LORA_VALUES and isinstance(v, _LORA_VALUES[k]) for k, v in lora.items()):
            raise TypeError("Stored LoRA settings must map LoraConfig names to plain values, with base_sha256.")
        if isinstance(lora.get("target_modules"), list) and not all(isinstance(m, str) for m in lora["target_modules"]):
            raise TypeError("Stored LoRA target_modules must be names.")
        if not isinstance(packed["base"], str) or not 0 < len(packed["base"]) <= 4096:
            raise TypeError("The stored base model must be a hub id or a path.")
    structure = packed.get("structure", {})
    if not isinstance(structure, dict) or not all(
            isinstance(v, dict) and set(v) == {"heads", "neurons"}
            and all(isinstance(n, int) and not isinstance(n, bool) for n in v.values()) for v in structure.values()):
        raise TypeError("Stored structure must map layer names to {'heads': int, 'neurons': int}.")


def _check_model_size(cls, config, dtype):
    """Refuse a config that describes a model larger than the load limit, before allocating it."""
    from ..base import check_load_size

    with torch.device("meta"):  # shapes only: nothing is allocated
        meta = cls.from_config(config)
    n_params = sum(p.numel() for p in meta.parameters()) + sum(b.numel() for b in meta.buffers())
    check_load_size(n_params * (2 if dtype else 4), f"the stored {type(meta).__name__} ({n_params:,} values)")


def _check_structure(model, sizes):
    """Pruned layer sizes may only shrink the layers the config builds."""
    from ._compress import structure

    full = structure(model)
    for name, size in sizes.items():
        if name not in full:
            raise ValueError(f"Stored structure names layer {name!r}, which the model does not have.")
        for key in ("heads", "neurons"):
            if not 0 <= size[key] <= full[name][key]:
                raise ValueError(f"Stored structure gives {name!r} {size[key]} {key}; the model has "
                                 f"{full[name][key]}.")


def unpack(packed, task):
    """Rebuild ``(model, tokenizer)`` from :func:`pack`'s output, on CPU.

    Parameters
    ----------
    packed : dict
        The output of :func:`pack`.
    task : str
        Which model class to rebuild: ``"embedding"``, ``"sequence-classification"``,
        ``"seq2seq"``, ``"encoder-decoder"``, ``"causal"`` or ``"question-answering"``.

    Returns
    -------
    model : transformers.PreTrainedModel
        On CPU, in eval mode, compressed as it was packed.
    tokenizer : transformers tokenizer
        The tokenizer.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import (load_backbone, load_tokenizer, pack, quantize_dynamic_int8, quantized_modules,
    ...                            quiet_transformers, unpack)
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> copy, tokenizer = unpack(pack(model, load_tokenizer(make_tiny_backbone())), "sequence-classification")
    >>> all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), copy.state_dict().values()))
    True
    >>> model = quantize_dynamic_int8(model)  # int8 layers stay int8 through pack and unpack
    >>> copy, _ = unpack(pack(model, tokenizer), "sequence-classification")
    >>> quantized_modules(copy) == quantized_modules(model)
    True
    """
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    _check_packed(packed)
    # Remote code is never run for a stored config or tokenizer (an auto_map in it is refused).
    with files_in_temp_folder(packed["config"]) as tmp:
        config = AutoConfig.from_pretrained(tmp, trust_remote_code=False)
    with files_in_temp_folder(packed["tokenizer"]) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(tmp, trust_remote_code=False)
    cls = getattr(transformers, _TASK_CLASSES[task])
    _check_model_size(cls, config, packed.get("dtype"))
    model = _base_with_adapter(cls, config, packed) if "lora" in packed else _model_from_weights(cls, config, packed)
    if "generation_config" in packed:
        from transformers import GenerationConfig

        with files_in_temp_folder(packed["generation_config"]) as tmp:
            model.generation_config = GenerationConfig.from_pretrained(tmp)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # as when it was loaded for fitting
    model.eval()
    return model, tokenizer


def _model_from_weights(cls, config, packed):
    """The model ``config`` describes, with the stored weights (compressed as they were packed)."""
    # Built for real on CPU (not on the meta device): non-persistent buffers such as
    # BERT's position_ids are not in the state dict and must be initialised by the module.
    model = cls.from_config(config)
    if "dtype" in packed:
        model.to(getattr(torch, packed["dtype"]))
    if "structure" in packed:
        from ._compress import reshape_like

        _check_structure(model, packed["structure"])
        reshape_like(model, packed["structure"])
    quantized = packed.get("quantized", [])
    embeddings = packed.get("int8_embeddings", [])
    load_weights(model, packed["weights"], skip=quantized + embeddings, sparse=packed.get("sparse", ()))
    if embeddings:
        from safetensors.torch import load

        from ._compress import restore_int8_embeddings

        restore_int8_embeddings(model, embeddings, load(packed["weights"]))
    if quantized:
        from safetensors.torch import load

        from ._compress import restore_quantized, sparse_decode

        restore_quantized(model, quantized, sparse_decode(load(packed["weights"]), packed.get("sparse", ())))
    return model


def _base_with_adapter(cls, config, packed):
    """The base model ``packed["base"]`` names, checked against the adapter's record, with the adapter merged."""
    from ._backbone import quiet_transformers
    from ._lora import backbone_sha256, merge_adapter

    base, want = packed["base"], packed["lora"]["base_sha256"]
    need = (f"This model stores only its LoRA adapter (lora_storage='adapter'); it needs its base model {base!r} "
            f"(backbone weights sha256 {want[:16]}...)")
    try:
        with quiet_transformers(0):
            # The fine-tuned config gives the head's size; the base's own head, if any, is replaced below.
            model = cls.from_pretrained(base, config=config, ignore_mismatched_sizes=True, trust_remote_code=False)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{need}, which could not be loaded: {exc}. Put that model where the path or the local "
                         "Hugging Face cache has it, or refit with lora_storage='merged'.") from None
    if backbone_sha256(model) != want:
        raise ValueError(f"{need}; the model found there has other weights: the adapter was not trained on it.")
    return merge_adapter(model, packed["weights"], packed["lora"])


def device_after_load(saved_device):
    """The device to use for a model saved on ``saved_device``; warn when it is gone.

    Parameters
    ----------
    saved_device : str or torch.device
        The device the model was fitted on.

    Returns
    -------
    device : torch.device
        ``saved_device`` when it is available here, else the CPU (with a
        :class:`~nlpipe.exceptions.DeviceWarning`).

    Examples
    --------
    >>> import warnings
    >>> import torch
    >>> from nlpipe.neural import device_after_load
    >>> device_after_load("cpu")
    device(type='cpu')
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     device = device_after_load("cuda:0")
    >>> # cuda:0 where there is a GPU; elsewhere the CPU, with a DeviceWarning
    >>> device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    True
    >>> [w.category.__name__ for w in caught] == ([] if torch.cuda.is_available() else ["DeviceWarning"])
    True
    """
    from ._backbone import resolve_device

    saved = torch.device(saved_device)
    if saved.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"This model was fitted on {saved_device}, which is not available here; it is loaded on the CPU.",
            DeviceWarning,
            stacklevel=4,
        )
        return torch.device("cpu")
    if saved.type == "mps":
        try:
            return resolve_device("mps")
        except ValueError:
            warnings.warn("This model was fitted on mps; it is loaded on the CPU.", DeviceWarning, stacklevel=4)
            return torch.device("cpu")
    return saved
