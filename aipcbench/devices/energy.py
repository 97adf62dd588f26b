"""Energy over the timed window, from the best sensor available, with its method recorded.

Order of preference (``select_meter``):
1. ``nvml-counter``: NVIDIA's cumulative energy counter (mJ, Volta and newer), read at the two
   window boundaries. It updates about every 100 ms, so a shorter window reads as unchanged.
2. ``nvml-power``: instantaneous board power sampled by a background thread and integrated
   (trapezoids), for GPUs without the counter.
3. ``rapl``: the CPU package (and DRAM) energy counters in /sys/class/powercap, wraparound
   reconstructed from ``max_energy_range_uj``. They count the whole package, other processes
   included. Root-only on most kernels since CVE-2020-8694.
4. ``estimate-tdp``: rated power x measured utilisation x time. An estimate, labelled so.

A reading never comes back negative or as a silent zero: a counter that did not move, went
backwards or failed mid-window gives ``joules=None`` and a note saying why.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.errors import ProbeUnavailable

RAPL_ROOT = Path("/sys/class/powercap")
RAPL_FIX = (
    "RAPL energy counters are root-only: run as root or "
    "`sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj` to measure CPU energy"
)


@dataclass(frozen=True)
class EnergyReading:
    """One closed window's energy. ``joules`` is None when the sensor could not tell."""

    joules: float | None
    window_s: float
    method: str
    note: str = ""

    @property
    def average_power_w(self) -> float | None:
        if self.joules is None or self.window_s <= 0:
            return None
        return self.joules / self.window_s


class _Meter:
    """Start/stop around a window; ``stop`` returns the complete, immutable reading."""

    method = "none"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> EnergyReading:
        raise NotImplementedError


def _nvml_error_name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class NvmlCounterMeter(_Meter):
    method = "nvml-counter"

    def __init__(self, nvml: Any, handle: Any, clock=time.monotonic):
        self.nvml, self.handle, self.clock = nvml, handle, clock
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        except Exception as exc:  # NOT_SUPPORTED on pre-Volta GPUs, or no permission
            raise ProbeUnavailable(f"NVML energy counter: {_nvml_error_name(exc)}") from None

    def start(self) -> None:
        self._start_t = self.clock()
        self._start_mj = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)

    def stop(self) -> EnergyReading:
        window = self.clock() - self._start_t
        try:
            end_mj = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        except Exception as exc:
            return EnergyReading(None, window, self.method, f"NVML error mid-window: {_nvml_error_name(exc)}")
        delta = end_mj - self._start_mj
        if delta < 0:
            note, joules = f"counter went backwards ({self._start_mj} -> {end_mj} mJ)", None
        elif delta == 0:
            note, joules = (
                (
                    f"counter unchanged over {window:.3f} s: below the sensor's "
                    "resolution (it updates about every 100 ms)"
                ),
                None,
            )
        else:
            note, joules = "", delta / 1000.0
        return EnergyReading(joules, window, self.method, note)


