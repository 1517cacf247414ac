"""Data-parallel training under ``torchrun``: joining the process group, FSDP2 sharding and unsharding."""

import os

import torch


def _distributed(device):
    """``(rank, world_size)``; joins the process group that ``torchrun`` describes in the environment.

    gloo on CPU, nccl on CUDA. ``(0, 1)`` outside torchrun.
    """
    import torch.distributed as dist

    if not dist.is_available():
        return 0, 1
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return 0, 1
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _fully_shard(model, offload):
    """FSDP2 in place: every encoder/decoder layer its own unit, then the whole model."""
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard

    kwargs = {"offload_policy": CPUOffloadPolicy()} if offload else {}
    layers = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    for layer_list in layers:
        for layer in layer_list:
            fully_shard(layer, **kwargs)
    fully_shard(model, **kwargs)


def is_sharded(model):
    """Whether ``model`` is sharded by FSDP (its submodules cannot be run on their own).

    Parameters
    ----------
    model : torch.nn.Module
        A model.

    Returns
    -------
    sharded : bool

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import is_sharded
    >>> is_sharded(torch.nn.Linear(2, 2))
    False
    """
    try:
        from torch.distributed.fsdp import FSDPModule
    except ImportError:
        return False
    return isinstance(model, FSDPModule)


def unshard(model):
    """A plain copy of an FSDP-sharded model with its full weights, on every process (a collective call).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model that :func:`train` sharded (``strategy="fsdp"`` under ``torchrun``).

    Returns
    -------
    model : transformers.PreTrainedModel
        Of the model's own class, unsharded, on CPU, in eval mode; ``model`` itself
        when it was not sharded.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import unshard
    >>> layer = torch.nn.Linear(2, 2)
    >>> unshard(layer) is layer
    True
    """
    if not is_sharded(model):
        return model
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
    from torch.distributed.fsdp import FSDPModule

    full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
    cls = next(c for c in type(model).__mro__[1:] if not issubclass(c, FSDPModule))
    with torch.device("cpu"):
        plain = cls(model.config)
    plain.load_state_dict({k: v.detach().to("cpu") for k, v in full.items()}, strict=False)
    if hasattr(plain, "tie_weights"):
        plain.tie_weights()
    if getattr(model, "generation_config", None) is not None:
        plain.generation_config = model.generation_config
    return plain.eval()


def _state_mib(model, optimizer):
    """MiB of this process's parameters, gradients and optimizer state (local shards under FSDP)."""
    def local(t):
        t = t.to_local() if hasattr(t, "to_local") else t
        return t.numel() * t.element_size()

    total = 0
    for p in model.parameters():  # a trainable parameter has a gradient of its size during each step
        total += local(p) * (2 if p.requires_grad else 1)
    for state in optimizer.state.values():
        total += sum(local(v) for v in state.values() if isinstance(v, torch.Tensor) and v.ndim > 0)
    return total / 2**20
