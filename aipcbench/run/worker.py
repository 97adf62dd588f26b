"""Where a cell's measurement happens: the child process that prepares, warms up, times and
records one cell. ``main([SPEC.json, RECORD.json])`` runs in a fork of the cell server
(``run.forkserver``) or as ``python -m aipcbench.run.worker SPEC.json RECORD.json`` (torchrun).

Each cell runs in its own process so that a crash, an out-of-memory kill or a hang costs that
cell only, and so that one workload's allocator state, threads or compiled kernels never leak
into the next one's timings. The worker writes its typed record (success or a classified
failure) atomically to RECORD.json; if it dies before that, the parent records why.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

from aipcbench.config import Cell
from aipcbench.devices import timing
from aipcbench.devices.memory import MemoryProbe
from aipcbench.devices.nvml import throttle_reasons
from aipcbench.devices.sensors import open_sensors
from aipcbench.errors import exception_line
from aipcbench.results.atomic import write_text_atomic
from aipcbench.results.record import (
    CellRecord,
    Energy,
    Flops,
    Memory,
    StepDemand,
    Throttle,
    TimingPolicy,
    device_kind,
)
from aipcbench.results.store import dumps
from aipcbench.run import cell_record, distributed, quality, step_counts
from aipcbench.run.lifeline import die_with_parent


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


def classify_exception(exc: BaseException) -> str:
    from workloads.base import Unsupported

    if isinstance(exc, Unsupported):
        return "skipped"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return "oom"
    return "failed"


def _count(step, prepared: Any) -> tuple[int | None, str, StepDemand | None]:
    """FLOPs, operations and bytes of one step, counted outside the timed window (counting
    slows the step). A counter that fails costs the figures, not the cell."""
    try:
        counted = step_counts.count_step(step)
    except Exception as exc:
        return None, f"FLOP counting failed: {exception_line(exc)}", None
    details = prepared.details or {}
    demand = StepDemand(
        kernel_ops=counted.kernel_ops,
        view_ops=counted.view_ops,
        eager_bytes=counted.bytes_eager,
        distinct_bytes=counted.bytes_distinct,
        method=step_counts.COUNTS_METHOD,
        weight_bytes=_whole(details.get("weight_bytes")),
        kv_cache_bytes=_whole(details.get("kv_cache_bytes")),
        conv_flop_count=counted.conv_flop_count,
    )
    return counted.flop_count, step_counts.METHOD, demand


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _memory_part(figures: dict[str, Any]) -> Memory:
    return Memory(
        peak_bytes=figures.get("peak_memory_bytes"),
        method=figures.get("peak_memory_method"),
        peak_reserved_bytes=figures.get("peak_memory_reserved_bytes"),
        device_used_bytes_nvml=figures.get("device_memory_used_bytes_nvml"),
        note=figures.get("device_memory_used_note", ""),
        process_peak_rss_bytes=figures.get("process_peak_rss_bytes"),
    )


def _finish(record: CellRecord, started: float) -> CellRecord:
    reason = record.reason
    if not record.valid_run:
        reason = "loss did not fall: cost per run is not a valid run"
    return replace(record, reason=reason, wall_s=timing.clock() - started)


def measure_cell(spec: dict[str, Any]) -> CellRecord | None:
    """Prepare, warm up, time and summarise one cell; returns the complete record (None on
    data-parallel ranks other than 0, which hand their figures to rank 0).

    Longer than 60 lines: the measurement in the order it must happen (probes armed before the timed
    window and read after it), kept in one place so no probe can be read outside its window.
    """
    import workloads
    from aipcbench.devices.detect import synchronizer
    from workloads.base import PrepareContext, Unsupported, WorkloadOptions

    cell = Cell(**spec["cell"])
    workloads.load_plugins(spec.get("plugins", []))
    workload = workloads.get(cell.workload)
    policy = TimingPolicy(**spec["policy"])
    kind = device_kind(cell.device)
    rank = distributed.from_env(kind)
    device_id = f"cuda:{rank.local_rank}" if rank and kind == "cuda" else cell.device
    if rank is not None and not workload.trainable:
        raise Unsupported("data-parallel runs need a training workload")
    if cell.dtype not in workload.dtypes:
        raise Unsupported(f"{cell.workload} has no {cell.dtype} path (it runs {', '.join(workload.dtypes)})")
    sync = synchronizer(device_id)
    ctx = PrepareContext(
        device_id=device_id,
        dtype=cell.dtype,
        size=cell.size,
        quick=spec.get("quick", False),
        compile=cell.compile,
        data_dir=Path(spec["data_dir"]) if spec.get("data_dir") else None,
        seed=spec.get("seed", 0) + (rank.rank if rank else 0),  # each rank its own data shard
        options=WorkloadOptions(**spec.get("options", {})),
        sync=sync,
        clock=timing.clock,
    )
    base = {**cell_record.identity(cell), "status": "ok", "reason": ""}
    base["cpu_denormals"] = set_cpu_denormals(bool(spec.get("keep_denormals")))
    probe = spec.get("probe", {})
    sensors = open_sensors(
        kind, probe, rank.local_rank if rank else probe.get("index", 0), None if rank else probe.get("uuid")
    )
    memory = MemoryProbe(device_id, sensors.nvml, sensors.nvml_handle)
    started = timing.clock()
    memory.begin()
    prepared = workload.prepare(ctx)
    sync()
    setup_s = timing.clock() - started
    loss_initial = prepared.evaluate_loss() if prepared.evaluate_loss else None

    # The very first step pays one-off costs (torch.compile compiles here); it is timed apart.
    first_step_s = timing.time_call(prepared.step, sync)
    losses: dict[str, float] = {}

    def read_start_loss() -> None:
        losses["start"] = prepared.evaluate_loss()

    # FLOPs of one step, counted in an untimed step that stands in for the first of two or more
    # warm-up steps: the counter slows a step (8x for a tiny MLP), so it never runs in the timed
    # window, and taking a warm-up slot spares every cell one more untimed step.
    flops_per_step, flops_note, demand = _count(prepared.step, prepared)
    sync()
    steps_so_far = 2  # the first step and the counted one
    recorded_policy = policy
    if policy.warmup_steps > 1:
        policy = replace(policy, warmup_steps=policy.warmup_steps - 1)

    warmup_s: tuple[float, ...] = ()
    if rank is not None:  # ranks must agree on the number of steps before timing
        warmup_s = tuple(timing.time_call(prepared.step, sync) for _ in range(max(policy.warmup_steps, 1)))
        steps = distributed.agreed_steps(distributed.median(list(warmup_s)), policy)
        policy = TimingPolicy(
            warmup_steps=0, min_steps=steps, min_time_s=0.0, max_time_s=float("inf"), max_steps=steps
        )
    measurement = timing.measure(
        prepared.step,
        sync,
        policy,
        windows=[sensors.meter] if sensors.meter is not None else [],
        after_warmup=read_start_loss if prepared.evaluate_loss else None,
    )
    energy = measurement.window_readings[0] if measurement.window_readings else None
    throttled, throttle_note = (
        throttle_reasons(sensors.nvml, sensors.nvml_handle) if sensors.nvml else (None, "")
    )
    memory_figures = memory.end()
    loss_end = prepared.evaluate_loss() if prepared.evaluate_loss else None
    optimizer_steps = (
        steps_so_far + len(warmup_s) + len(measurement.warmup_samples_s) + len(measurement.samples_s)
    )
    if rank is not None:
        figures = distributed.RankFigures(
            measurement,
            warmup_s,
            energy,
            memory_figures,
            (loss_initial, losses.get("start"), loss_end),
            optimizer_steps,
            flops_per_step,
            flops_note,
            setup_s,
            first_step_s,
            device_id,
        )
        record = distributed.aggregate(base, rank, prepared, recorded_policy, figures)
        return _finish(record, started) if record is not None else None

    throughput, run = cell_record.throughput_and_run(
        measurement, prepared.items_per_step, prepared.run.description, prepared.run.items_per_run
    )
    notes = [energy.note if energy else "", *sensors.notes]
    record = CellRecord(
        **base,
        workload_facts=cell_record.workload_facts(prepared),
        timing=cell_record.timing(
            recorded_policy, setup_s, first_step_s, measurement, measurement.warmup_samples_s
        ),
        step_time=cell_record.step_time(measurement.samples_s),
        stability=cell_record.stability(measurement.samples_s),
        throughput=throughput,
        run=run,
        quality=quality.judge(loss_initial, losses.get("start"), loss_end, optimizer_steps),
        workload_metrics=prepared.extra_metrics(len(measurement.samples_s)) if prepared.extra_metrics else {},
        flops=Flops(flops_per_step, flops_note),
        demand=demand,
        memory=_memory_part(memory_figures),
        energy=Energy(
            energy.joules if energy else None,
            energy.window_s if energy else None,
            energy.method if energy else None,
            "; ".join(n for n in notes if n),
        ),
        throttle=Throttle(
            tuple(throttled) if throttled is not None else None,
            bool(throttled) if throttled is not None else None,
            throttle_note,
        ),
    )
    return _finish(record, started)


def main(argv: list[str]) -> int:
    die_with_parent()  # a fresh interpreter or a torchrun rank: never outlive who started us
    spec_path, record_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    if spec.get("mode") == "device":
        from aipcbench.devices.probe import measure_device

        write_text_atomic(record_path, dumps(measure_device(spec)))
        return 0
    rank = os.environ.get("RANK")
    cell = Cell(**spec["cell"])
    try:
        record = measure_cell(spec)
        code = 0
    except BaseException as exc:  # the whole point: any failure becomes a recorded cell
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        if rank is not None:  # under torchrun: say which rank failed, and fail the group
            Path(f"{record_path}.rank{rank}.err").write_text(exception_line(exc))
            if not isinstance(exc, Exception) or classify_exception(exc) != "skipped":
                raise
        record = cell_record.not_finished(cell, classify_exception(exc), exception_line(exc))
        code = 1
    if record is not None:
        write_text_atomic(record_path, dumps(record))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