class NvmlPowerMeter(_Meter):
    """Integrates sampled board power; the thread only wakes every ``interval_s``."""

    method = "nvml-power"

    def __init__(self, nvml: Any, handle: Any, interval_s: float = 0.02, clock=time.monotonic):
        self.nvml, self.handle, self.interval_s, self.clock = nvml, handle, interval_s, clock
        try:
            nvml.nvmlDeviceGetPowerUsage(handle)
        except Exception as exc:
            raise ProbeUnavailable(f"NVML power readings: {_nvml_error_name(exc)}") from None

    def _sample(self) -> None:
        try:
            self.samples.append((self.clock(), self.nvml.nvmlDeviceGetPowerUsage(self.handle)))
        except Exception as exc:
            self.error = _nvml_error_name(exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def start(self) -> None:
        self.error = ""
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._start_t = self.clock()
        self._sample()
        if self.samples:
            self._start_t = self.samples[0][0]  # the window is what the samples span
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> EnergyReading:
        self._stop.set()
        self._thread.join()
        self._sample()
        window = (self.samples[-1][0] if self.samples else self.clock()) - self._start_t
        if self.error:
            return EnergyReading(None, window, self.method, f"NVML error mid-window: {self.error}")
        elif len(self.samples) < 2:
            return EnergyReading(None, window, self.method, "fewer than 2 power samples")
        else:
            joules = sum(
                (t1 - t0) * (p0 + p1) / 2000.0  # mW -> W, trapezoid
                for (t0, p0), (t1, p1) in zip(self.samples, self.samples[1:])
            )
            return EnergyReading(joules, window, self.method, f"{len(self.samples)} samples integrated")


@dataclass(frozen=True)
class RaplZone:
    name: str
    energy_path: Path
    max_range_uj: int


def rapl_zones(root: Path = RAPL_ROOT) -> list[RaplZone]:
    """Package and DRAM zones; raises ProbeUnavailable if absent or unreadable."""
    zones = []
    for zone in sorted(root.glob("intel-rapl:*")):
        try:
            name = (zone / "name").read_text().strip()
        except OSError:
            continue
        if not (name.startswith("package") or name == "dram"):
            continue
        energy = zone / "energy_uj"
        try:
            energy.read_text()
            max_range = int((zone / "max_energy_range_uj").read_text())
        except PermissionError:
            raise ProbeUnavailable(RAPL_FIX) from None
        except (OSError, ValueError) as exc:
            raise ProbeUnavailable(f"RAPL zone {zone.name} unreadable: {exc}") from None
        zones.append(RaplZone(f"{zone.name}:{name}", energy, max_range))
    if not zones:
        raise ProbeUnavailable(f"no RAPL package zones under {root}")
    return zones


def rapl_delta_uj(start: int, end: int, max_range_uj: int) -> int:
    """Counter difference with one wraparound reconstructed (the counter restarts at 0)."""
    return end - start if end >= start else end + max_range_uj - start


class RaplMeter(_Meter):
    method = "rapl"

    def __init__(self, root: Path = RAPL_ROOT, clock=time.monotonic):
        self.zones = rapl_zones(root)
        self.clock = clock

    def _read(self) -> list[int]:
        return [int(zone.energy_path.read_text()) for zone in self.zones]

    def start(self) -> None:
        self._start_t = self.clock()
        self._start = self._read()

    def stop(self) -> EnergyReading:
        window = self.clock() - self._start_t
        try:
            end = self._read()
        except (OSError, ValueError) as exc:
            return EnergyReading(None, window, self.method, f"RAPL read failed: {exc}")
        total = sum(rapl_delta_uj(s, e, z.max_range_uj) for s, e, z in zip(self._start, end, self.zones))
        zones = ", ".join(z.name for z in self.zones)
        if total == 0:
            return EnergyReading(
                None, window, self.method, f"counters unchanged over {window:.3f} s ({zones})"
            )
        else:
            return EnergyReading(
                total / 1e6, window, self.method, f"whole package, other processes included ({zones})"
            )


class TdpEstimateMeter(_Meter):
    """rated watts x utilisation x time; utilisation from this process's CPU time (CPU) or
    assumed full (accelerators without a power sensor)."""

    method = "estimate-tdp"

    def __init__(
        self,
        rated_w: float,
        basis: str,
        logical_cores: int | None = None,
        clock=time.monotonic,
        cpu_time=None,
    ):
        self.rated_w, self.basis, self.logical_cores = rated_w, basis, logical_cores
        self.clock = clock
        self.cpu_time = cpu_time or (lambda: sum(os.times()[:4]))

    def start(self) -> None:
        self._start_t, self._start_cpu = self.clock(), self.cpu_time()

    def stop(self) -> EnergyReading:
        window = self.clock() - self._start_t
        if self.logical_cores:
            busy = (self.cpu_time() - self._start_cpu) / max(window * self.logical_cores, 1e-12)
            utilisation = min(max(busy, 0.0), 1.0)
            how = f"CPU utilisation {utilisation:.0%} of {self.logical_cores} logical cores"
        else:
            utilisation, how = 1.0, "utilisation assumed 100% (no sensor)"
        joules = self.rated_w * utilisation * window
        return EnergyReading(
            joules if joules > 0 else None,
            window,
            self.method,
            f"ESTIMATE: {self.rated_w:g} W ({self.basis}) x {how}",
        )


def select_meter(
    device_kind: str,
    *,
    rated_w: float | None,
    rated_basis: str,
    logical_cores: int | None = None,
    nvml: Any = None,
    nvml_handle: Any = None,
    rapl_root: Path = RAPL_ROOT,
) -> tuple[_Meter | None, list[str]]:
    """The best meter for a device, and notes on each better method that was unavailable."""
    notes: list[str] = []
    if device_kind == "cuda" and nvml is not None and nvml_handle is not None:
        for meter_class in (NvmlCounterMeter, NvmlPowerMeter):
            try:
                return meter_class(nvml, nvml_handle), notes
            except ProbeUnavailable as exc:
                notes.append(str(exc))
    if device_kind == "cpu":
        try:
            return RaplMeter(rapl_root), notes
        except ProbeUnavailable as exc:
            notes.append(str(exc))
    if rated_w:
        cores = logical_cores if device_kind == "cpu" else None
        return TdpEstimateMeter(rated_w, rated_basis, cores), notes
    notes.append("no energy sensor and no rated power: energy not measured")
    return None, notes
