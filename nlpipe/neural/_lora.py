"""LoRA adapters (``peft``) injected into a model for training, then merged back into its weights."""

import numbers

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


def lora_settings(lora, model_type):
    """The ``peft.LoraConfig`` arguments that ``lora`` (an int rank or a dict) stands for.

    Parameters
    ----------
    lora : int or dict
        The estimator's ``lora`` parameter: a rank, or LoraConfig arguments.
    model_type : str
        The backbone's ``config.model_type`` (picks the default target modules).

    Returns
    -------
    settings : dict
        ``r``, ``lora_alpha`` (default ``2 r``), ``lora_dropout`` (default 0.1),
        ``target_modules`` (default: peft's attention projections for the
        architecture, else ``"all-linear"``) and any other key given.

    Raises
    ------
    ValueError
        On a key LoraConfig does not take from users, or a rank below 1.

    Examples
    --------
    >>> from nlpipe.neural import lora_settings
    >>> lora_settings(8, "bert")
    {'r': 8, 'lora_alpha': 16, 'lora_dropout': 0.1, 'target_modules': ['query', 'value']}
    >>> lora_settings({"r": 4, "target_modules": ["dense"]}, "bert")["target_modules"]
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
    settings.setdefault("lora_dropout", 0.1)
    if settings.get("target_modules") is None:
        from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as targets

        found = targets.get(model_type)
        settings["target_modules"] = list(found) if found else "all-linear"
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
    >>> wrapped, info = add_lora(model, 4)
    >>> info["trainable"] < info["total"] / 10
    True
    >>> merge_lora(wrapped) is model, all(p.requires_grad for p in model.parameters())
    (True, True)
    """
    peft = _import_peft()
    settings = lora_settings(lora, getattr(model.config, "model_type", ""))
    try:
        config = peft.LoraConfig(**settings)
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
