"""The cells of a suite: planned from the config, each measured in its own process, each
record completed with its device's figures and added to the results file as soon as it exists.

The results file is rewritten after every cell, so an interrupt keeps what finished.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from typing import Any

from aipcbench.config import Cell, RunConfig
from aipcbench.results.device_facts import NO_FACTS, DeviceFacts
from aipcbench.results.record import CellRecord, DataParallel
from aipcbench.results.store import ResultsWriter
from aipcbench.results.typed import RecordTypeError, from_plain
from aipcbench.run import distributed
from aipcbench.run.cell_record import not_finished
from aipcbench.run.child import run_child
from aipcbench.run.progress import Progress
from aipcbench.run.record_figures import complete_record


def plan_cells(config: RunConfig, sizes_of: dict[str, tuple[str, ...]]) -> list[Cell]:
    """devices x workloads (x sizes) x dtypes (x world sizes), in that nesting order."""
    cells = []
    for device in config.devices:
        for name, size in config.workloads:
            for chosen in (size,) if size else sizes_of[name]:
                for dtype in config.dtypes:
                    for nproc in config.world_sizes or (0,):
                        cells.append(Cell(name, chosen, device, dtype, config.compile, nproc))
    return cells


def cell_spec(cell: Cell, config: RunConfig, probe: dict[str, Any]) -> dict[str, Any]:
    """What the worker is told (JSON): the cell, the timing policy and the options."""
    return {
        "mode": "cell",
        "cell": asdict(cell),
        "policy": asdict(config.policy),
        "quick": config.quick,
        "data_dir": str(config.data_dir) if config.data_dir else None,
        "plugins": list(config.plugins),
        "seed": config.seed,
        "options": asdict(config.options),
        "keep_denormals": config.keep_denormals,
        "probe": probe,
        "torchrun_args": list(config.torchrun_args),
    }


def run_cell(
    cell: Cell, config: RunConfig, progress: Progress | None = None, probe: dict[str, Any] | None = None
) -> CellRecord:
    """Measure one cell in a child process; always returns a record."""
    outcome = run_child(cell_spec(cell, config, probe or {}), config.timeout_s, progress)
    if outcome.result is None:
        return not_finished(cell, outcome.status, outcome.reason, outcome.wall_s)
    try:
        return from_plain(CellRecord, outcome.result, cell.label)
    except RecordTypeError as exc:  # a plugin workload reported something of the wrong type
        return not_finished(
            cell, "failed", f"the worker's record does not fit its type: {exc}", outcome.wall_s
        )


def run_suite(
    cells: Iterable[Cell],
    config: RunConfig,
    writer: ResultsWriter,
    progress: Progress,
    device_facts: dict[str, DeviceFacts] | None = None,
    carbon: dict[str, Any] | None = None,
) -> list[CellRecord]:
    """Run every cell in order, adding each record to the results file as soon as it exists.

    ``device_facts`` (per device: the probe settings passed to the worker, rated and measured
    peaks, idle power) and ``carbon`` feed the figures added to each record in the parent.
    """
    device_facts = device_facts or {}
    records: list[CellRecord] = []
    for cell in cells:
        facts = device_facts.get(cell.device, NO_FACTS)
        progress.start(cell.label)
        record = run_cell(cell, config, progress, facts.probe)
        record = with_scaling_efficiency(complete_record(record, facts, carbon), records)
        writer.add(record)
        records.append(record)
        progress.finish(record.status, record.reason)
    return records


def with_scaling_efficiency(record: CellRecord, earlier: list[CellRecord]) -> CellRecord:
    """throughput(N) / (N x throughput(1)), against the world-size-1 cell of the same run."""
    parallel = record.data_parallel
    if parallel is None or record.status != "ok" or record.throughput is None:
        return record
    for base in earlier:
        if (
            base.world_size == 1
            and base.status == "ok"
            and base.throughput is not None
            and (base.workload, base.size, base.device, base.dtype)
            == (record.workload, record.size, record.device, record.dtype)
        ):
            one = base.throughput.items_per_s
            if not one or record.throughput.items_per_s is None:
                return record
            efficiency = distributed.scaling_efficiency(
                record.throughput.items_per_s, parallel.world_size, one
            )
            return replace(
                record,
                data_parallel=DataParallel(
                    parallel.world_size, parallel.backend, parallel.items_per_rank_step, efficiency, one
                ),
            )
    return record
