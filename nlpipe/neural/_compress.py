"""Compressed torch models that survive pickling: dynamic int8 linear layers, half precision, sparse weights.

``torch.save`` of a dynamically quantized model keeps opaque packed-parameter objects,
and a state dict loaded into a freshly built float model silently drops the
quantization (pytorch #43016). Here a quantized layer is stored as plain tensors (its
int8 weight, scale, zero point and bias, all safetensors can hold) and rebuilt with
``torch.quantize_per_tensor`` / ``torch.quantize_per_channel`` from exactly those
numbers, so a reloaded model computes what the saved one did.
"""

import warnings

import torch


def _quantized_linear_types():
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

    return (DynamicQuantizedLinear,)


def quantize_dynamic_int8(model, modules=None):
    """Replace ``model``'s ``nn.Linear`` layers (or the named ``modules``) by dynamic int8 ones, in place.

    Weights are int8 with one scale per output row; activations are quantized on
    the fly per batch. CPU only (torch's fbgemm/x86 kernels).

    Parameters
    ----------
    model : torch.nn.Module
        Changed in place.
    modules : iterable of str or of module types, default=None
        Module names (or types) to quantize; every ``nn.Linear`` when None.

    Returns
    -------
    model : torch.nn.Module
        The same model.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import quantize_dynamic_int8, quantized_modules
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> model = quantize_dynamic_int8(model, ["2"])  # only the last layer
    >>> quantized_modules(model)
    ['2']
    >>> model(torch.ones(1, 8)).shape
    torch.Size([1, 2])
    """
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao; see docs/compression.md for the measured choice.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions", category=UserWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        targets = [torch.nn.Linear] if modules is None else modules
        qconfig = {target: per_channel_dynamic_qconfig for target in targets}
        return quantize_dynamic(model, qconfig, dtype=torch.qint8, inplace=True)


def quantized_modules(model):
    """Names of the dynamically quantized linear layers of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        Any model.

    Returns
    -------
    names : list of str
        Module names, in ``named_modules`` order; empty when nothing is quantized.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import quantize_dynamic_int8, quantized_modules
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> quantized_modules(model)
    []
    >>> quantized_modules(quantize_dynamic_int8(model))
    ['0', '2']
    """
    kinds = _quantized_linear_types()
    return [name for name, module in model.named_modules() if isinstance(module, kinds)]


def quantized_tensors(model):
    """Plain tensors of every quantized layer: ``{name}.qweight`` (int8), scales, zero points, bias."""
    out = {}
    modules = dict(model.named_modules())
    for name in quantized_modules(model):
        weight, bias = modules[name]._weight_bias()
        out[f"{name}.qweight"] = weight.int_repr().contiguous()
        if weight.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
            out[f"{name}.qscales"] = weight.q_per_channel_scales().to(torch.float64).contiguous()
            out[f"{name}.qzero_points"] = weight.q_per_channel_zero_points().to(torch.int64).contiguous()
        else:
            out[f"{name}.qscales"] = torch.tensor([weight.q_scale()], dtype=torch.float64)
            out[f"{name}.qzero_points"] = torch.tensor([weight.q_zero_point()], dtype=torch.int64)
        if bias is not None:
            out[f"{name}.qbias"] = bias.detach().contiguous()
    return out


def restore_quantized(model, names, tensors):
    """Quantize the layers ``names`` of a freshly built float ``model`` and set their stored int8 weights."""
    quantize_dynamic_int8(model, names)
    modules = dict(model.named_modules())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions", category=UserWarning)
        _set_int8_weights(modules, names, tensors)
    return model


def _set_int8_weights(modules, names, tensors):
    for name in names:
        q = tensors[f"{name}.qweight"]
        scales, zeros = tensors[f"{name}.qscales"], tensors[f"{name}.qzero_points"]
        if scales.numel() == 1 and q.shape[0] != 1:
            weight = torch.quantize_per_tensor(
                (q.float() - zeros.item()) * scales.item(), scales.item(), int(zeros.item()), torch.qint8
            )
        else:
            real = (q.to(torch.float64) - zeros[:, None]) * scales[:, None]
            weight = torch.quantize_per_channel(real.float(), scales, zeros, 0, torch.qint8)
        modules[name].set_weight_bias(weight, tensors.get(f"{name}.qbias"))


