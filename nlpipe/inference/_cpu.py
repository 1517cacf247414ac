"""What the CPU at hand can run fast: the instruction sets the int8 and bf16 kernels need."""

import functools
import platform

# /proc/cpuinfo flags that decide which kernels run: fp32 GEMM (avx2/avx512f), int8 dot products
# (avx512_vnni / avx_vnni; without them int8 runs on plain avx2 multiplies), bf16 (avx512_bf16, amx_bf16).
ISA_FLAGS = (
    "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
    "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16",
)


@functools.lru_cache(maxsize=1)
def cpu_features():
    """The CPU's model name and the instruction-set flags that matter for inference speed.

    Read from ``/proc/cpuinfo`` (Linux); elsewhere the model name is
    ``platform.processor()`` and the flags are empty, so every choice that depends
    on them falls back to measuring.

    Returns
    -------
    features : dict
        ``{"model": str, "flags": list of str, "int8": str, "bf16": bool}``: ``int8``
        is ``"amx"``, ``"vnni"`` or ``"avx2"`` (the kind of int8 kernels the CPU
        runs, ``"none"`` when unknown); ``bf16`` whether it has native bf16 arithmetic
        (``avx512_bf16`` or ``amx_bf16``).

    Examples
    --------
    >>> from nlpipe.inference import cpu_features
    >>> sorted(cpu_features())
    ['bf16', 'flags', 'int8', 'model']
    """
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    model = value.strip()
                elif key == "flags":
                    flags = set(value.split())
                if model and flags:
                    break
    except OSError:
        pass
    present = [flag for flag in ISA_FLAGS if flag in flags]
    if "amx_int8" in flags:
        int8 = "amx"
    elif "avx512_vnni" in flags or "avx_vnni" in flags:
        int8 = "vnni"
    elif "avx2" in flags:
        int8 = "avx2"
    else:
        int8 = "none"
    return {"model": model, "flags": present, "int8": int8, "bf16": bool({"avx512_bf16", "amx_bf16"} & flags)}
