"""LoRA adapters (``peft``) injected into a model for training, then merged back into its weights."""

import numbers
import warnings

import torch

# Keys of peft.LoraConfig a user may set; peft's own bookkeeping fields (task_type, peft_type, ...) are not for
# them: nlpipe trains the injected model itself and merges it, so no PeftModel wrapper outlives the fit.
_USER_KEYS = ("r", "lora_alpha", "lora_dropout", "target_modules", "exclude_modules", "bias", "use_rslora",
              "use_dora", "init_lora_weights", "layers_to_transform", "layers_pattern", "rank_pattern",
              "alpha_pattern")


def _import_peft():
    try:
        import peft
    except ImportError:
        raise ImportError("lora=... needs the peft package: pip install 'nlpipe[peft]'") from None
    return peft


def lora_settings(lora):
    """The ``peft.LoraConfig`` arguments that ``lora`` (an int rank or a dict) stands for.

    Parameters
    ----------
    lora : int or dict
        The estimator's ``lora`` parameter: a rank, or LoraConfig arguments.

    Returns
    -------
    settings : dict
        ``r``, ``lora_alpha`` (default ``2 r``), ``lora_dropout`` (default 0),
        ``target_modules`` (default ``"all-linear"``: every linear layer of the
        backbone, peft leaving out a language model's output layer) and any other
        key given. On SST-2 with all-MiniLM-L6-v2 these defaults matched full
        fine-tuning where peft's attention-only default (query and value) with
        dropout 0.1 stayed 1.3-1.9 points below it (``benchmarks/results/peft.md``).

    Raises
    ------
    ValueError
        On a key LoraConfig does not take from users, or a rank below 1.

    Examples
    --------
    >>> from nlpipe.neural import lora_settings
    >>> lora_settings(8)
    {'r': 8, 'lora_alpha': 16, 'lora_dropout': 0.0, 'target_modules': 'all-linear'}
    >>> lora_settings({"r": 4, "target_modules": ["dense"]})["target_modules"]
    ['dense']
    """
    if isinstance(lora, numbers.Integral) and not isinstance(lora, bool):
        settings = {"r": int(lora)}
    elif isinstance(lora, dict):
        unknown = sorted(set(lora) - set(_USER_KEYS), key=str)
        if unknown:
            raise ValueError(f"lora has keys peft.LoraConfig does not take here: {unknown}; allowed: "
                             f"{list(_USER_KEYS)}.")
        settings = dict(lora)
    else:
        raise TypeError(f"lora must be None, an int rank or a dict of peft.LoraConfig arguments; got "
                        f"{type(lora).__name__}.")
    settings.setdefault("r", 8)
    if not isinstance(settings["r"], numbers.Integral) or settings["r"] < 1:
        raise ValueError(f"The LoRA rank r must be an int >= 1; got {settings['r']!r}.")
    settings.setdefault("lora_alpha", 2 * settings["r"])
    # Every linear layer and no dropout (QLoRA's finding, Dettmers et al. 2023, and ours on SST-2): adapters
    # on the attention projections alone leave accuracy behind full fine-tuning in a short run.
    settings.setdefault("lora_dropout", 0.0)
    if settings.get("target_modules") is None:
        settings["target_modules"] = "all-linear"
    return settings


def add_lora(model, lora):
    """Inject LoRA adapters into ``model`` in place and freeze the backbone; the task head stays trainable.

    The model keeps its class and forward (the adapters sit inside its linear
    layers), so the training loop and the pooling code run it unchanged.
    Parameters outside ``model.base_model`` (the head) train in full, unless they
    are tied to a backbone weight (a language-model head tied to the embeddings).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The model to adapt.
    lora : int or dict
        See :func:`lora_settings`.

    Returns
    -------
    wrapped : peft.PeftModel
        Hand it to :func:`merge_lora` after training.
    info : dict
        The LoRA settings, ``trainable`` and ``total`` parameter counts.

    Examples
    --------
    >>> from nlpipe.neural import add_lora, load_backbone, merge_lora, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> wrapped, info = add_lora(model, 2)
    >>> info["trainable"] < info["total"] / 10
    True
    >>> merge_lora(wrapped) is model, all(p.requires_grad for p in model.parameters())
    (True, True)
    """
    peft = _import_peft()
    settings = lora_settings(lora)
    arguments = dict(settings)
    if "exclude_modules" not in arguments:  # the task head trains in full, without an adapter of its own
        arguments["exclude_modules"] = _head_linears(model) or None
    try:
        config = peft.LoraConfig(**arguments)
        with warnings.catch_warnings():  # peft calls a transformers method deprecated in 5.x
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*gradient_checkpointing.*")
            wrapped = peft.get_peft_model(model, config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"LoRA could not be set up with {settings}: {exc}") from None
    backbone = {id(p) for p in model.base_model.parameters()}
    for p in model.parameters():
        if id(p) not in backbone:
            p.requires_grad_(True)
    counts = [(p.numel(), p.requires_grad) for p in model.parameters()]
    info = {**settings, "trainable": sum(n for n, t in counts if t), "total": sum(n for n, _ in counts)}
    if isinstance(info["target_modules"], set):
        info["target_modules"] = sorted(info["target_modules"])
    return wrapped, info