# ----------------------------------------------------------------------------- structured pruning
def encoder_layers(model):
    """``[(name, layer)]`` of a BERT-style encoder (attention.self.query/key/value, intermediate, output).

    Parameters
    ----------
    model : torch.nn.Module
        A BERT-style model (BERT, MiniLM, RoBERTa, ELECTRA), with or without a head.

    Returns
    -------
    layers : list of (str, torch.nn.Module)
        The transformer layers and their names.

    Raises
    ------
    TypeError
        If ``model`` has no such layers.

    Examples
    --------
    >>> from nlpipe.neural import encoder_layers, load_backbone, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    >>> [name for name, layer in encoder_layers(model)]
    ['bert.encoder.layer.0', 'bert.encoder.layer.1']
    """
    layers = [
        (name, module) for name, module in model.named_modules()
        if hasattr(module, "intermediate") and hasattr(module, "output")
        and hasattr(getattr(getattr(module, "attention", None), "self", None), "query")
    ]
    if not layers:
        raise TypeError(
            f"Structured pruning needs a BERT-style encoder (BERT, MiniLM, RoBERTa, ELECTRA: layers with "
            f"attention.self.query/key/value, intermediate.dense and output.dense); {type(model).__name__} has none."
        )
    return layers


def _linear_like(old, weight, bias):
    new = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None,
                          device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        new.weight.copy_(weight)
        if bias is not None:
            new.bias.copy_(bias)
    return new


def _keep_rows(linear, idx):
    return _linear_like(linear, linear.weight[idx], None if linear.bias is None else linear.bias[idx])


def _keep_cols(linear, idx):
    return _linear_like(linear, linear.weight[:, idx], linear.bias)


def structure(model):
    """``{layer: {"heads": n, "neurons": m}}``: the attention heads and feed-forward width of each layer.

    Parameters
    ----------
    model : torch.nn.Module
        A BERT-style model (see :func:`encoder_layers`).

    Returns
    -------
    sizes : dict of str to dict
        Per layer name, its number of attention heads and feed-forward neurons.

    Examples
    --------
    >>> from nlpipe.neural import load_backbone, quiet_transformers, structure
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "embedding")
    >>> structure(model)
    {'encoder.layer.0': {'heads': 2, 'neurons': 64}, 'encoder.layer.1': {'heads': 2, 'neurons': 64}}
    """
    return {
        name: {"heads": layer.attention.self.query.out_features // layer.attention.self.attention_head_size,
               "neurons": layer.intermediate.dense.out_features}
        for name, layer in encoder_layers(model)
    }


def keep_structure(model, keep):
    """Shrink each layer to the heads and neurons listed in ``keep`` (``{layer: {"heads": idx, "neurons": idx}}``)."""
    layers = dict(encoder_layers(model))
    for name, spec in keep.items():
        layer = layers[name]
        att = layer.attention.self
        if "heads" in spec:
            d = att.attention_head_size
            rows = torch.as_tensor([h * d + i for h in spec["heads"] for i in range(d)], dtype=torch.long)
            att.query, att.key, att.value = (_keep_rows(m, rows) for m in (att.query, att.key, att.value))
            att.num_attention_heads = len(spec["heads"])
            att.all_head_size = len(rows)
            layer.attention.output.dense = _keep_cols(layer.attention.output.dense, rows)
        if "neurons" in spec:
            idx = torch.as_tensor(list(spec["neurons"]), dtype=torch.long)
            layer.intermediate.dense = _keep_rows(layer.intermediate.dense, idx)
            layer.output.dense = _keep_cols(layer.output.dense, idx)
    return model


