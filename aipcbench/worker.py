"""The child process that measures one cell: ``main([SPEC.json, RECORD.json])``, in a fork of the
cell server (``aipcbench.forkserver``) or as ``python -m aipcbench.worker SPEC.json RECORD.json``.

Each cell runs in its own process so that a crash, an out-of-memory kill or a hang costs that
cell only, and so that one workload's allocator state, threads or compiled kernels never leak
into the next one's timings. The worker writes its record (success or a classified failure)
atomically to RECORD.json; if it dies before that, the parent records why.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aipcbench import distributed
from aipcbench.atomic import write_text_atomic
from aipcbench.config import Cell
from aipcbench.probes import flops as flops_probe
from aipcbench.probes.energy import select_meter
from aipcbench.probes.flops import count_step_flops
from aipcbench.probes.memory import MemoryProbe
from aipcbench.probes.nvml import open_device, throttle_reasons
from aipcbench.results import dumps
from aipcbench.stats import Summary
from aipcbench.timing import Measurement, TimingPolicy, measure


def stability(samples: list[float]) -> dict[str, Any] | None:
    """Median of the first and last tenth of the timed steps: a drift above 2 % means the
    warm-up was too short (or the machine changed speed under the run)."""
    if len(samples) < 10:
        return None
    tenth = len(samples) // 10
    first, last = statistics.median(samples[:tenth]), statistics.median(samples[-tenth:])
    return {
        "first_decile_median_s": first,
        "last_decile_median_s": last,
        "drift": first / last - 1.0 if last > 0 else None,
    }


def summarise(prepared: Any, measurement: Measurement, items_per_step: int | None = None) -> dict[str, Any]:
    """Step-time statistics, throughput and the extrapolated time per run."""
    items_per_step = items_per_step or prepared.items_per_step
    summary = Summary.from_samples(list(measurement.samples_s))
    items_per_s = items_per_step / summary.median if summary.median > 0 else None
    total_items = items_per_step * summary.n
    items_per_s_mean = total_items / measurement.window_s if measurement.window_s > 0 else None
    seconds_per_run = prepared.run.items_per_run / items_per_s if items_per_s else None
    return {
        "summary": summary.to_dict(),
        "stability": stability(list(measurement.samples_s)),
        "throughput": {"items_per_s": items_per_s, "items_per_s_mean": items_per_s_mean},
        "run": {
            "description": prepared.run.description,
            "items_per_run": prepared.run.items_per_run,
            "seconds_per_run": seconds_per_run,
            "method": "extrapolated",
            "basis": "items per run / median-step throughput",
        },
    }


def quality(loss_initial: float | None, loss_start: float | None, loss_end: float | None):
    """The training quality gate: did the loss fall below the untrained model's?

    Compared with the untrained loss rather than the loss at the start of the timed window,
    because a small problem may already sit at its noise floor after warm-up; a model that
    does not learn at all still fails the gate.
    """
    if loss_initial is None:
        return None
    finite = all(
        v is not None and v == v and abs(v) != float("inf") for v in (loss_initial, loss_start, loss_end)
    )
    fell = bool(finite and loss_end < loss_initial)
    return {
        "loss_initial": loss_initial,
        "loss_start": loss_start,
        "loss_end": loss_end,
        "loss_fell": fell,
        "valid_run": fell,
        "rule": "loss after the timed steps < loss of the untrained model, all finite",
    }


def _workload_fields(prepared: Any) -> dict[str, Any]:
    """What the workload says about itself, copied into every record."""
    return {
        "mode": prepared.mode,
        "items_per_step": prepared.items_per_step,
        "item_unit": prepared.item_unit,
        "data_source": prepared.data_source,
        "data_note": prepared.data_note,
        "weights_source": prepared.weights_source,
        "parameters": prepared.parameters,
        "details": prepared.details,
    }


def _timing(
    spec: dict[str, Any], setup_s: float, first_step_s: float, measurement: Measurement, warmup_s
) -> dict[str, Any]:
    return {
        "policy": spec["policy"],
        "setup_s": setup_s,
        "first_step_s": first_step_s,
        "warmup_samples_s": list(warmup_s),
        "samples_s": list(measurement.samples_s),
        "window_s": measurement.window_s,
        "stopped_by": measurement.stopped_by,
    }


@dataclass(frozen=True)
class CellFigures:
    """What one process measured for a cell, before any aggregation across ranks."""

    measurement: Measurement
    warmup_s: tuple[float, ...]
    energy: Any  # EnergyReading or None
    memory: dict[str, Any]
    losses: tuple[float | None, float | None, float | None]  # initial, start, end
    flops_per_step: int | None
    flops_note: str
    setup_s: float
    first_step_s: float
    device_id: str


def _finish(record: dict[str, Any], started: float) -> dict[str, Any]:
    quality_gate = record.get("quality")
    if quality_gate is not None and not quality_gate["valid_run"]:
        record["reason"] = "loss did not fall: cost per run is not a valid run"
    record["wall_s"] = time.perf_counter() - started
    return record


def _ddp_record(
    record: dict[str, Any],
    rank: Any,
    prepared: Any,
    spec: dict[str, Any],
    figures: CellFigures,
    started: float,
) -> dict[str, Any] | None:
    """Gather every rank's figures on rank 0 and aggregate them (rules in ``distributed``)."""
    mine = {
        "rank": rank.rank,
        "device": figures.device_id,
        "samples_s": list(figures.measurement.samples_s),
        "window_s": figures.measurement.window_s,
        "energy": {"joules": energy.joules, "method": energy.method, "device": figures.device_id}
        if (energy := figures.energy)
        else {"joules": None, "method": None, "device": figures.device_id},
        "memory": figures.memory,
    }
    everyone = distributed.gather(mine)
    if rank.rank != 0:
        return None
    per_rank = [r["samples_s"] for r in everyone]
    slowest = distributed.slowest_per_step(per_rank)
    window = max(r["window_s"] for r in everyone)
    aggregated = Measurement(tuple(slowest), (), window, "agreed-step-count")
    global_items = prepared.items_per_step * rank.world_size
    joules, method = distributed.total_energy([r["energy"] for r in everyone])
    record.update(
        world_size=rank.world_size,
        backend=rank.backend,
        **{**_workload_fields(prepared), "items_per_step": global_items},
        items_per_rank_step=prepared.items_per_step,
        timing={
            **_timing(spec, figures.setup_s, figures.first_step_s, aggregated, figures.warmup_s),
            "per_rank_samples_s": per_rank,
            "aggregation": "step time = slowest rank's; throughput = global items / it",
        },
        **summarise(prepared, aggregated, items_per_step=global_items),
        quality=quality(*figures.losses),
        metrics={},
        flops_per_step=(
            figures.flops_per_step * rank.world_size if figures.flops_per_step is not None else None
        ),
        flops_method=figures.flops_note + " (one rank's count x world size)",
        peak_memory_bytes=max((r["memory"].get("peak_memory_bytes") or 0) for r in everyone),
        peak_memory_method=everyone[0]["memory"].get("peak_memory_method"),
        peak_memory_per_rank=[{"rank": r["rank"], "device": r["device"], **r["memory"]} for r in everyone],
        energy_window_j=joules,
        energy_window_s=window,
        energy_method=method,
        energy_note="summed over devices (whole-device sensors once per device)",
        throttle_reasons=None,
        throttled=None,
        throttle_note="",
    )
    return _finish(record, started)


