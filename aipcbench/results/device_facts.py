"""What a run measured and looked up about each device: peaks, bandwidth, clock, idle power.

Stored once per device at the top of a results file (``devices_measured``); the records'
utilisation and energy figures, and the estimator of other devices' run times, are computed
from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RatedPeak:
    """A dense peak from the catalog (cited) or the CPU formula (written out)."""

    flop_per_s: float | None
    source: str


@dataclass(frozen=True)
class MeasuredPeak:
    """The FLOP/s a large GEMM reaches on the device in this run."""

    flop_per_s: float | None
    method: str
    size: int | None = None
    repeats: int | None = None


@dataclass(frozen=True)
class MeasuredBandwidth:
    bytes_per_s: float | None
    method: str


@dataclass(frozen=True)
class DeviceFacts:
    device: str
    name: str | None = None
    probe: dict[str, Any] = field(default_factory=dict)
    spec_key: str | None = None
    clock_ghz: float | None = None
    clock_method: str | None = None
    flops_per_cycle: dict[str, Any] = field(default_factory=dict)
    rated_peaks: dict[str, RatedPeak] = field(default_factory=dict)
    measured_peaks: dict[str, MeasuredPeak] = field(default_factory=dict)
    measured_bandwidth: MeasuredBandwidth | None = None
    rated_bandwidth_bytes_per_s: float | None = None
    idle_power_w: float | None = None
    idle_power_method: str | None = None
    idle_note: str | None = None
    probe_error: str | None = None

    def rated_peak_flop_per_s(self, dtype: str) -> float | None:
        peak = self.rated_peaks.get(dtype)
        return peak.flop_per_s if peak else None

    def measured_peak_flop_per_s(self, dtype: str) -> float | None:
        peak = self.measured_peaks.get(dtype)
        return peak.flop_per_s if peak else None

    @property
    def measured_bandwidth_bytes_per_s(self) -> float | None:
        return self.measured_bandwidth.bytes_per_s if self.measured_bandwidth else None


NO_FACTS = DeviceFacts(device="")  # the null object: a record whose device was not probed