def prune_heads_and_neurons(model, amount, *, heads=True, neurons=True):
    """Remove the ``amount`` fraction of each layer's attention heads and/or feed-forward neurons, in place.

    Importance is weight magnitude (no data needed): a head's is the norm of its
    query/key/value rows and of its columns of the attention output projection;
    a neuron's is the product of the norms of its input row and output column.
    Every layer keeps at least one head and one neuron. The matrices shrink, so
    the model gets faster, not just sparser.

    Parameters
    ----------
    model : torch.nn.Module
        A BERT-style model (see :func:`encoder_layers`), changed in place.
    amount : float
        Share of each layer's heads and neurons to remove, in [0, 1).
    heads : bool, default=True
        Prune attention heads.
    neurons : bool, default=True
        Prune feed-forward neurons.

    Returns
    -------
    model : torch.nn.Module
        The same model, smaller.

    Examples
    --------
    >>> from nlpipe.neural import (collate, encode, load_backbone, load_tokenizer, prune_heads_and_neurons,
    ...                            quiet_transformers, structure)
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "embedding")
    >>> model = prune_heads_and_neurons(model, 0.5)
    >>> structure(model)
    {'encoder.layer.0': {'heads': 1, 'neurons': 32}, 'encoder.layer.1': {'heads': 1, 'neurons': 32}}
    >>> tokenizer = load_tokenizer(make_tiny_backbone())
    >>> batch = collate(encode(tokenizer, ["a great movie"], 16), tokenizer.pad_token_id, "cpu")
    >>> model(**batch).last_hidden_state.shape  # the hidden size stays
    torch.Size([1, 5, 32])
    """
    keep = {}
    with torch.no_grad():
        for name, layer in encoder_layers(model):
            att, spec = layer.attention.self, {}
            if heads:
                d = att.attention_head_size
                n = att.query.out_features // d
                score = sum(m.weight.reshape(n, d, -1).pow(2).sum(dim=(1, 2)) for m in (att.query, att.key, att.value))
                score = score + layer.attention.output.dense.weight.reshape(-1, n, d).pow(2).sum(dim=(0, 2))
                k = max(1, n - int(round(amount * n)))
                spec["heads"] = sorted(torch.topk(score, k).indices.tolist())
            if neurons:
                w_in, w_out = layer.intermediate.dense.weight, layer.output.dense.weight
                score = w_in.norm(dim=1) * w_out.norm(dim=0)
                k = max(1, len(score) - int(round(amount * len(score))))
                spec["neurons"] = sorted(torch.topk(score, k).indices.tolist())
            keep[name] = spec
    return keep_structure(model, keep)


def reshape_like(model, sizes):
    """Give a freshly built ``model`` the layer sizes of :func:`structure` output ``sizes`` (weights to be loaded)."""
    return keep_structure(model, {
        name: {"heads": range(s["heads"]), "neurons": range(s["neurons"])} for name, s in sizes.items()
    })


