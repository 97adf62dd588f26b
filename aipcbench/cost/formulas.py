"""Where the cost per run is computed: the build-or-rent formulas, pure, one docstring each.
The hardware's share of a month or an hour of use is ``cost.cash`` (discount rate and loan in it).

Money in USD, time in seconds or hours as named, energy in joules. No I/O, no torch: every
function is pinned to hand-computed examples in tests/test_cost.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aipcbench.units import DAYS_PER_MONTH, J_PER_KWH, SECONDS_PER_HOUR


@dataclass(frozen=True)
class LocalCost:
    hardware_usd: float
    electricity_usd: float

    @property
    def total_usd(self) -> float:
        return self.hardware_usd + self.electricity_usd


def local_cost_per_run(
    seconds_per_run: float, energy_j_per_run: float | None, hardware_per_hour_usd: float, usd_per_kwh: float
) -> LocalCost:
    """hardware share per hour x hours per run + energy per run (kWh) x electricity price.

    Missing energy counts as 0 electricity; callers label such a cost as incomplete.
    """
    hardware = hardware_per_hour_usd * seconds_per_run / SECONDS_PER_HOUR
    electricity = (energy_j_per_run or 0.0) / J_PER_KWH * usd_per_kwh
    return LocalCost(hardware, electricity)


def billed_seconds(seconds: float, increment_s: float, minimum_s: float, startup_s: float = 0.0) -> float:
    """Seconds the provider bills for a job of ``seconds`` (plus instance start-up).

    max(minimum, ceil((seconds + startup) / increment) x increment)
    """
    used = seconds + startup_s
    increment = increment_s if increment_s > 0 else 1.0
    return max(minimum_s, math.ceil(used / increment - 1e-9) * increment)


def cloud_cost_per_run(
    seconds_per_run: float, usd_per_hour: float, increment_s: float, minimum_s: float, startup_s: float = 0.0
) -> float:
    """hourly price x billed hours (billing increment and minimum applied, start-up included).

    One run is billed as one job: a user who starts an instance per run pays this; one who
    keeps an instance busy with back-to-back runs pays close to ``amortised_cloud_cost``.
    """
    billed = billed_seconds(seconds_per_run, increment_s, minimum_s, startup_s)
    return usd_per_hour * billed / SECONDS_PER_HOUR


def amortised_cloud_cost(seconds_per_run: float, usd_per_hour: float) -> float:
    """hourly price x hours per run, no rounding: the rate for runs packed back to back."""
    return usd_per_hour * seconds_per_run / SECONDS_PER_HOUR


@dataclass(frozen=True)
class BreakEven:
    """When owning beats renting. ``runs_per_month`` is None when it never does."""

    runs_per_month: float | None
    capacity_runs_per_month: float
    reason: str


def break_even(
    fixed_usd_per_month: float,
    electricity_per_run_usd: float,
    cloud_per_run_usd: float,
    seconds_per_run: float,
    hours_per_day: float,
) -> BreakEven:
    """Runs per month above which owning is cheaper than renting.

    Owning costs a fixed F a month (the hardware's share, ``cost.cash``: (purchase - residual) /
    lifetime in months without a discount rate, plus any upkeep) plus e (electricity) per run;
    renting costs c per run. Owning wins when F + e n < c n, so
        n* = F / (c - e)
    There is none when c <= e (renting is cheaper per run than the electricity alone), or
    when n* exceeds what the machine can run in a month at ``hours_per_day`` (capacity: the
    machine profile's hours of use, the same hours its hardware cost is spread over).
    """
    fixed = fixed_usd_per_month
    seconds_a_month = hours_per_day * SECONDS_PER_HOUR * DAYS_PER_MONTH
    capacity = seconds_a_month / seconds_per_run if seconds_per_run > 0 else math.inf
    margin = cloud_per_run_usd - electricity_per_run_usd
    if margin <= 0:
        return BreakEven(
            None, capacity, "renting costs less per run than the electricity alone: owning never pays off"
        )
    needed = fixed / margin
    if needed > capacity:
        return BreakEven(
            None,
            capacity,
            f"owning would need {needed:,.0f} runs a month, more "
            f"than the machine can do ({capacity:,.0f}) at "
            f"{hours_per_day:g} h/day",
        )
    return BreakEven(needed, capacity, "")


def payback_months(
    price_usd: float, runs_per_month: float, electricity_per_run_usd: float, cloud_per_run_usd: float
) -> float | None:
    """Months until the purchase has paid for itself at a given usage.

    purchase / (runs per month x (cloud per run - electricity per run)); None if never.
    """
    saving = runs_per_month * (cloud_per_run_usd - electricity_per_run_usd)
    return price_usd / saving if saving > 0 else None


def cumulative_costs(
    months: int,
    price_usd: float,
    runs_per_month: float,
    electricity_per_run_usd: float,
    cloud_per_run_usd: float,
) -> tuple[list[float], list[float]]:
    """Month-by-month totals (month 0..months): build = purchase + electricity so far;
    rent = cloud cost so far. The residual value is not credited (a founder sees the cash)."""
    build = [price_usd + m * runs_per_month * electricity_per_run_usd for m in range(months + 1)]
    rent = [m * runs_per_month * cloud_per_run_usd for m in range(months + 1)]
    return build, rent