def _meter(kind: str, probe: dict[str, Any], nvml: Any, handle: Any):
    """The best energy meter for the device, with the parent's rated-power fallback."""
    return select_meter(
        kind,
        rated_w=probe.get("rated_w"),
        rated_basis=probe.get("rated_basis", ""),
        logical_cores=probe.get("logical_cores"),
        nvml=nvml,
        nvml_handle=handle,
    )


def _count_flops(step) -> tuple[int | None, str]:
    """FLOPs of one step, counted outside the timed window (counting slows the step)."""
    try:
        return count_step_flops(step), flops_probe.METHOD
    except Exception as exc:  # an op the counter cannot handle costs the figure, not the cell
        return None, f"FLOP counting failed: {one_line(exc)}"


def classify_exception(exc: BaseException) -> str:
    from workloads.base import Unsupported

    if isinstance(exc, Unsupported):
        return "skipped"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return "oom"
    return "failed"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def set_cpu_denormals(keep: bool) -> str:
    """Flush denormal floats to zero on the CPU (FTZ/DAZ) unless the user keeps them.

    Why: x86 and Arm cores handle denormal operands in a slow micro-code assist. Adam's second
    moment of tiny gradients underflows into that range: mlp:full training ran 137 ms/step for
    six steps, then 470-490 ms for a dozen, then drifted 150 -> 270 ms, while with flushing it
    held 136-143 ms throughout (2-core AVX-512 Xeon). A tuned CPU training setup flushes them
    (so do GPUs' fast paths); benchmarking the assist would misprice the CPU. Must run before
    the intra-op thread pool starts: new threads inherit the floating-point control register.
    """
    import torch

    if keep:
        torch.set_flush_denormal(False)
        return "kept (IEEE)"
    return "flushed to zero" if torch.set_flush_denormal(True) else "kept (flushing unsupported)"


