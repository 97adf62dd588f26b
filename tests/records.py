"""Typed records and results documents for tests, built the way the worker and store build them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aipcbench.results.record import CellRecord, Energy, Flops, RunTime, StepTime, WorkloadFacts
from aipcbench.results.schema import FORMAT, SCHEMA_VERSION
from aipcbench.results.store import ResultsDocument, from_data
from aipcbench.results.typed import to_plain


def step_time(median_s: float = 0.5, n: int = 10) -> StepTime:
    return StepTime(
        n, median_s, median_s, 0.0, median_s, median_s, median_s, median_s, median_s, median_s, 0.0, 0.0
    )


def ok_record(
    workload: str = "vgg16-cifar10",
    size: str = "train",
    device: str = "cpu",
    dtype: str = "fp32",
    *,
    seconds_per_run: float = 100.0,
    items_per_step: int = 64,
    items_per_run: float = 500_000,
    mode: str = "train",
    median_s: float = 0.5,
    n: int = 10,
    flops: Flops | None = None,
    energy: Energy | None = None,
    **fields: Any,
) -> CellRecord:
    return CellRecord(
        cell=f"{workload}:{size}@{device}/{dtype}",
        workload=workload,
        size=size,
        device=device,
        dtype=dtype,
        status="ok",
        workload_facts=WorkloadFacts(mode, items_per_step, "images", "synthetic"),
        step_time=step_time(median_s, n),
        run=RunTime("d", items_per_run, items_per_run / items_per_step, seconds_per_run),
        flops=flops,
        energy=energy,
        **fields,
    )


def document(
    records: list[CellRecord],
    host: str = "host",
    run_id: str = "1",
    devices: list[dict[str, Any]] | None = None,
    devices_measured: dict[str, Any] | None = None,
) -> ResultsDocument:
    data = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "environment": {"host": host, "started_at": run_id, "devices": devices or []},
        "devices_measured": devices_measured or {},
        "records": [to_plain(r) for r in records],
    }
    return from_data(Path(f"{run_id}.json"), data)
