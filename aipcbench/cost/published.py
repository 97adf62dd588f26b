"""Published GPU measurements as evidence: they calibrate the estimator, and check it.

The rule, in five lines (README, "The estimator against published measurements"):

1. Each ``check`` row of ``catalog/data/published.csv`` has its step counted on the meta device
   (``published_demand.csv``) and its measured time per step (items / figure).
2. Estimate every row with the current constants and note its bound (compute, memory, dispatch).
3. Each row gives the constant of its own bound: per-op overhead = time / ops, memory efficiency
   = bytes / (bandwidth x time), compute efficiency = time at peak / time (a TF32 efficiency
   where most FLOPs are fp32 convolutions on TF32 tensor cores).
4. Per device class, the median of those values is the new central constant; the range joins
   the catalog prior's range with the values seen. Repeat 2-4 until no row changes bound.
5. A constant no row gives stays the prior (``catalog/data/estimator.csv``).

The check predicts each row with constants calibrated on the others (leave one out). Torch-free.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace

from aipcbench.catalog import Catalog
from aipcbench.catalog.published_rows import PublishedDemand, PublishedRow
from aipcbench.cost.estimate import (
    Constants,
    Demand,
    Span,
    Target,
    compute_parts,
    constants_for,
    estimate_step,
)
from aipcbench.errors import DataError

ROUNDS = 5


@dataclass(frozen=True)
class CheckRow:
    """A published row with what the estimator needs: its target, its demand, its time."""

    row: PublishedRow
    target: Target
    demand: Demand

    @property
    def measured_s(self) -> float:
        return self.row.seconds_per_step


@dataclass(frozen=True)
class Prediction:
    """A published row predicted by an estimator calibrated without it."""

    row: PublishedRow
    figure: Span  # tokens/s or images/s: low / central / high
    bound: str
    calibrated_on: tuple[str, ...]  # row ids the constants came from

    @property
    def error(self) -> float:
        """Predicted over published, minus one (+0.25: the estimate is 25 % too fast)."""
        return self.figure.central / self.row.figure - 1

    @property
    def inside(self) -> bool:
        return self.figure.low <= self.row.figure <= self.figure.high


def check_rows(catalog: Catalog) -> list[CheckRow]:
    """The catalog's check rows with their targets and counted demand (one line if broken)."""
    counted = {d.id: d for d in catalog.published_demand}
    found = []
    for row in catalog.published:
        if row.use != "check" or row.served:  # serving rows: cost.published_serving
            continue
        spec = catalog.spec(row.device)
        demand = counted.get(row.id)
        if spec is None or demand is None:
            what = "a device_specs row" if spec is None else "a published_demand row"
            raise DataError(f"published row {row.id}: no {what} for {row.device if spec is None else row.id}")
        checked = CheckRow(row, Target.from_spec(spec), _demand(demand, row.dtype))
        if estimate_step(checked.demand, checked.target, _prior(catalog, checked)) is None:
            raise DataError(
                f"published row {row.id}: nothing to estimate (no counts, or no peak and bandwidth)"
            )
        found.append(checked)
    return found


def _demand(counted: PublishedDemand, dtype: str) -> Demand:
    return Demand(
        counted.flop_count, int(counted.kernel_ops), counted.eager_bytes, dtype, counted.conv_flop_count
    )


def _prior(catalog: Catalog, row: CheckRow) -> Constants:
    constants = constants_for(catalog, row.target.device_class, row.row.dtype)
    if constants is None:
        raise DataError(f"published row {row.row.id}: no estimator constants for {row.target.device_class}")
    return constants


def _implied(row: CheckRow, bound: str) -> float:
    """The value of the bound's constant that makes the estimate equal the measured time."""
    t, d, target = row.measured_s, row.demand, row.target
    if bound == "dispatch":
        return t / d.kernel_ops
    if bound == "memory":
        return min(1.0, d.eager_bytes / (target.bandwidth_bytes_per_s * t))  # tf32 and compute below
    plain, tf32, _ = compute_parts(d, target, _peak(row))
    return min(1.0, (plain + tf32) / t)


def _peak(row: CheckRow) -> float:
    peaks = row.target.peak_flop_per_s
    return peaks.get(row.demand.dtype) or max(peaks.values())


def _on_tf32(row: CheckRow) -> bool:
    """Most of the row's arithmetic on TF32 tensor cores: it calibrates ``tf32_efficiency``."""
    plain, tf32, _ = compute_parts(row.demand, row.target, _peak(row))
    return tf32 > plain


def joined_span(prior: Span, values: list[float], cap: float | None) -> Span:
    """The median of what the rows implied; the prior's range widened to take every value in."""
    low, high = min(prior.low, *values), max(prior.high, *values)
    return Span(low, statistics.median(values), min(high, cap) if cap else high)


QUANTITY = {
    "dispatch": "per_op_overhead_s",
    "memory": "memory_efficiency",
    "compute": "compute_efficiency",
    "tf32": "tf32_efficiency",
}


