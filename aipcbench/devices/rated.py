"""A device's rated power and peaks (catalog or formula), combined with what its probe measured.

Rated figures come from the catalog (each with its source). Where the catalog has no row (most
CPUs), the rated peak is computed from the measured clock (see ``devices.peak``) and the rated
power is either the user's ``--cpu-watts``/``--gpu-watts`` or an explicit, labelled assumption.
Torch-free: the measuring happens in a worker process (``probe.py``), this only combines.
"""

from __future__ import annotations

from typing import Any

from aipcbench.catalog import Catalog, DeviceSpec
from aipcbench.devices.peak import cpu_rated_peak
from aipcbench.results.device_facts import DeviceFacts
from aipcbench.results.record import QUANTIZED_DTYPES
from aipcbench.results.typed import RecordTypeError, from_plain

ASSUMED_CPU_W_PER_CORE = 10.0  # used only when nothing better is known, and labelled so


def _spec_for(device: dict[str, Any], catalog: Catalog) -> DeviceSpec | None:
    return catalog.spec_for_device_name(device.get("name", ""))


def _cite(spec: DeviceSpec) -> str:
    return f"catalog {spec.key} ({spec.basis}; {spec.source}; as of {spec.as_of})"


def rated_power(
    device: dict[str, Any], catalog: Catalog, cpu_watts: float | None, gpu_watts: float | None
) -> tuple[float | None, str]:
    """(watts, basis) for the energy estimate when no sensor exists."""
    override = cpu_watts if device["kind"] == "cpu" else gpu_watts
    if override:
        return override, "user-given --cpu-watts/--gpu-watts"
    spec = _spec_for(device, catalog)
    if spec is not None and spec.tdp_w:
        return spec.tdp_w, f"rated TDP, {_cite(spec)}"
    if device["kind"] == "cpu":
        cores = device.get("details", {}).get("physical_cores") or 1
        return (
            ASSUMED_CPU_W_PER_CORE * cores,
            f"ASSUMPTION: {ASSUMED_CPU_W_PER_CORE:g} W per physical core x {cores} "
            f"(no TDP for '{device.get('name')}' in the catalog; set --cpu-watts)",
        )
    return None, f"no rated power for '{device.get('name')}' in the catalog; set --gpu-watts"


# Weight-quantized cells dequantize into float arithmetic or use integer units whose peak the
# catalog does not hold: no MFU is claimed for them (decode is priced by bandwidth anyway).
QUANTIZED_PEAK_NOTE = "no peak for weight-quantized arithmetic (int8/int4): MFU not computed"


def rated_peaks(
    device: dict[str, Any], catalog: Catalog, measured: dict[str, Any], dtypes: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Per dtype: {"flop_per_s": dense peak or None, "source": how it was obtained}."""
    spec = _spec_for(device, catalog)
    peaks: dict[str, dict[str, Any]] = {}
    for dtype in dtypes:
        tflops = spec.peak_tflops(dtype) if spec is not None else None
        if dtype in QUANTIZED_DTYPES:
            peaks[dtype] = {"flop_per_s": None, "source": QUANTIZED_PEAK_NOTE}
        elif tflops:
            peaks[dtype] = {"flop_per_s": tflops * 1e12, "source": _cite(spec)}
        elif device["kind"] == "cpu" and measured.get("clock_ghz"):
            issued = measured.get("flops_per_cycle", {}).get(dtype, {})
            flops, formula = cpu_rated_peak(
                device.get("details", {}), measured["clock_ghz"], dtype, issued.get("flops_per_cycle")
            )
            if issued:
                formula += f"; issue rate: {issued['method']}"
            peaks[dtype] = {
                "flop_per_s": flops,
                "source": f"formula: {formula}; clock {measured.get('clock_method', '')}",
            }
        else:
            peaks[dtype] = {
                "flop_per_s": None,
                "source": f"no {dtype} peak for '{device.get('name')}' in the catalog",
            }
    return peaks


def device_facts(
    device: dict[str, Any],
    catalog: Catalog,
    probe: dict[str, Any],
    measured: dict[str, Any],
    dtypes: tuple[str, ...],
) -> DeviceFacts:
    """Everything the parent knows about a device for this run (stored in the results file).
    The probe's figures come from a child process: a figure of the wrong type is dropped and
    named in ``probe_error`` rather than stored."""
    facts = {
        "device": device["id"],
        "name": device.get("name"),
        "probe": probe,
        "spec_key": (s.key if (s := _spec_for(device, catalog)) else None),
        "clock_ghz": measured.get("clock_ghz"),
        "clock_method": measured.get("clock_method"),
        "flops_per_cycle": measured.get("flops_per_cycle", {}),
        "rated_peaks": rated_peaks(device, catalog, measured, dtypes),
        "measured_peaks": measured.get("measured_peaks", {}),
        "measured_bandwidth": measured.get("measured_bandwidth"),
        "rated_bandwidth_bytes_per_s": (
            spec.memory_bw_gbps * 1e9
            if (spec := _spec_for(device, catalog)) and spec.memory_bw_gbps
            else None
        ),
        "idle_power_w": measured.get("idle_power_w"),
        "idle_power_method": measured.get("idle_power_method"),
        "idle_note": measured.get("idle_note"),
        "probe_error": measured.get("error"),
    }
    try:
        return from_plain(DeviceFacts, facts, device["id"])
    except RecordTypeError as exc:
        keep = ("device", "name", "probe", "spec_key", "rated_peaks", "rated_bandwidth_bytes_per_s")
        return from_plain(DeviceFacts, {**{k: facts[k] for k in keep}, "probe_error": str(exc)})


def carbon_for(catalog: Catalog, region: str | None) -> dict[str, Any] | None:
    """Grid intensity for the region (default: the catalog's), with its source."""
    region = region or catalog.default_region
    row = catalog.electricity_value(region, "carbon")
    if row is None:
        return None
    return {
        "region": row.region,
        "g_per_kwh": row.value,
        "source": row.source,
        "as_of": row.as_of,
        "basis": row.basis,
    }
