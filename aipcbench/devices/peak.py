"""Two peaks per device and dtype: the rated one and the one a large GEMM actually reaches.

Rated: from the device-spec catalog (dense, no sparsity; every row cites its source). CPUs
rarely have a row, so their rated peak is computed and the formula recorded:

    peak = physical cores x measured clock (GHz) x FLOPs per cycle per core

FLOPs per cycle follow from the SIMD width and FMA units the flags imply (an FMA is 2 FLOPs):
- AVX-512 on Intel: two 512-bit FMA units -> 2 x 16 lanes x 2 = 64 fp32 (some lower Xeon SKUs
  have one unit: the measured GEMM peak shows it);
- AVX-512 on AMD Zen 4: 512-bit ops on two 256-bit units -> 32 fp32; Zen 5 (has AVX-VNNI): 64;
- AVX2 + FMA: two 256-bit FMA units -> 32 fp32;
- Arm NEON: two 128-bit FMA units -> 16 fp32 (Apple P-cores have four -> 32);
- bf16/fp16: AVX512_BF16 / AVX512_FP16 dot products double the fp32 rate; AMX tiles give 1,024
  per core per cycle; without them the CPU converts to fp32 and the fp32 rate applies.
Where a register-only loop measured the core's issue rate (``cpuissue``), the table is
checked against it: a core that issues an instruction slower than its flags imply gets the
measured rate (rounded to the power of two it is nearest), and the formula says so.
The measured peak (a large GEMM on the device) is taken in the run part (``devices.probe``),
where every clock read goes through ``devices.timing``.
"""

from __future__ import annotations

import math
from typing import Any

AMX_FLOPS_PER_CYCLE = 1024


def cpu_flops_per_cycle(info: dict[str, Any], dtype: str, measured: float | None = None) -> tuple[int, str]:
    """(FLOPs per cycle per core, reason) for a CPU description from ``read_cpu_info``,
    checked against ``measured`` (FLOPs per cycle from a register-only loop) when given."""
    listed, why = _listed_flops_per_cycle(info, dtype)
    if not measured or measured <= 0 or listed == AMX_FLOPS_PER_CYCLE:  # the loop does not use AMX
        return listed, why
    issued = 2 ** round(math.log2(measured))
    if issued < listed:
        return issued, (
            f"{why}: the flags imply {listed}, but a register-only loop issues {measured:.0f} on this core"
        )
    return listed, f"{why}; a register-only loop issues {measured:.0f}"


def _listed_flops_per_cycle(info: dict[str, Any], dtype: str) -> tuple[int, str]:
    simd = set(info.get("simd", []))
    model = info.get("model", "")
    amd = "AMD" in model
    if "avx512f" in simd:
        if amd and "avx_vnni" not in simd:
            fp32, why = 32, "AVX-512 on two 256-bit units (AMD Zen 4)"
        else:
            fp32, why = 64, "two 512-bit FMA units (AVX-512)"
    elif "avx2" in simd and "fma" in simd:
        fp32, why = 32, "two 256-bit FMA units (AVX2)"
    elif "asimd" in simd:
        fp32, why = (
            (32, "four 128-bit NEON FMA units") if "Apple" in model else (16, "two 128-bit NEON FMA units")
        )
    else:
        fp32, why = 8, "no FMA SIMD detected: 128-bit multiply and add"
    if dtype == "bf16":
        if "amx_bf16" in simd:
            return AMX_FLOPS_PER_CYCLE, "AMX BF16 tiles"
        if "avx512_bf16" in simd:
            return 2 * fp32, why + " with AVX512_BF16 dot products (2x fp32)"
    if dtype == "fp16":
        if "amx_fp16" in simd:
            return AMX_FLOPS_PER_CYCLE, "AMX FP16 tiles"
        if "avx512_fp16" in simd:
            return 2 * fp32, why + " with AVX512_FP16 (2x fp32)"
    return fp32, why


def cpu_rated_peak(
    info: dict[str, Any], clock_ghz: float, dtype: str, measured_per_cycle: float | None = None
) -> tuple[float, str]:
    """(FLOP/s, formula text) for the CPU at the measured clock."""
    per_cycle, why = cpu_flops_per_cycle(info, dtype, measured_per_cycle)
    cores = info.get("physical_cores") or info.get("logical_cores") or 1
    flops = cores * clock_ghz * 1e9 * per_cycle
    formula = (
        f"{cores} cores x {clock_ghz:.2f} GHz (measured) x {per_cycle} {dtype} FLOP/cycle "
        f"({why}) = {flops / 1e9:.0f} GFLOP/s"
    )
    return flops, formula
