"""How many FLOPs one CPU core issues per cycle, measured with register-only loops.

The rated CPU peak is cores x clock x FLOPs per cycle, and the last factor is usually read off
the SIMD flags (``peak.cpu_flops_per_cycle``). Flags say an instruction exists, not how fast it
runs: on the 2-core AVX-512 Xeon this project was built on, ``vdpbf16ps`` issues at half the
rate of ``vfmadd`` (29 bf16 FLOP/cycle measured against 60 fp32), so a bf16 peak of "2x fp32"
from the flags was 4x too high and every bf16 MFU 4x too low.

The loops: 12 independent accumulators (more than latency x ports on any current core), each
updated by the instruction under test, compiled at run time for the instruction set the flags
name; no memory traffic, so they run at the core's issue rate. FLOPs per cycle = FLOP/s on
one core / measured clock; best of several runs (interruptions only ever make it look slower).
x86-64 only; elsewhere (or without a C compiler) the flags' table stands, and says so.
"""

from __future__ import annotations

import ctypes
import platform
import tempfile
from pathlib import Path
from typing import Any

from aipcbench.devices.cpuclock import compile_library

ACCUMULATORS = 12
HEADER = r"""
#include <immintrin.h>
#include <stdint.h>
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
"""
# dtype -> (flags that must all be present, compiler flags, FLOPs per instruction, loop body)
KERNELS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...], int, str]]] = {
    "fp32": [
        (
            ("avx512f",),
            ("-mavx512f",),
            2 * 16,
            r"""
#define DECL(i) __m512 c##i = _mm512_set1_ps((float)i);
#define STEP(i) c##i = _mm512_fmadd_ps(a, b, c##i);
#define SUM(i) s = _mm512_add_ps(s, c##i);
float aipcbench_issue(uint64_t n) {
    __m512 a = _mm512_set1_ps(1.0001f), b = _mm512_set1_ps(0.9999f), s = _mm512_setzero_ps();
    R12(DECL) for (uint64_t k = 0; k < n; k++) { R12(STEP) } R12(SUM)
    return _mm512_reduce_add_ps(s);
}""",
        ),
        (
            ("avx2", "fma"),
            ("-mavx2", "-mfma"),
            2 * 8,
            r"""
#define DECL(i) __m256 c##i = _mm256_set1_ps((float)i);
#define STEP(i) c##i = _mm256_fmadd_ps(a, b, c##i);
#define SUM(i) s = _mm256_add_ps(s, c##i);
float aipcbench_issue(uint64_t n) {
    __m256 a = _mm256_set1_ps(1.0001f), b = _mm256_set1_ps(0.9999f), s = _mm256_setzero_ps();
    R12(DECL) for (uint64_t k = 0; k < n; k++) { R12(STEP) } R12(SUM)
    float out[8]; _mm256_storeu_ps(out, s); return out[0];
}""",
        ),
    ],
    "bf16": [
        (
            ("avx512_bf16",),
            ("-mavx512f", "-mavx512bf16"),
            2 * 32,
            r"""
#define DECL(i) __m512 c##i = _mm512_set1_ps((float)i);
#define STEP(i) c##i = _mm512_dpbf16_ps(c##i, x, y);
#define SUM(i) s = _mm512_add_ps(s, c##i);
float aipcbench_issue(uint64_t n) {
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3f80);
    __m512 s = _mm512_setzero_ps();
    R12(DECL) for (uint64_t k = 0; k < n; k++) { R12(STEP) } R12(SUM)
    return _mm512_reduce_add_ps(s);
}""",
        )
    ],
    "fp16": [
        (
            ("avx512_fp16",),
            ("-mavx512f", "-mavx512fp16"),
            2 * 32,
            r"""
#define DECL(i) __m512h c##i = _mm512_set1_ph((_Float16)0.001f * i);
#define STEP(i) c##i = _mm512_fmadd_ph(a, b, c##i);
#define SUM(i) s = _mm512_add_ph(s, c##i);
float aipcbench_issue(uint64_t n) {
    __m512h a = _mm512_set1_ph((_Float16)1.0f), b = _mm512_set1_ph((_Float16)0.0001f);
    __m512h s = _mm512_setzero_ph();
    R12(DECL) for (uint64_t k = 0; k < n; k++) { R12(STEP) } R12(SUM)
    return (float)_mm512_reduce_add_ph(s);
}""",
        )
    ],
}


def _run_best(lib: ctypes.CDLL, flops_per_iteration: int, seconds: float, best_rate) -> float:
    """Best FLOP/s of repeated short runs on this (one) thread."""
    lib.aipcbench_issue.argtypes = [ctypes.c_uint64]
    lib.aipcbench_issue.restype = ctypes.c_float
    return best_rate(lib.aipcbench_issue, 400_000, flops_per_iteration, seconds)


def measure_flops_per_cycle(
    simd: set[str], clock_ghz: float | None, dtypes: list[str], best_rate, seconds: float = 0.15
) -> dict[str, dict[str, Any]]:
    """Per dtype: FLOPs per cycle one core issues, and how that was measured.

    Only dtypes with a kernel for this CPU's flags appear; an absent dtype means "not measured".
    """
    if not clock_ghz or platform.machine() not in ("x86_64", "AMD64"):
        return {}
    found: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="aipcbench-issue-") as tmp:
        for dtype in dtypes:
            for needs, flags, per_instruction, body in KERNELS.get(dtype, []):
                if not set(needs) <= simd:
                    continue
                lib = compile_library(Path(tmp), f"issue_{dtype}", HEADER + body, flags)
                if lib is None:
                    break
                flops = _run_best(lib, ACCUMULATORS * per_instruction, seconds, best_rate)
                found[dtype] = {
                    "flops_per_cycle": flops / (clock_ghz * 1e9),
                    "method": (
                        f"register-only loop of {'+'.join(needs)} instructions on one core, "
                        f"{flops / 1e9:.0f} GFLOP/s at {clock_ghz:.2f} GHz"
                    ),
                }
                break
    return found
