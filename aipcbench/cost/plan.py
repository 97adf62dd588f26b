"""A monthly work plan: what a team runs per month, the unit a founder decides on.

    # plan.toml
    [[work]]
    workload = "vgg16-cifar10:train"   # or workload and size apart; no size: the only one measured
    dtype = "fp32"          # default fp32
    runs_per_month = 20

    [[work]]
    workload = "gpt2-generate"
    size = "batched"
    tokens_per_month = 5_000_000   # generation: tokens instead of runs

    [rent]                  # optional: how rented sessions go (cost.sessions; defaults said)
    sessions_per_month = 10
    setup_minutes = 8

Without a plan, the default is one run of each measured workload per working day (260 working
days a year / 12 = 21.7 a month), so the headline means something. Every item must name a cell
that was measured (its run time is what every option is priced from).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aipcbench.cost.plan_tables import checked_tables, read_profile_table
from aipcbench.cost.serve_plan import ServeItem, read_serve_items
from aipcbench.cost.serving_estimate import BITS_PER_WEIGHT
from aipcbench.cost.sessions import read_rent_table
from aipcbench.cost.training_items import TrainingItem, read_training_items
from aipcbench.errors import DataError
from aipcbench.files import read_toml

WORKING_DAYS_PER_MONTH = 260 / 12
MAX_RUNS_PER_MONTH = 1e9
ITEM_KEYS = {"workload", "size", "dtype", "runs_per_month", "tokens_per_month"}


@dataclass(frozen=True)
class PlanItem:
    workload: str
    size: str
    dtype: str
    runs_per_month: float

    @property
    def label(self) -> str:
        return f"{self.workload}:{self.size} {self.dtype}"


@dataclass(frozen=True)
class Plan:
    items: tuple[PlanItem, ...]
    source: str  # the file, or how the default was made
    serve: tuple[ServeItem, ...] = ()  # [[serve]] items: priced by cost.serve_decide
    rent: dict[str, Any] = field(default_factory=dict)  # [rent]: the terms given (cost.sessions)
    profile: dict[str, Any] = field(default_factory=dict)  # [profile]: load by month (cost.hybrid)
    training: tuple[TrainingItem, ...] = ()  # [[pretrain]], [[finetune]]: cost.training_items


def default_plan(cells: list[tuple[str, str, str]]) -> Plan:
    """One run of each measured cell per working day."""
    items = tuple(PlanItem(w, s, d, WORKING_DAYS_PER_MONTH) for w, s, d in cells)
    return Plan(items, "default plan: one run of each measured workload per working day (21.7 a month)")


def read_plan(
    path: Path,
    tokens_per_run: dict[tuple[str, str, str], float | None],
    model_keys: set[str] = frozenset(),
) -> Plan:
    """The plan in ``path``, every item checked against the measured cells (``tokens_per_run``:
    cell -> tokens in one run for generation cells, None for others) or, for ``[[serve]]``
    items, against the catalog's model shapes (``model_keys``)."""
    data = read_toml(path, "plan")
    others = ("serve", "pretrain", "finetune")
    work = data.get("work", [] if any(k in data for k in others) else None)
    if (
        not isinstance(work, list)
        or not (work or any(data.get(k) for k in others))
        or set(data) - {"work", "rent", "profile", *others}
    ):
        raise DataError(
            f"{path}: a plan is [[work]], [[serve]], [[pretrain]] and [[finetune]] tables, a [rent] "
            "and a [profile] table (nothing else)"
        )
    serve = read_serve_items(str(path), data.get("serve"), set(model_keys), set(BITS_PER_WEIGHT))
    items = [
        _item(where, item, tokens_per_run)
        for where, item in checked_tables(str(path), "work", work, ITEM_KEYS)
    ]
    rent = read_rent_table(str(path), data.get("rent"))
    profile = read_profile_table(str(path), data.get("profile"))
    training = tuple(read_training_items(str(path), data, set(model_keys)))
    return Plan(tuple(items), str(path), serve, rent, profile, training)


def _workload_and_size(
    where: str, item: dict[str, Any], dtype: str, tokens_per_run: dict[tuple[str, str, str], float | None]
) -> tuple[str, str]:
    """``workload = "cnn-mnist:train"`` as on the command line, or ``workload`` and ``size`` apart;
    without a size, the only size measured for that workload and dtype (as ``--workloads cnn-mnist``
    runs every size, a plan item names one when there are several)."""
    if not isinstance(item.get("workload"), str) or not item["workload"]:
        raise DataError(f"{where}: key 'workload' must be text, e.g. \"cnn-mnist:train\"")
    workload, _, size = item["workload"].partition(":")
    given = item.get("size")
    if given is not None and (not isinstance(given, str) or not given or (size and given != size)):
        raise DataError(f"{where}: key 'size' must be text and agree with 'workload = \"{workload}:{size}\"'")
    size = size or given or ""
    if size:
        return workload, size
    sizes = sorted({s for w, s, d in tokens_per_run if w == workload and d == dtype})
    if len(sizes) == 1:
        return workload, sizes[0]
    if not sizes:
        return workload, ""  # reported as an unmeasured cell, with what was measured
    raise DataError(
        f"{where}: {workload} {dtype} was measured at sizes {', '.join(sizes)}: name one "
        f'(workload = "{workload}:{sizes[0]}")'
    )


def _item(
    where: str, item: dict[str, Any], tokens_per_run: dict[tuple[str, str, str], float | None]
) -> PlanItem:
    dtype = item.get("dtype", "fp32")
    if not isinstance(dtype, str) or not dtype:
        raise DataError(f"{where}: key 'dtype' must be text, e.g. \"bf16\"")
    cell = (*_workload_and_size(where, item, dtype, tokens_per_run), dtype)
    if cell not in tokens_per_run:
        known = ", ".join(sorted(f"{w}:{s} {d}" for w, s, d in tokens_per_run)) or "none"
        name = f"{cell[0]}:{cell[1]}" if cell[1] else cell[0]
        raise DataError(f"{where}: no measured cell {name} {dtype} (measured: {known})")
    if ("runs_per_month" in item) == ("tokens_per_month" in item):
        raise DataError(f"{where}: give exactly one of 'runs_per_month' and 'tokens_per_month'")
    key = "runs_per_month" if "runs_per_month" in item else "tokens_per_month"
    value = item[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise DataError(f"{where}: key '{key}' must be a finite number >= 0, got {value!r}")
    if key == "tokens_per_month":
        per_run = tokens_per_run[cell]
        if not per_run:
            raise DataError(f"{where}: key 'tokens_per_month': {cell[0]} does not generate tokens")
        value = value / per_run
    if value > MAX_RUNS_PER_MONTH:
        raise DataError(f"{where}: key '{key}' is more than {MAX_RUNS_PER_MONTH:g} runs a month")
    return PlanItem(cell[0], cell[1], cell[2], float(value))
