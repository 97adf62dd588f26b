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


def own_and_rent():
    """A candidate and a rental for the money-model tests, numbers chosen to be added by hand.

    Own: (3,000 - 600) / 24 = $100 a month of hardware, 100 one-hour runs at 500 W and $0.20/kWh
    = $0.10 of electricity a run, no idle draw: $110 a month. Rent: $1.50 a run: $150 a month."""
    from aipcbench.catalog import load_catalog
    from aipcbench.cost.decide import Line, Option
    from aipcbench.cost.machine import build_profile

    ends = ("low", "central", "high")
    values = {"price_usd": 3000, "residual_usd": 600, "lifetime_years": 2, "hours_per_day": 8}
    values |= {"electricity_usd_per_kwh": 0.2, "power_w": 500, "idle_power_w": 0}
    box = build_profile(values, load_catalog())
    hour = dict.fromkeys(ends, 3600.0)
    own = Option("box", "own", "X", (Line(100, hour, dict.fromkeys(ends, 0.10), "measured"),), box)
    rent = Option("cloud", "rent", "X", (Line(100, hour, dict.fromkeys(ends, 1.50), "measured"),), None, 1.50)
    return own, rent