# ----------------------------------------------------------------------------- unstructured pruning
def magnitude_prune_linears(model, amount):
    """Zero the ``amount`` fraction of smallest-magnitude weights of every linear layer's matrix, in place.

    Parameters
    ----------
    model : torch.nn.Module
        Changed in place; biases are kept.
    amount : float
        Share of each weight matrix to zero, in [0, 1].

    Returns
    -------
    model : torch.nn.Module
        The same model.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import magnitude_prune_linears
    >>> layer = torch.nn.Linear(3, 2)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[1.0, -5.0, 2.0], [6.0, -0.5, 3.0]]))
    >>> magnitude_prune_linears(layer, 0.5).weight.tolist()
    [[0.0, -5.0, 0.0], [6.0, 0.0, 3.0]]
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                w = module.weight
                k = int(amount * w.numel())
                if k:
                    cut = w.abs().flatten().kthvalue(k).values
                    w.masked_fill_(w.abs() <= cut, 0.0)
    return model


# A matrix with at least this share of zeros is stored as a bitmask plus its non-zero values.
SPARSE_MIN_ZEROS = 0.25


def sparse_encode(state):
    """Replace mostly-zero matrices of ``state`` by ``{name}.mask`` (packed bits) and ``{name}.values``."""
    import numpy as np

    out, names = {}, []
    for name, t in state.items():
        if isinstance(t, torch.Tensor) and t.ndim == 2 and t.is_floating_point() and t.numel() >= 64 \
                and (t == 0).float().mean() >= SPARSE_MIN_ZEROS:
            nz = (t != 0).cpu().numpy()
            out[f"{name}.mask"] = torch.from_numpy(np.packbits(nz.ravel()))
            out[f"{name}.values"] = t[t != 0].detach().cpu().contiguous()
            out[f"{name}.shape"] = torch.tensor(list(t.shape), dtype=torch.int64)
            names.append(name)
        else:
            out[name] = t
    return out, names


def sparse_decode(tensors, names):
    """Inverse of :func:`sparse_encode` for the matrices ``names``."""
    import numpy as np

    from ..base import check_load_size

    out = dict(tensors)
    for name in names:
        try:
            shape, bits, values = out.pop(f"{name}.shape"), out.pop(f"{name}.mask"), out.pop(f"{name}.values")
        except KeyError:
            raise ValueError(f"Stored weights lack the sparse parts of {name!r}.") from None
        # The shape is read from the file: it must agree with the mask's length before anything is allocated.
        shape = tuple(int(d) for d in shape.tolist())
        size = int(np.prod(shape, dtype=np.int64)) if all(d >= 0 for d in shape) else -1
        if bits.dtype != torch.uint8 or not 8 * bits.numel() - 8 < size <= 8 * bits.numel():
            raise ValueError(f"Stored sparse matrix {name!r} has shape {shape}, which its mask does not cover.")
        check_load_size(size * values.element_size(), f"sparse matrix {name!r}")
        mask = np.unpackbits(bits.numpy())[:size].astype(bool)
        if int(mask.sum()) != values.numel():
            raise ValueError(f"Stored sparse matrix {name!r} has {values.numel()} values for {int(mask.sum())} "
                             "non-zeros.")
        dense = torch.zeros(size, dtype=values.dtype)
        dense[torch.from_numpy(mask)] = values
        out[name] = dense.reshape(shape)
    return out


# ----------------------------------------------------------------------------- int8 embedding tables
_INT8_MARK = "_nlpipe_int8_rows"


def quantize_embeddings_int8(model):
    """Round the word-embedding table to int8 with one scale per 32 values of a row (weight-only), in place.

    Lookups stay float32 (the rounded values); the pickle stores the int8 codes and
    the scales, so a reloaded table is bit-for-bit the same. Embedding tables are
    half of a small encoder's bytes, which linear-layer quantization leaves alone.

    Parameters
    ----------
    model : torch.nn.Module
        Its input embedding table (every ``nn.Embedding`` when it has no
        ``get_input_embeddings``) is rounded in place.

    Returns
    -------
    model : torch.nn.Module
        The same model.

    Examples
    --------
    >>> from nlpipe.neural import load_backbone, quantize_embeddings_int8, quiet_transformers
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with quiet_transformers(0):
    ...     model = load_backbone(make_tiny_backbone(), "embedding")
    >>> words = model.embeddings.word_embeddings.weight.detach().clone()
    >>> model = quantize_embeddings_int8(model)
    >>> rounded = model.embeddings.word_embeddings.weight.detach()
    >>> codes = rounded[10] / (rounded[10].abs().max() / 127)  # hidden size 32: one scale per row
    >>> bool((codes - codes.round()).abs().max() < 1e-3)  # every value is an int8 code times the scale
    True
    >>> bool((rounded - words).abs().max() <= words.abs().max() / 254 + 1e-6)  # half a step at most
    True
    """
    # Only the vocabulary table: it holds the bytes, while rounding the small position table cost
    # MiniLM a full point on SST-2 (0.8406 vs 0.8532; the word table alone 0.8463, per-row scales).
    table = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    tables = [table] if isinstance(table, torch.nn.Embedding) else [
        m for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    with torch.no_grad():
        for module in tables:
            if getattr(module, _INT8_MARK, None) is None:
                codes, scale = _int8_rows(module.weight.detach().float().cpu())
                module.weight.copy_(_from_int8_rows(codes, scale).to(module.weight.dtype))
                # The codes travel with the module (plain attributes: deep-copied, not in the state
                # dict), so the pickle stores exactly these numbers instead of re-deriving them.
                setattr(module, _INT8_MARK, (codes, scale))
    return model


# Scales per group of this many consecutive values in a row: an outlier dimension then coarsens 31
# neighbours instead of the whole row (0.125 extra bytes per value).
_GROUP = 32


def _int8_rows(weight):
    """int8 codes and float scales (one per group of ``_GROUP`` values of a row, or per row) of ``weight``."""
    n, d = weight.shape
    groups = weight.reshape(n, d // _GROUP, _GROUP) if d % _GROUP == 0 else weight.reshape(n, 1, d)
    scale = groups.abs().amax(dim=2, keepdim=True) / 127.0
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    codes = torch.round(groups / scale).clamp(-127, 127).to(torch.int8)
    return codes.reshape(n, d), scale


def _from_int8_rows(codes, scale):
    n, d = codes.shape
    return (codes.float().reshape(n, scale.shape[1], -1) * scale).reshape(n, d)


def int8_embedding_tensors(model):
    """``{name: module}`` of the int8-rounded embedding tables and their stored form (codes and scales)."""
    names, out = [], {}
    for name, module in model.named_modules():
        stored = getattr(module, _INT8_MARK, None)
        if stored is not None:
            out[f"{name}.weight_int8"], out[f"{name}.weight_scale"] = stored
            names.append(name)
    return names, out


def restore_int8_embeddings(model, names, tensors):
    """Set the embedding tables ``names`` from their int8 codes and scales, and mark them again."""
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name in names:
            module = modules[name]
            codes, scale = tensors[f"{name}.weight_int8"], tensors[f"{name}.weight_scale"]
            module.weight.copy_(_from_int8_rows(codes, scale).to(module.weight.dtype))
            setattr(module, _INT8_MARK, (codes, scale))
    return model
