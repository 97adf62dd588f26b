"""The CPU's real clock while it works, measured rather than read.

On virtual machines ``/proc/cpuinfo`` often shows the TSC rate (2.6 GHz on cores that run at
~3.6 GHz), and a peak computed from it would be 28 % low. The measurement: a chain of 64
dependent register-register additions (x = x + x) per loop iteration. Each addition waits for
the previous one, so the chain runs at exactly one addition per cycle on x86-64 and Arm cores,
whatever the loop overhead (which overlaps with the chain). Adds of an immediate are avoided:
recent Intel cores fold chains of those at register rename and would read 6x too fast.
cycles / seconds = GHz. The chain is compiled at run time with the system's C compiler;
without one, the nominal frequency is read and labelled.
"""

from __future__ import annotations

import ctypes
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

CHAIN = 64
SOURCE = r"""
#include <stdint.h>
uint64_t aipcbench_chain(uint64_t iterations) {
    uint64_t x = 1;
    for (uint64_t i = 0; i < iterations; i++) {
#if defined(__x86_64__)
        __asm__ volatile(
            REPEAT64("add %0, %0\n\t")
            : "+r"(x));
#elif defined(__aarch64__)
        __asm__ volatile(
            REPEAT64("add %0, %0, %0\n\t")
            : "+r"(x));
#else
#error unsupported architecture
#endif
    }
    return x;
}
"""
MACROS = (
    "#define REPEAT2(s) s s\n#define REPEAT4(s) REPEAT2(s) REPEAT2(s)\n"
    "#define REPEAT8(s) REPEAT4(s) REPEAT4(s)\n#define REPEAT16(s) REPEAT8(s) REPEAT8(s)\n"
    "#define REPEAT32(s) REPEAT16(s) REPEAT16(s)\n#define REPEAT64(s) REPEAT32(s) REPEAT32(s)\n"
)


def compile_library(directory: Path, name: str, code: str, flags: tuple[str, ...] = ()) -> ctypes.CDLL | None:
    """Compile C ``code`` into a shared library with the system's compiler; None if it cannot."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None or platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"):
        return None
    source, library = directory / f"{name}.c", directory / f"{name}.so"
    source.write_text(code)
    try:
        subprocess.run(
            [compiler, "-O2", *flags, "-shared", "-fPIC", "-o", str(library), str(source)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return ctypes.CDLL(str(library))
    except (OSError, subprocess.SubprocessError):
        return None


def _compile(directory: Path) -> ctypes.CDLL | None:
    lib = compile_library(directory, "chain", MACROS + SOURCE, ("-O1",))
    if lib is not None:
        lib.aipcbench_chain.argtypes = [ctypes.c_uint64]
        lib.aipcbench_chain.restype = ctypes.c_uint64
    return lib


def nominal_ghz() -> float | None:
    """The maximum frequency the OS reports (cpufreq), else /proc/cpuinfo's MHz."""
    try:
        khz = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()
        return int(khz) / 1e6
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) / 1000
    except (OSError, ValueError, IndexError):
        pass
    return None


def measure_clock_ghz(best_rate: Callable[..., float], seconds: float = 0.3) -> tuple[float | None, str]:
    """(GHz, method). Best of several short runs (``best_rate``, from ``devices.timing``: probes read
    no clock themselves): interruptions only ever make it look slower."""
    with tempfile.TemporaryDirectory(prefix="aipcbench-clock-") as tmp:
        lib = _compile(Path(tmp))
        if lib is None:
            ghz = nominal_ghz()
            return ghz, "read from the OS (no C compiler to measure it: may be the TSC rate)"
        best = best_rate(lib.aipcbench_chain, 200_000, CHAIN, seconds) / 1e9
        return best, f"measured: {CHAIN} dependent register adds per iteration, best of runs"