def measure_cell(spec: dict[str, Any]) -> dict[str, Any]:
    """Prepare, warm up, time and summarise one cell; returns the complete record."""
    import workloads
    from aipcbench.devices import synchronizer
    from workloads.base import PrepareContext, Unsupported

    cell = Cell(**spec["cell"])
    workloads.load_plugins(spec.get("plugins", []))
    workload = workloads.get(cell.workload)
    policy = TimingPolicy(**spec["policy"])
    kind = cell.device.split(":")[0]
    rank = distributed.from_env(kind)
    device_id = f"cuda:{rank.local_rank}" if rank and kind == "cuda" else cell.device
    if rank is not None and not workload.trainable:
        raise Unsupported("data-parallel runs need a training workload")
    ctx = PrepareContext(
        device_id=device_id,
        dtype=cell.dtype,
        size=cell.size,
        quick=spec.get("quick", False),
        compile=cell.compile,
        data_dir=Path(spec["data_dir"]) if spec.get("data_dir") else None,
        seed=spec.get("seed", 0) + (rank.rank if rank else 0),  # each rank its own data shard
        options=spec.get("options", {}),
    )
    record: dict[str, Any] = {**cell.identity(), "status": "ok", "reason": ""}
    record["cpu_denormals"] = set_cpu_denormals(bool(ctx.options.get("keep_denormals")))
    probe = spec.get("probe", {})
    nvml, handle, nvml_note = (None, None, "")
    if kind == "cuda":
        index = rank.local_rank if rank else probe.get("index", 0)
        nvml, handle, nvml_note = open_device(index, None if rank else probe.get("uuid"))
    memory = MemoryProbe(device_id, nvml, handle)
    started = time.perf_counter()
    sync = synchronizer(device_id)
    memory.begin()
    prepared = workload.prepare(ctx)
    sync()
    setup_s = time.perf_counter() - started
    loss_initial = prepared.evaluate_loss() if prepared.evaluate_loss else None

    # The very first step pays one-off costs (torch.compile compiles here); it is timed apart.
    sync()
    first_begin = time.perf_counter()
    prepared.step()
    sync()
    first_step_s = time.perf_counter() - first_begin

    losses: dict[str, float] = {}

    def read_start_loss() -> None:
        losses["start"] = prepared.evaluate_loss()

    # FLOPs of one step, counted in an untimed step that stands in for the first of two or more
    # warm-up steps: the counter slows a step (8x for a tiny MLP), so it never runs in the timed
    # window, and taking a warm-up slot spares every cell one more untimed step.
    flops_per_step, flops_note = _count_flops(prepared.step)
    sync()
    if policy.warmup_steps > 1:
        policy = replace(policy, warmup_steps=policy.warmup_steps - 1)

    warmup_s: list[float] = []
    if rank is not None:  # ranks must agree on the number of steps before timing
        warmup_s = distributed.warm_up(prepared.step, sync, policy.warmup_steps)
        steps = distributed.agreed_steps(distributed.median(warmup_s), policy)
        policy = TimingPolicy(
            warmup_steps=0, min_steps=steps, min_time_s=0.0, max_time_s=float("inf"), max_steps=steps
        )
    meter, energy_notes = _meter(kind, probe, nvml, handle)
    measurement = measure(
        prepared.step,
        sync,
        policy,
        windows=[meter] if meter is not None else [],
        after_warmup=read_start_loss if prepared.evaluate_loss else None,
    )
    throttled, throttle_note = throttle_reasons(nvml, handle) if nvml else (None, "")
    memory_figures = memory.end()
    loss_end = prepared.evaluate_loss() if prepared.evaluate_loss else None
    energy = meter.reading if meter is not None else None
    if rank is not None:
        figures = CellFigures(
            measurement,
            tuple(warmup_s),
            energy,
            memory_figures,
            (loss_initial, losses.get("start"), loss_end),
            flops_per_step,
            flops_note,
            setup_s,
            first_step_s,
            device_id,
        )
        return _ddp_record(record, rank, prepared, spec, figures, started)

    record.update(
        **_workload_fields(prepared),
        timing=_timing(spec, setup_s, first_step_s, measurement, measurement.warmup_samples_s),
        **summarise(prepared, measurement),
        quality=quality(loss_initial, losses.get("start"), loss_end),
        metrics=prepared.extra_metrics(len(measurement.samples_s)) if prepared.extra_metrics else {},
    )
    record.update(
        flops_per_step=flops_per_step,
        flops_method=flops_note,
        **memory_figures,
        energy_window_j=energy.joules if energy else None,
        energy_window_s=energy.window_s if energy else None,
        energy_method=energy.method if energy else None,
        energy_note="; ".join(n for n in [energy.note if energy else "", *energy_notes, nvml_note] if n),
        throttle_reasons=throttled,
        throttled=bool(throttled) if throttled is not None else None,
        throttle_note=throttle_note,
    )
    return _finish(record, started)