def _head_linears(model):
    """Names of the linear layers outside the backbone (the task head), which adapters leave alone."""
    backbone = model.base_model
    if backbone is model:
        return []
    inside = {id(m) for m in backbone.modules()}
    return [name for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and id(m) not in inside]


def merge_lora(wrapped):
    """Merge the adapters into the weights and return the plain model, every parameter trainable again.

    Parameters
    ----------
    wrapped : peft.PeftModel
        What :func:`add_lora` returned.

    Returns
    -------
    model : transformers.PreTrainedModel
        The adapted model, the same object :func:`add_lora` was given.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import add_lora, load_backbone, merge_lora, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2).eval()
    >>> wrapped, _ = add_lora(model, 2)
    >>> for name, p in model.named_parameters():  # a trained adapter: B is no longer zero
    ...     if "lora_B" in name:
    ...         _ = torch.nn.init.normal_(p)
    >>> batch = {"input_ids": torch.tensor([[2, 5, 6, 3]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    >>> adapted = model.eval()(**batch).logits  # eval: no adapter dropout
    >>> merged = merge_lora(wrapped)
    >>> bool(torch.allclose(merged(**batch).logits, adapted, atol=1e-5)), any("lora" in k for k in merged.state_dict())
    (True, False)
    """
    model = wrapped.merge_and_unload()
    for p in model.parameters():
        p.requires_grad_(True)
    return model


def adapter_bytes(wrapped):
    """The trained adapter and the task head of ``wrapped`` as safetensors bytes (before :func:`merge_lora`).

    Parameters
    ----------
    wrapped : peft.PeftModel
        What :func:`add_lora` returned, trained.

    Returns
    -------
    blob : bytes
        ``lora.<peft key>`` tensors (peft's adapter state dict) and ``head.<name>``
        tensors (the trainable parameters outside the adapters).

    Examples
    --------
    >>> from safetensors.torch import load
    >>> from nlpipe.neural import adapter_bytes, add_lora, load_backbone, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> wrapped, info = add_lora(model, 2)
    >>> names = sorted(load(adapter_bytes(wrapped)))
    >>> names[:2], len(names) == 2 * 6 * 2 + 2 + 2  # A and B of 6 linear layers in 2 layers, the pooler; the head
    (['head.classifier.bias', 'head.classifier.weight'], True)
    """
    from peft import get_peft_model_state_dict
    from safetensors.torch import save

    tensors = {f"lora.{k}": v for k, v in get_peft_model_state_dict(wrapped).items()}
    for name, p in wrapped.base_model.model.named_parameters():
        if p.requires_grad and "lora_" not in name:
            tensors[f"head.{name}"] = p
    return save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()})


def backbone_sha256(model):
    """SHA-256 of the backbone's weights (``model.base_model``), names and values: which base an adapter needs.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model (its head is left out).

    Returns
    -------
    digest : str
        Hex digest.

    Examples
    --------
    >>> from nlpipe.neural import backbone_sha256, load_backbone, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> path = make_tiny_backbone()
    >>> with quiet_transformers(0):
    ...     two = load_backbone(path, "sequence-classification", num_labels=2)
    ...     three = load_backbone(path, "sequence-classification", num_labels=3)
    >>> backbone_sha256(two) == backbone_sha256(three)  # the heads differ, the backbone does not
    True
    """
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in sorted(model.base_model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()


def merge_adapter(model, blob, settings):
    """Put a stored adapter and head (:func:`adapter_bytes`) on ``model`` (the base, loaded) and merge them.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The base model, with the fine-tuned model's config (head size).
    blob : bytes
        What :func:`adapter_bytes` returned.
    settings : dict
        The LoRA settings it was trained with (``lora_`` of the estimator).

    Returns
    -------
    model : transformers.PreTrainedModel
        The same object, adapted and merged.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import adapter_bytes, add_lora, load_backbone, merge_adapter, merge_lora, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> path = make_tiny_backbone()
    >>> with quiet_transformers(0):
    ...     trained, base = (load_backbone(path, "sequence-classification", num_labels=2) for _ in range(2))
    >>> wrapped, info = add_lora(trained, 2)
    >>> for name, p in trained.named_parameters():  # stands in for training
    ...     if p.requires_grad:
    ...         _ = torch.nn.init.normal_(p)
    >>> blob = adapter_bytes(wrapped)
    >>> trained = merge_lora(wrapped)
    >>> rebuilt = merge_adapter(base, blob, info)
    >>> all(torch.allclose(a, b, atol=1e-6) for a, b in zip(trained.state_dict().values(), rebuilt.state_dict().values()))
    True
    """
    from peft import set_peft_model_state_dict
    from safetensors.torch import load

    tensors = load(bytes(blob))
    wrapped, _ = add_lora(model, {k: v for k, v in settings.items() if k in _USER_KEYS})
    adapter = {k.removeprefix("lora."): v for k, v in tensors.items() if k.startswith("lora.")}
    result = set_peft_model_state_dict(wrapped, adapter)
    if getattr(result, "unexpected_keys", None):
        raise ValueError(f"The stored adapter has weights the model has no place for: {result.unexpected_keys[:5]}")
    head = {k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")}
    params = dict(model.named_parameters())
    for name, value in head.items():
        if name not in params or params[name].shape != value.shape:
            raise ValueError(f"The stored head weight {name!r} does not fit the model.")
        with torch.no_grad():
            params[name].copy_(value)
    return merge_lora(wrapped)
