"""A plan's training runs, ``[[pretrain]]`` and ``[[finetune]]``: each read into a typed item with
its numbers bounded, and answered on the cheapest rental that fits and on every candidate with a
GPU (``cost.pretrain`` does the arithmetic).

    [[pretrain]]                      [[finetune]]
    model = "llama3.2-1b"             model = "llama3.1-8b"
    tokens = 2e10   # 20 / parameter  method = "lora"      # or "full"; default lora
    per_year = 2                      tokens = 1e7         # one run; default one epoch of 10 M
    sequence = 2048                   per_month = 4
                                      sequence = 2048

A fine-tune of a model and method that ``aipcbench run --workloads finetune`` measured here is
also priced on this machine from that measurement (its time and cost per run, scaled from the
run it measured to the item's tokens; label "measured"), beside the GPU estimates.

The answers are priced on their own, each with its month's share; ``cost.training_fold`` adds
them to the monthly answer's two sides (the best machine, the cheapest rental) in one clause.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.cost.estimate import Span
from aipcbench.cost.plan_tables import checked_tables
from aipcbench.cost.pretrain import (
    FINETUNE_TOKENS,
    FLOPS_PER_PARAMETER,
    TOKENS_PER_PARAMETER,
    PretrainOption,
    plan_pretraining,
)
from aipcbench.errors import DataError

LIMITS = {
    "pretrain": {"tokens": (1e6, 1e15), "per_year": (0.0, 365.0), "sequence": (16, 1_000_000)},
    "finetune": {"tokens": (1e3, 1e13), "per_month": (0.0, 10_000.0), "sequence": (16, 1_000_000)},
}


@dataclass(frozen=True)
class TrainingItem:
    """A run from scratch a few times a year, or a fine-tune a few times a month."""

    kind: str  # pretrain | finetune
    model: str
    method: str  # full | lora (pretraining is always full)
    tokens: float | None  # None: the kind's default (20 a parameter; 10 M)
    runs_per_month: float
    sequence: int


def read_training_items(source: str, data: dict, model_keys: set[str]) -> list[TrainingItem]:
    """Every ``[[pretrain]]`` and ``[[finetune]]`` table, checked: a catalog model, a known method,
    numbers inside their limits; one line naming the table and key otherwise."""
    items = []
    for kind, limits in LIMITS.items():
        if data.get(kind) is None:
            continue
        keys = {"model", *limits} | ({"method"} if kind == "finetune" else set())
        for where, table in checked_tables(source, kind, data[kind], keys):
            if not isinstance(table.get("model"), str) or table["model"] not in model_keys:
                raise DataError(
                    f"{where}: key 'model' must be a catalog model ({', '.join(sorted(model_keys))})"
                )
            method = table.get("method", "lora" if kind == "finetune" else "full")
            if not isinstance(method, str) or method not in FLOPS_PER_PARAMETER:
                raise DataError(f"{where}: key 'method' must be one of {', '.join(FLOPS_PER_PARAMETER)}")
            values = {}
            for key, (low, high) in limits.items():
                value = table.get(key)
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high
                ):
                    raise DataError(f"{where}: key '{key}' must be a number from {low:g} to {high:g}")
                if value is not None:
                    values[key] = value
            runs = values.get("per_month", 1.0) if kind == "finetune" else values.get("per_year", 1.0) / 12
            items.append(
                TrainingItem(
                    kind,
                    table["model"],
                    method,
                    values.get("tokens"),
                    float(runs),
                    int(values.get("sequence", 2048)),
                )
            )
    return items


def duration(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:,.1f} days"
    if hours >= 1:
        return f"{hours:,.1f} hours"
    return f"{hours * 60:,.1f} minutes" if hours * 60 >= 1 else f"{hours * 3600:,.0f} seconds"


@dataclass(frozen=True)
class TrainingAnswer:
    item: TrainingItem
    model_name: str
    tokens: float
    flops: float  # central
    cheapest_rent: PretrainOption | None
    owned: tuple[PretrainOption, ...]
    rentals: tuple[PretrainOption, ...] = ()  # every rented offer that fits, cheapest first

    def headline(self) -> str:
        item = self.item
        if item.kind == "pretrain":
            what, often = "pretraining", f"{item.runs_per_month * 12:g} a year"
        else:
            what, often = f"fine-tuning ({item.method})", f"{item.runs_per_month:g} a month"
        return f"{what} {self.model_name} on {self.tokens:.3g} tokens, {often}"

    def lines(self) -> list[str]:
        from aipcbench.numbers import usd

        def said(o: PretrainOption) -> str:
            spread = f" ({usd(o.usd.low)}-{usd(o.usd.high)})" if o.usd.high > o.usd.low else ""
            return (
                f"{o.name} ({o.gpus}x {o.accelerator}): {usd(o.usd.central)}{spread}, "
                f"{duration(o.hours.central)}; {usd(o.usd.central * self.item.runs_per_month)} a month"
            )

        lines = [
            f"{self.headline()} ({self.flops:.3g} FLOPs; `aipcbench estimate --pretrain {self.item.model}` "
            "lists every option for a run from scratch)"
        ]
        if self.cheapest_rent is not None:
            lines.append(f"  cheapest rental that fits: {said(self.cheapest_rent)}")
        else:
            lines.append("  no rented offer in the catalog fits it")
        lines += [f"  on {said(o)}" + ("" if o.fits else " (does not fit its memory)") for o in self.owned]
        lines.append(
            "  (GPUs estimated from FLOPs and a published MFU range, this machine as measured; "
            "the answer's last clause adds them to its month)"
        )
        return lines


def measured_fine_tunes(comparisons) -> dict[tuple[str, str], object]:
    """(model name, method) -> the measured fine-tune cell on this machine (``CellComparison``)."""
    found = {}
    for cell in comparisons:
        details = cell.details if isinstance(cell.details, dict) else {}
        measured = cell.workload == "finetune" and cell.local_method == "measured" and cell.valid_run
        if measured and cell.items_per_run and not cell.world_size:
            found[(str(details.get("model")), cell.size)] = cell
    return found


def _measured_here(cell, tokens: float) -> PretrainOption:
    """The item on this machine from its measured cell: time and cost scale with the tokens."""
    share = tokens / cell.items_per_run
    hours = cell.seconds_per_run * share / 3600
    usd = cell.local.total_usd * share
    rate = cell.items_per_run / cell.seconds_per_run
    name = f"this machine, measured at {rate:,.0f} tokens/s ({cell.dtype})"
    hours_span, usd_span = Span(hours, hours, hours), Span(usd, usd, usd)
    # memory 0: not predicted, the cell ran (its measured peak is in the results)
    return PretrainOption(name, cell.device_name, 1, hours_span, usd_span, 0.0, True, "own", "measured")


def answer_training(catalog: Catalog, item: TrainingItem, machines, measured=None) -> TrainingAnswer:
    """The item on the cheapest rental that fits, on every candidate with a GPU (one each) and,
    for a fine-tune measured here (``measured_fine_tunes``), on this machine."""
    model = next(m for m in catalog.model_configs if m.key == item.model)
    default = TOKENS_PER_PARAMETER * model.parameters if item.kind == "pretrain" else FINETUNE_TOKENS
    tokens = item.tokens or default
    owned = [(m, 1) for m in machines if m.accelerator and catalog.spec(m.accelerator)]
    flops, options = plan_pretraining(catalog, model, tokens, item.sequence, owned, item.method)
    here = (measured or {}).get((model.name, item.method)) if item.kind == "finetune" else None
    if here is not None:
        options = [_measured_here(here, tokens), *options]
    rented = sorted(
        (o for o in options if o.kind == "rent" and o.fits and o.usd is not None), key=lambda o: o.usd.central
    )
    owned = tuple(o for o in options if o.kind == "own")
    return TrainingAnswer(
        item, model.name, tokens, flops, rented[0] if rented else None, owned, tuple(rented)
    )
