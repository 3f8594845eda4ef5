"""float32 or bfloat16: which precision the encoder computes in on this CPU.

In ``"bfloat16"`` the weights are stored in bfloat16 and the matrix products
run in it, while the residual stream, layer norms, softmax and the pooled
output stay float32 (see :func:`.model.build_bert_model`). Storing the weights
in bfloat16, rather than Keras's ``mixed_bfloat16`` (float32 weights cast on
every call), halves their memory and skips the per-call casts. On CPUs with
native bfloat16 dot products (AVX-512 BF16 or AMX) that is markedly faster than
float32 and keeps every embedding within cosine 0.9999 of it; on other CPUs
bfloat16 is emulated and slower, so ``"auto"`` uses it only where the CPU says
it has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Precision = Literal["auto", "float32", "bfloat16"]
CPUINFO = Path("/proc/cpuinfo")
# CPU flags (as Linux names them) of native bfloat16 dot products.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
_POLICIES = {"float32": "float32", "bfloat16": "bfloat16"}
# What each policy computes in which dtype, for the log and the feature cache
# key: a change here changes the rows, so it must change the key too.
NUMERICS = {
    "float32": "float32 throughout",
    "bfloat16": "bfloat16 weights and matrix products; float32 residual stream, "
    "layer norms, softmax and pooling",
}


def cpu_bf16_flags(cpuinfo: Path = CPUINFO) -> list[str]:
    """The native bfloat16 flags the CPU reports; empty where unknown."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    flags = next(
        (
            line.split(":", 1)[1].split()
            for line in text.splitlines()
            if line.startswith("flags")
        ),
        [],
    )
    return [flag for flag in BF16_FLAGS if flag in flags]


def resolve_precision(
    precision: Precision = "auto", cpuinfo: Path = CPUINFO
) -> tuple[str, str]:
    """The Keras dtype policy for ``precision`` on this CPU, and why.

    Args:
        precision: ``"auto"`` (bfloat16 where the CPU has native support, else
            float32), ``"float32"`` or ``"bfloat16"`` (forced).
        cpuinfo: Where the CPU flags are read (Linux); absent means unknown,
            which ``"auto"`` treats as no bfloat16.

    Returns:
        ``(policy, reason)``: ``"float32"`` or ``"bfloat16"``, and a phrase
        for the log.

    Raises:
        ValueError: If ``precision`` is not one of the three names.
    """
    if precision == "auto":
        found = cpu_bf16_flags(cpuinfo)
        if found:
            return "bfloat16", f"auto: the CPU has {', '.join(found)}"
        return "float32", f"auto: the CPU has none of {', '.join(BF16_FLAGS)}"
    if precision not in _POLICIES:
        raise ValueError(
            f"precision must be 'auto', 'float32' or 'bfloat16', got {precision!r}"
        )
    return _POLICIES[precision], "as configured"