def calibrate(rows: list[CheckRow], catalog: Catalog) -> dict[tuple[str, str], Constants]:
    """Constants per (device class, dtype) fitted to ``rows`` (module docstring, steps 2-5)."""
    priors = {(r.target.device_class, r.row.dtype): _prior(catalog, r) for r in rows}
    fitted = dict(priors)
    bounds: dict[str, str] = {}
    for _ in range(ROUNDS):
        now = {r.row.id: estimate_step(r.demand, r.target, fitted[_key(r)]).bound for r in rows}
        if now == bounds:
            break
        bounds = now
        fitted = {key: _fit(key, prior, rows, bounds) for key, prior in priors.items()}
    return fitted


def _key(row: CheckRow) -> tuple[str, str]:
    return (row.target.device_class, row.row.dtype)


def _fit(key, prior: Constants, rows: list[CheckRow], bounds: dict[str, str]) -> Constants:
    """One class and dtype's constants: per-op and memory from every row of the class, compute
    efficiency only from rows of the same dtype (its peak differs)."""
    same_class = [r for r in rows if r.target.device_class == key[0]]
    spans, used = {}, []
    compute = [r for r in same_class if bounds[r.row.id] == "compute" and r.row.dtype == key[1]]
    pools = {
        "dispatch": [r for r in same_class if bounds[r.row.id] == "dispatch"],
        "memory": [r for r in same_class if bounds[r.row.id] == "memory"],
        "compute": [r for r in compute if not _on_tf32(r)],
        "tf32": [r for r in compute if _on_tf32(r)],
    }
    for bound, quantity in QUANTITY.items():
        pool = pools[bound]
        old = getattr(prior, quantity) or prior.compute_efficiency
        if pool:
            spans[quantity] = joined_span(
                old, [_implied(r, bound) for r in pool], None if bound == "dispatch" else 1.0
            )
            used.append(f"{quantity} from published {', '.join(r.row.id for r in pool)}")
        else:
            spans[quantity] = old
    return replace(prior, **spans, sources=tuple(used) + prior.sources)


def predict(row: CheckRow, constants: Constants, calibrated_on: tuple[str, ...]) -> Prediction:
    estimate = estimate_step(row.demand, row.target, constants)
    items, seconds = row.row.items_per_step, estimate.seconds
    figure = Span(items / seconds.high, items / seconds.central, items / seconds.low)
    return Prediction(row.row, figure, estimate.bound, calibrated_on)


def leave_one_out(catalog: Catalog) -> list[Prediction]:
    """Each eager check row predicted from constants calibrated on all the others."""
    rows = check_rows(catalog)
    predictions = []
    for held in rows:
        others = [r for r in rows if r is not held]
        fitted = calibrate(others, catalog) if others else {}
        constants = fitted.get(_key(held)) or _prior(catalog, held)
        predictions.append(predict(held, constants, tuple(r.row.id for r in others)))
    return predictions


@dataclass(frozen=True)
class CheckSummary:
    rows: int
    median_abs_error: float
    inside: int

    def sentence(self) -> str:
        return (
            f"median |error| {self.median_abs_error:.0%} over {self.rows} published GPU rows, "
            f"{self.inside} of {self.rows} inside the range (each predicted leaving itself out)"
        )


def summary(predictions: list[Prediction]) -> CheckSummary | None:
    if not predictions:
        return None
    errors = [abs(p.error) for p in predictions]
    return CheckSummary(len(predictions), statistics.median(errors), sum(p.inside for p in predictions))


_FITTED: dict[int, tuple[Catalog, dict[tuple[str, str], Constants]]] = {}


def _fitted(catalog: Catalog) -> dict[tuple[str, str], Constants]:
    """``calibrate`` on all check rows, once per catalog (pricing asks for every cell)."""
    kept = _FITTED.get(id(catalog))
    if kept is None or kept[0] is not catalog:
        kept = _FITTED[id(catalog)] = (catalog, calibrate(check_rows(catalog), catalog))
    return kept[1]


def published_constants(catalog: Catalog, device_class: str, dtype: str) -> Constants | None:
    """The estimator's constants for a class and dtype: calibrated on every published check row
    where rows cover the class, else the catalog prior."""
    prior = constants_for(catalog, device_class, dtype)
    fitted = {k: v for k, v in _fitted(catalog).items() if k[0] == device_class}
    if not fitted or prior is None:
        return prior
    if (device_class, dtype) in fitted:
        return fitted[(device_class, dtype)]
    shared = next(iter(fitted.values()))  # per-op and memory hold for any dtype; compute does not
    return replace(
        prior,
        per_op_overhead_s=shared.per_op_overhead_s,
        memory_efficiency=shared.memory_efficiency,
        sources=tuple(s for s in shared.sources if not s.startswith("compute")) + prior.sources,
    )
