"""The parts of a cell's typed record, built from what the worker measured (in the worker).

- step time statistics, stability, throughput (items per median step) and the time per run
  (items per run / throughput: an extrapolation, labelled so);
- the workload's facts, the timing readings, and the record of a cell that did not finish.
"""

from __future__ import annotations

import statistics
from typing import Any

from aipcbench.config import Cell
from aipcbench.devices.timing import Measurement
from aipcbench.results.record import (
    CellRecord,
    RunTime,
    Stability,
    StepTime,
    Throughput,
    Timing,
    TimingPolicy,
    WorkloadFacts,
)
from aipcbench.run.stats import Summary


def identity(cell: Cell) -> dict[str, Any]:
    """The record fields that name the cell."""
    return {
        "cell": cell.label,
        "workload": cell.workload,
        "size": cell.size,
        "device": cell.device,
        "dtype": cell.dtype,
        "compile": cell.compile,
        "nproc": cell.nproc,
    }


def not_finished(cell: Cell, status: str, reason: str, wall_s: float | None = None) -> CellRecord:
    """The record of a cell that failed, was skipped, killed or timed out."""
    return CellRecord(**identity(cell), status=status, reason=reason, wall_s=wall_s)


def stability(samples: tuple[float, ...]) -> Stability | None:
    """Median of the first and last tenth of the timed steps: a drift above 2 % means the
    warm-up was too short (or the machine changed speed under the run)."""
    if len(samples) < 10:
        return None
    tenth = len(samples) // 10
    first, last = statistics.median(samples[:tenth]), statistics.median(samples[-tenth:])
    return Stability(first, last, first / last - 1.0 if last > 0 else None)


def step_time(samples: tuple[float, ...]) -> StepTime:
    s = Summary.from_samples(list(samples))
    return StepTime(
        s.n, s.mean, s.median, s.stdev, s.minimum, s.maximum, s.p5, s.p95, s.q1, s.q3, s.iqr, s.cv
    )


def throughput_and_run(
    measurement: Measurement, items_per_step: int, description: str, items_per_run: float
) -> tuple[Throughput, RunTime]:
    """Throughput from the median step, and the time one run takes at that throughput."""
    median = statistics.median(measurement.samples_s)
    items_per_s = items_per_step / median if median > 0 else None
    total_items = items_per_step * len(measurement.samples_s)
    items_per_s_mean = total_items / measurement.window_s if measurement.window_s > 0 else None
    run = RunTime(
        description=description,
        items_per_run=items_per_run,
        steps_per_run=items_per_run / items_per_step,
        time_s=items_per_run / items_per_s if items_per_s else None,
    )
    return Throughput(items_per_s, items_per_s_mean), run


def workload_facts(prepared: Any, items_per_step: int | None = None) -> WorkloadFacts:
    """What the workload says about itself (a data-parallel cell counts every rank's items)."""
    return WorkloadFacts(
        mode=prepared.mode,
        items_per_step=items_per_step or prepared.items_per_step,
        item_unit=prepared.item_unit,
        data_source=prepared.data_source,
        data_note=prepared.data_note,
        weights_source=prepared.weights_source,
        parameter_count=prepared.parameters,
        details=prepared.details,
    )


def timing(
    policy: TimingPolicy,
    setup_s: float,
    first_step_s: float,
    measurement: Measurement,
    warmup_s: tuple[float, ...],
    per_rank_samples_s: tuple[tuple[float, ...], ...] | None = None,
    aggregation: str = "",
) -> Timing:
    return Timing(
        policy=policy,
        setup_s=setup_s,
        first_step_s=first_step_s,
        warmup_samples_s=tuple(warmup_s),
        samples_s=tuple(measurement.samples_s),
        window_s=measurement.window_s,
        stopped_by=measurement.stopped_by,
        per_rank_samples_s=per_rank_samples_s,
        aggregation=aggregation,
    )
