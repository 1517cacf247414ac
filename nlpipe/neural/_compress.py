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
    """
    spec = {torch.nn.Linear} if modules is None else set(modules)
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao; see docs/compression.md for the measured choice.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions", category=UserWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        qconfig = {name: per_channel_dynamic_qconfig for name in spec} if modules is not None else None
        if qconfig is None:
            return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8,
                                    inplace=True)
        return quantize_dynamic(model, qconfig, dtype=torch.qint8, inplace=True)


def quantized_modules(model):
    """Names of the dynamically quantized linear layers of ``model``."""
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
