"""The results file's schema history, and the chain that upgrades an older file step by step.

Bump ``SCHEMA_VERSION`` and add an upgrade step for every change that a reader of the previous
version would misread (the pyperf pattern). Older versions are upgraded on load; newer ones are
refused with a message that says to upgrade aipcbench, never guessed at.

- 1 (aipcbench 0.1.0): ``format``, ``schema_version``, ``run_id``, ``complete``, ``interrupted``,
  ``environment``, ``config`` and ``records``; each record holds a cell's options, status,
  per-step samples, summary, throughput and the extrapolated time per run.
- 2 (aipcbench 0.2.0): probes. Top level ``devices_measured`` (per device: rated and measured
  peaks, clock, idle power) and ``carbon``; per record FLOPs (``flops_per_step``,
  ``achieved_flops``, ``mfu_rated``...), memory, energy (``energy_j_per_run``...),
  ``co2e_g_per_run`` and throttling, as flat keys. Upgrading a v1 file sets them to null.
  Added later without a bump: ``cpu_denormals`` per record.
- 3 (aipcbench 0.3.0): the typed record (``aipcbench.results.record``). A record's figures sit
  in parts named for what they measure, with units in every field name: ``workload_facts``,
  ``timing``, ``step_time`` (``median_s``...), ``stability``, ``throughput``, ``run``
  (``time_s``, ``steps_per_run``), ``quality`` (with ``verdict``: valid, invalid or
  inconclusive), ``workload_metrics``, ``flops`` (``count_per_step``, ``achieved_flop_per_s``:
  ``flops`` no longer means a count in one place and a rate in another), ``memory``
  (``peak_bytes``), ``energy`` (``per_run_j``), ``bandwidth``, ``throttle``, ``data_parallel``.
  ``devices_measured`` peaks are ``flop_per_s``. Upgrading a v2 file moves every flat key into
  its part; a v2 quality gate's verdict is ``valid`` or ``invalid`` as it was judged then.
- 4 (aipcbench 0.5.0): serving. Top level ``serving``: one record per engine x model x
  quantization x device served under load (``aipcbench.results.serving``), with a level per
  load (TTFT, TPOT, ITL and E2E statistics, tokens/s, goodput, the requests themselves). Upgrading
  a v3 file adds an empty ``serving`` list: nothing was served then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FORMAT = "aipcbench-results"
SCHEMA_VERSION = 4

# Fields version 2 added to every record; a version-1 record did not measure them.
PROBE_FIELDS_V2 = (
    "flops_per_step",
    "flops_method",
    "flops_per_item",
    "flops_per_run",
    "steps_per_run",
    "achieved_flops",
    "peak_flops_rated",
    "peak_flops_rated_source",
    "peak_flops_measured",
    "peak_flops_measured_method",
    "mfu_rated",
    "mfu_measured",
    "peak_memory_bytes",
    "peak_memory_method",
    "energy_window_j",
    "energy_window_s",
    "energy_method",
    "energy_note",
    "energy_j_per_step",
    "energy_j_per_run",
    "energy_j_per_run_above_idle",
    "idle_power_w",
    "idle_power_method",
    "co2e_g_per_run",
    "co2e_source",
    "throttled",
    "throttle_reasons",
)


def _records(data: dict[str, Any]) -> list[Any]:
    records = data.get("records")
    return records if isinstance(records, list) else []


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("devices_measured", {})
    data.setdefault("carbon", None)
    for record in _records(data):
        if isinstance(record, dict):
            for key in PROBE_FIELDS_V2:
                record.setdefault(key, None)
    return data


def _pick(source: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """{new name: source[old name]} for the old names present."""
    return {new: source[old] for new, old in mapping.items() if old in source}


def _any_set(part: dict[str, Any]) -> bool:
    return any(value not in (None, "", [], {}) for value in part.values())


IDENTITY = ("cell", "workload", "size", "device", "dtype", "status", "reason", "compile", "nproc")


def _record_2_to_3(old: Any) -> Any:
    """One v2 record (flat keys) as a v3 record (parts). Anything that is not an object is
    left as it is, for the loader to refuse with its position.

    Longer than 60 lines: the version 2 -> 3 field map, read top to bottom as the schema change it
    documents.
    """
    if not isinstance(old, dict):
        return old
    new: dict[str, Any] = {k: old[k] for k in IDENTITY if k in old}
    new.update(_pick(old, {"wall_s": "wall_s", "cpu_denormals": "cpu_denormals"}))
    if "cell" not in new and all(isinstance(old.get(k), str) for k in ("workload", "size", "device")):
        new["cell"] = f"{old['workload']}:{old['size']}@{old['device']}/{old.get('dtype')}"
    if old.get("status") != "ok":
        return new
    facts = _pick(
        old,
        {
            "mode": "mode",
            "items_per_step": "items_per_step",
            "item_unit": "item_unit",
            "data_source": "data_source",
            "data_note": "data_note",
            "weights_source": "weights_source",
            "parameter_count": "parameters",
            "details": "details",
        },
    )
    new["workload_facts"] = facts or None
    for part in ("timing", "stability", "throughput"):
        if part in old:
            new[part] = old[part]
    summary = old.get("summary")
    if isinstance(summary, dict):
        new["step_time"] = {
            (
                key if key in ("n", "cv") else f"{key.replace('minimum', 'min').replace('maximum', 'max')}_s"
            ): value
            for key, value in summary.items()
        }
    run = old.get("run")
    if isinstance(run, dict):
        new["run"] = {
            **_pick(run, {"description": "description", "items_per_run": "items_per_run"}),
            **_pick(run, {"time_s": "seconds_per_run", "method": "method", "basis": "basis"}),
            "steps_per_run": old.get("steps_per_run"),
        }
    quality = old.get("quality")
    if isinstance(quality, dict):
        valid = quality.get("valid_run")
        new["quality"] = {**quality, "verdict": "valid" if valid is True else "invalid"}
    if old.get("metrics") is not None:
        new["workload_metrics"] = old["metrics"]
    flops = _pick(
        old,
        {
            "count_per_step": "flops_per_step",
            "method": "flops_method",
            "count_per_item": "flops_per_item",
            "count_per_run": "flops_per_run",
            "achieved_flop_per_s": "achieved_flops",
            "rated_peak_flop_per_s": "peak_flops_rated",
            "rated_peak_source": "peak_flops_rated_source",
            "measured_peak_flop_per_s": "peak_flops_measured",
            "measured_peak_method": "peak_flops_measured_method",
            "mfu_rated": "mfu_rated",
            "mfu_measured": "mfu_measured",
        },
    )
    if _any_set(flops):
        new["flops"] = {**flops, "method": flops.get("method") or ""}
    memory = _pick(
        old,
        {
            "peak_bytes": "peak_memory_bytes",
            "method": "peak_memory_method",
            "peak_reserved_bytes": "peak_memory_reserved_bytes",
            "device_used_bytes_nvml": "device_memory_used_bytes_nvml",
            "note": "device_memory_used_note",
            "process_peak_rss_bytes": "process_peak_rss_bytes",
        },
    )
    per_rank = old.get("peak_memory_per_rank")
    if isinstance(per_rank, list):
        memory["per_rank"] = [
            {
                **_pick(r, {"rank": "rank", "device": "device"}),
                "peak_bytes": r.get("peak_memory_bytes"),
                "method": r.get("peak_memory_method"),
            }
            if isinstance(r, dict)
            else r
            for r in per_rank
        ]
    if _any_set(memory):
        new["memory"] = {"peak_bytes": None, "method": None, **memory}
    energy = _pick(
        old,
        {
            "window_j": "energy_window_j",
            "window_s": "energy_window_s",
            "method": "energy_method",
            "note": "energy_note",
            "per_step_j": "energy_j_per_step",
            "per_run_j": "energy_j_per_run",
            "per_run_above_idle_j": "energy_j_per_run_above_idle",
            "idle_power_w": "idle_power_w",
            "idle_power_method": "idle_power_method",
            "co2e_g_per_run": "co2e_g_per_run",
            "co2e_source": "co2e_source",
        },
    )
    if _any_set(energy):
        new["energy"] = {
            "window_j": None,
            "window_s": None,
            "method": None,
            **energy,
            "note": energy.get("note") or "",
        }
    if old.get("decode_weight_stream_bytes_per_s"):
        new["bandwidth"] = _pick(
            old,
            {
                "decode_weight_stream_bytes_per_s": "decode_weight_stream_bytes_per_s",
                "utilisation_measured": "bandwidth_utilisation_measured",
                "utilisation_rated": "bandwidth_utilisation_rated",
            },
        )
    throttle = _pick(old, {"reasons": "throttle_reasons", "throttled": "throttled", "note": "throttle_note"})
    if _any_set(throttle):
        new["throttle"] = {"reasons": None, "throttled": None, **throttle, "note": throttle.get("note") or ""}
    if old.get("world_size"):
        new["data_parallel"] = _pick(
            old,
            {
                "world_size": "world_size",
                "backend": "backend",
                "items_per_rank_step": "items_per_rank_step",
                "scaling_efficiency": "scaling_efficiency",
                "scaling_baseline_items_per_s": "scaling_baseline_items_per_s",
            },
        )
    return new


def _peaks_2_to_3(peaks: Any) -> Any:
    if not isinstance(peaks, dict):
        return peaks
    return {
        dtype: (
            {("flop_per_s" if k == "flops" else k): v for k, v in peak.items()}
            if isinstance(peak, dict)
            else peak
        )
        for dtype, peak in peaks.items()
    }


def _upgrade_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    data["records"] = [_record_2_to_3(record) for record in _records(data)]
    devices = data.get("devices_measured")
    if isinstance(devices, dict):
        for facts in devices.values():
            if isinstance(facts, dict):
                for key in ("rated_peaks", "measured_peaks"):
                    if key in facts:
                        facts[key] = _peaks_2_to_3(facts[key])
                if facts.get("measured_bandwidth") == {}:
                    facts["measured_bandwidth"] = None
    return data


def _upgrade_3_to_4(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("serving", [])
    return data


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
    3: _upgrade_3_to_4,
}


def upgrade(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring a document of an older schema version up to ``SCHEMA_VERSION``, step by step."""
    while version < SCHEMA_VERSION:
        data = UPGRADES[version](data)
        version += 1
    data["schema_version"] = SCHEMA_VERSION
    return data
