"""Figures derived from a cell's record and its device's facts: pure arithmetic, no torch.

Run in the parent after each cell returns, so the per-run device facts (rated and measured
peaks, idle power) and the carbon table are applied the same way to every record.

- achieved FLOP/s = FLOPs per step / median step time
- MFU (rated)     = achieved / the catalog's or formula's dense peak for the dtype
- MFU (measured)  = achieved / the large-GEMM peak measured on the device in this run
- energy per step = energy over the timed window / timed steps (the window spans exactly them)
- energy per run  = energy per step x steps per run (extrapolated, like the time per run)
- above idle      = (window energy - idle power x window time) / steps x steps per run
- CO2e per run    = energy per run (kWh) x grid intensity (g/kWh) of the chosen region
"""

from __future__ import annotations

from typing import Any

J_PER_KWH = 3.6e6


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _bandwidth(record: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Decode's weight stream against the device's bandwidth: the bound at batch 1."""
    stream = (record.get("metrics") or {}).get("decode_weight_stream_bytes_per_s")
    if not stream:
        return {}
    measured = (facts.get("measured_bandwidth") or {}).get("bytes_per_s")
    rated = facts.get("rated_bandwidth_bytes_per_s")
    return {
        "decode_weight_stream_bytes_per_s": stream,
        "bandwidth_utilisation_measured": _ratio(stream, measured),
        "bandwidth_utilisation_rated": _ratio(stream, rated),
    }


def derive(
    record: dict[str, Any], facts: dict[str, Any] | None, carbon: dict[str, Any] | None
) -> dict[str, Any]:
    """The derived fields for one record (empty for cells that did not finish)."""
    if record.get("status") != "ok" or not record.get("summary"):
        return {}
    facts = facts or {}
    dtype = record["dtype"]
    median = record["summary"]["median"]
    steps = record["summary"]["n"]
    items_per_step = record["items_per_step"]
    steps_per_run = record["run"]["items_per_run"] / items_per_step
    flops_per_step = record.get("flops_per_step")
    achieved = _ratio(flops_per_step, median)
    rated = (facts.get("rated_peaks") or {}).get(dtype) or {}
    measured = (facts.get("measured_peaks") or {}).get(dtype) or {}
    out: dict[str, Any] = {
        "steps_per_run": steps_per_run,
        "flops_per_item": _ratio(flops_per_step, items_per_step),
        "flops_per_run": flops_per_step * steps_per_run if flops_per_step is not None else None,
        "achieved_flops": achieved,
        "peak_flops_rated": rated.get("flops"),
        "peak_flops_rated_source": rated.get("source"),
        "peak_flops_measured": measured.get("flops"),
        "peak_flops_measured_method": measured.get("method"),
        "mfu_rated": _ratio(achieved, rated.get("flops")),
        "mfu_measured": _ratio(achieved, measured.get("flops")),
    }
    window_j = record.get("energy_window_j")
    window_s = record.get("energy_window_s")
    idle_w = facts.get("idle_power_w")
    per_step = _ratio(window_j, steps)
    out.update(
        energy_j_per_step=per_step,
        energy_j_per_run=per_step * steps_per_run if per_step is not None else None,
        idle_power_w=idle_w,
        idle_power_method=facts.get("idle_power_method"),
    )
    above = None
    if window_j is not None and idle_w is not None and window_s:
        above = max(window_j - idle_w * window_s, 0.0) / steps * steps_per_run
    out["energy_j_per_run_above_idle"] = above
    out.update(_bandwidth(record, facts))
    if out["energy_j_per_run"] is not None and carbon:
        out["co2e_g_per_run"] = out["energy_j_per_run"] / J_PER_KWH * carbon["g_per_kwh"]
        out["co2e_source"] = (
            f"{carbon['region']}: {carbon['g_per_kwh']:g} gCO2e/kWh ({carbon['source']}, {carbon['as_of']})"
        )
    else:
        out["co2e_g_per_run"] = None
        out["co2e_source"] = None
    return out