def measure_device(spec: dict[str, Any]) -> dict[str, Any]:
    """Clock (CPU), large-GEMM peak per dtype and idle power of one device."""
    from aipcbench.probes.cpuclock import measure_clock_ghz
    from aipcbench.probes.cpuissue import measure_flops_per_cycle
    from aipcbench.probes.peak import measure_gemm_flops, measure_read_bandwidth

    device = spec["device"]
    kind, probe = device["kind"], spec.get("probe", {})
    facts: dict[str, Any] = {}
    nvml, handle, nvml_note = (None, None, "")
    if kind == "cuda":
        nvml, handle, nvml_note = open_device(device.get("index", 0), probe.get("uuid"))
    # Idle first, while nothing of ours has touched the device.
    meter, notes = _meter(kind, probe, nvml, handle)
    if meter is None or meter.method == "estimate-tdp":
        facts["idle_power_w"], facts["idle_power_method"] = None, None
        facts["idle_note"] = "idle power needs a sensor (NVML or RAPL); none here"
    else:
        meter.start()
        time.sleep(1.0 if spec.get("quick") else 5.0)
        reading = meter.stop()
        facts["idle_power_w"], facts["idle_power_method"] = reading.average_power_w, reading.method
        facts["idle_note"] = reading.note
    facts["idle_note"] = "; ".join(n for n in [facts["idle_note"], *notes, nvml_note] if n)
    if kind == "cpu":
        facts["clock_ghz"], facts["clock_method"] = measure_clock_ghz()
        simd = set(device.get("details", {}).get("simd", []))
        facts["flops_per_cycle"] = measure_flops_per_cycle(simd, facts["clock_ghz"], spec["dtypes"])
    try:
        facts["measured_bandwidth"] = measure_read_bandwidth(device["id"])
    except Exception as exc:
        facts["measured_bandwidth"] = {"bytes_per_s": None, "method": one_line(exc)}
    facts["measured_peaks"] = {}
    for dtype in spec["dtypes"]:
        try:
            facts["measured_peaks"][dtype] = measure_gemm_flops(
                device["id"], dtype, 0.5 if spec.get("quick") else 2.0
            )
        except Exception as exc:  # a dtype the device cannot multiply in: no measured peak
            facts["measured_peaks"][dtype] = {"flops": None, "method": one_line(exc)}
    return facts


def main(argv: list[str]) -> int:
    spec_path, record_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    if spec.get("mode") == "device":
        write_text_atomic(record_path, dumps(measure_device(spec)))
        return 0
    rank = os.environ.get("RANK")
    try:
        record = measure_cell(spec)
        code = 0
    except BaseException as exc:  # the whole point: any failure becomes a recorded cell
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        if rank is not None:  # under torchrun: say which rank failed, and fail the group
            Path(f"{record_path}.rank{rank}.err").write_text(one_line(exc))
            if not isinstance(exc, Exception) or classify_exception(exc) != "skipped":
                raise
        record = {
            **Cell(**spec["cell"]).identity(),
            "status": classify_exception(exc),
            "reason": one_line(exc),
        }
        code = 1
    if record is not None:  # ranks other than 0 hand their figures to rank 0
        write_text_atomic(record_path, dumps(record))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
