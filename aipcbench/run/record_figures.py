"""Figures a record gets in the parent from its device's facts: pure arithmetic, no torch.

Run after each cell returns, so the per-run device facts (rated and measured peaks, idle
power) and the carbon table are applied the same way to every record.

- achieved FLOP/s = FLOPs per step / median step time
- MFU (rated)     = achieved / the catalog's or formula's dense peak for the dtype
- MFU (measured)  = achieved / the large-GEMM peak measured on the device in this run
- energy per step = energy over the timed window / timed steps (the window spans exactly them)
- energy per run  = energy per step x steps per run (extrapolated, like the time per run)
- above idle      = (window energy - idle power x window time) / steps x steps per run
- CO2e per run    = energy per run (kWh) x grid intensity (g/kWh) of the chosen region
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aipcbench.results.device_facts import DeviceFacts
from aipcbench.results.record import Bandwidth, CellRecord, Energy, Flops
from aipcbench.units import J_PER_KWH


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _bandwidth(record: CellRecord, facts: DeviceFacts) -> Bandwidth | None:
    """Decode's weight stream against the device's bandwidth: the bound at batch 1."""
    stream = record.workload_metrics.get("decode_weight_stream_bytes_per_s")
    if not isinstance(stream, (int, float)) or not stream:
        return None
    return Bandwidth(
        float(stream),
        _ratio(stream, facts.measured_bandwidth_bytes_per_s),
        _ratio(stream, facts.rated_bandwidth_bytes_per_s),
    )


def _flops(record: CellRecord, facts: DeviceFacts, steps_per_run: float) -> Flops:
    counted = record.flops or Flops(None, "")
    per_step = counted.count_per_step
    achieved = _ratio(per_step, record.step_time.median_s)
    rated, measured = facts.rated_peaks.get(record.dtype), facts.measured_peaks.get(record.dtype)
    return replace(
        counted,
        count_per_item=_ratio(per_step, record.workload_facts.items_per_step),
        count_per_run=per_step * steps_per_run if per_step is not None else None,
        achieved_flop_per_s=achieved,
        rated_peak_flop_per_s=rated.flop_per_s if rated else None,
        rated_peak_source=rated.source if rated else None,
        measured_peak_flop_per_s=measured.flop_per_s if measured else None,
        measured_peak_method=measured.method if measured else None,
        mfu_rated=_ratio(achieved, rated.flop_per_s if rated else None),
        mfu_measured=_ratio(achieved, measured.flop_per_s if measured else None),
    )


def _energy(
    record: CellRecord, facts: DeviceFacts, steps_per_run: float, carbon: dict[str, Any] | None
) -> Energy:
    window = record.energy or Energy(None, None, None)
    steps = record.step_time.n
    per_step = _ratio(window.window_j, steps)
    per_run = per_step * steps_per_run if per_step is not None else None
    idle_w = facts.idle_power_w
    above = None
    if window.window_j is not None and idle_w is not None and window.window_s:
        above = max(window.window_j - idle_w * window.window_s, 0.0) / steps * steps_per_run
    co2e = source = None
    if per_run is not None and carbon:
        co2e = per_run / J_PER_KWH * carbon["g_per_kwh"]
        source = (
            f"{carbon['region']}: {carbon['g_per_kwh']:g} gCO2e/kWh ({carbon['source']}, {carbon['as_of']})"
        )
    return replace(
        window,
        per_step_j=per_step,
        per_run_j=per_run,
        per_run_above_idle_j=above,
        idle_power_w=idle_w,
        idle_power_method=facts.idle_power_method,
        co2e_g_per_run=co2e,
        co2e_source=source,
    )


def complete_record(record: CellRecord, facts: DeviceFacts, carbon: dict[str, Any] | None) -> CellRecord:
    """The record with its FLOP, energy and bandwidth figures (unchanged if it did not finish)."""
    if (
        record.status != "ok"
        or record.step_time is None
        or record.run is None
        or record.workload_facts is None
    ):
        return record
    steps_per_run = record.run.items_per_run / record.workload_facts.items_per_step
    return replace(
        record,
        run=replace(record.run, steps_per_run=steps_per_run),
        flops=_flops(record, facts, steps_per_run),
        energy=_energy(record, facts, steps_per_run, carbon),
        bandwidth=_bandwidth(record, facts),
    )
