"""The decision for a plan: buy one of the candidate machines, or rent; with how sure it is.

For every option, the plan's monthly cost at scale s (s = 1 is the plan as written):

- own (a candidate machine, n of them if one cannot do the plan in its hours of use):
      n x (price - residual) / (12 x lifetime)                      hardware
    + s x sum(runs x energy per run) x price per kWh                electricity at load
    + (n x hours of use - busy hours) x idle power x price per kWh  idle
  busy hours = s x sum(runs x time per run); n = ceil(busy hours / hours of use per month)
- rent (a cloud offer, on-demand or spot): by session under the plan's renting terms (set-up,
  idle tail, storage and egress beside the busy hours; ``cost.sessions``), else
  s x sum(runs x cost per run), billing applied per run.

TCO over the horizon (the candidate's lifetime) = n x (price - residual) + months x running cost;
payback month = n x price / (cheapest rental - own running cost) (with a resale curve, the month
the saving covers the price less what the machine then sells for: ``cost.resale``);
break-even scale = the s at which the best machine and the cheapest rental cost the same (each
taken as a fixed part, its cost at s = 0, plus a part in proportion to s). The answer is robust when the
winner is the same with every run time at the low end and at the high end of its range, and at
50 % and 150 % of the plan. Pure and torch-free; pinned to hand calculations in
tests/test_decide.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aipcbench.cost import cash
from aipcbench.cost.compare import CellComparison
from aipcbench.cost.machine import MachineProfile
from aipcbench.cost.plan import Plan
from aipcbench.cost.resale import payback_months
from aipcbench.cost.sessions import ProviderStorage, RentTerms, rent_month_usd, reserved_month_usd
from aipcbench.numbers import usd
from aipcbench.units import DAYS_PER_MONTH, J_PER_KWH, SECONDS_PER_HOUR

ENDS = ("low", "central", "high")


@dataclass(frozen=True)
class Line:
    """One plan item on one option: runs a month, time and cost of one run at each end."""

    runs: float
    seconds: dict[str, float]  # low | central | high
    usd_per_run: dict[str, float]  # rent: billed cost; own: electricity at load
    method: str
    energy_known: bool = True  # own: False when neither measured nor estimable (counted as $0)


@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # own | rent
    accelerator: str
    lines: tuple[Line, ...]
    machine: MachineProfile | None = None
    usd_per_hour: float | None = None  # rentals: the instance's hourly price
    # rentals priced by session (cost.sessions): terms, storage prices, billing increment and minimum
    terms: RentTerms | None = None
    storage: ProviderStorage | None = None
    billing_s: tuple[float, float] = (1.0, 0.0)
    reserved: bool = False  # a committed price: billed every hour of the month (cost.sessions)

    def busy_hours(self, scale: float = 1.0, end: str = "central") -> float:
        return scale * sum(line.runs * line.seconds[end] for line in self.lines) / SECONDS_PER_HOUR

    def available_hours(self) -> float | None:
        return self.machine.hours_per_day * DAYS_PER_MONTH if self.machine else None

    def machines(self, scale: float = 1.0, end: str = "central") -> int:
        available = self.available_hours()
        if available is None:
            return 0
        return max(1, math.ceil(self.busy_hours(scale, end) / available - 1e-9))

    def hardware_usd(self, machines: int) -> float:
        m = self.machine
        return machines * (cash.hardware_usd_per_month(m) + cash.upkeep_usd_per_month(m)) if m else 0.0

    def running_usd(self, scale: float = 1.0, end: str = "central", machines: int | None = None) -> float:
        """Electricity at load and idle (own, on ``machines`` or as many as the work needs), or
        the rental bill (rent), per month."""
        if self.terms is not None and self.storage is not None and self.usd_per_hour is not None:
            runs = scale * sum(line.runs for line in self.lines)
            busy_s = self.busy_hours(scale, end) * SECONDS_PER_HOUR
            if self.reserved:
                return reserved_month_usd(busy_s, self.usd_per_hour, self.terms, self.storage)
            return rent_month_usd(busy_s, runs, self.usd_per_hour, *self.billing_s, self.terms, self.storage)
        variable = scale * sum(line.runs * line.usd_per_run[end] for line in self.lines)
        if self.kind == "rent" or self.machine is None:
            return variable
        m = self.machine
        count = self.machines(scale, end) if machines is None else machines
        idle_hours = max(count * self.available_hours() - self.busy_hours(scale, end), 0.0)
        idle = idle_hours * (m.idle_power_w or 0.0) / 1000.0 * cash.usd_per_kwh(m)
        return variable + idle

    def monthly_usd(self, scale: float = 1.0, end: str = "central") -> float:
        return self.hardware_usd(self.machines(scale, end)) + self.running_usd(scale, end)

    def tco_usd(self, months: float) -> float:
        return self.hardware_usd(self.machines()) * 12.0 * (
            self.machine.lifetime_years if self.machine else 0
        ) + (months * self.running_usd())

    @property
    def estimated(self) -> bool:
        return any(line.method != "measured" for line in self.lines)

    @property
    def electricity_unknown(self) -> bool:
        return any(not line.energy_known for line in self.lines)


def cell_key(c: CellComparison) -> tuple[str, str, str]:
    return (c.workload, c.size, c.dtype)


def own_option(plan: Plan, machine: MachineProfile, comparisons: list[CellComparison]) -> Option | None:
    """A candidate machine on the plan; None if a plan item could not be priced on it."""
    by_cell = {cell_key(c): c for c in comparisons if not c.world_size}
    lines = []
    for item in plan.items:
        c = by_cell.get((item.workload, item.size, item.dtype))
        if c is None:
            return None
        evidence = c.evidence.get(machine.accelerator or "") if c.local_method != "measured" else None
        low = evidence.seconds_low if evidence and evidence.seconds_low else c.seconds_per_run
        high = evidence.seconds_high if evidence and evidence.seconds_high else c.seconds_per_run
        seconds = {"low": low, "central": c.seconds_per_run, "high": high}
        watts = (c.energy_j_per_run or 0.0) / c.seconds_per_run  # energy scales with time
        usd = {end: watts * seconds[end] / J_PER_KWH * cash.usd_per_kwh(machine) for end in ENDS}
        lines.append(Line(item.runs_per_month, seconds, usd, c.local_method, c.energy_j_per_run is not None))
    return Option(machine.name, "own", machine.accelerator or "this machine", tuple(lines), machine)


def rentable(plan: Plan, rents: list[Option]) -> list[Option]:
    """The rentals that may win: on-demand, and spot where the plan tolerates interruptions."""
    return [r for r in rents if not r.name.endswith("(spot)") or plan.rent.get("spot")]


@dataclass(frozen=True)
class Decision:
    plan: Plan
    options: tuple[Option, ...]  # own first, then rentals, each group cheapest first
    winner: Option
    best_own: Option | None
    cheapest_rent: Option | None  # on-demand, or spot where the plan tolerates interruptions
    payback_months: float | None
    break_even_scale: float | None
    robust: bool
    flips: tuple[str, ...]
    sentence: str
    unpriced_offers: int
    swings: tuple = ()  # cost.flips.Swing: each input moved on its own, widest first
    mix: object = None  # cost.hybrid.Mix: own a base, rent the rest, over the plan's months


def _winner(owns: list[Option], rents: list[Option], scale: float, end: str) -> Option:
    return min([*owns, *rents], key=lambda o: o.monthly_usd(scale, end))


def break_even_scale(own: Option, rent: Option) -> float | None:
    """The plan scale at which owning one machine costs what renting does (None if renting is
    cheaper at every scale): fixed + s x own-variable = s x rent-variable."""
    fixed = own.monthly_usd(0.0)  # hardware and a month of idle with nothing to do
    own_variable = own.monthly_usd(1.0) - fixed if own.machines(1.0) == 1 else None
    rent_fixed = rent.monthly_usd(0.0)  # storage kept whether it runs or not
    rent_variable = rent.monthly_usd(1.0) - rent_fixed
    if own_variable is None or rent_variable <= own_variable or fixed <= rent_fixed:
        return None
    return (fixed - rent_fixed) / (rent_variable - own_variable)


def the(name: str) -> str:
    """ "the RTX 4090 workstation", but "this machine" as it is."""
    return name if name.startswith("this ") else f"the {name}"


def decide(plan: Plan, owns: list[Option], rents: list[Option], unpriced: int = 0) -> Decision | None:
    on_demand = rentable(plan, rents)
    if not owns and not rents:
        return None
    owns = sorted(owns, key=lambda o: o.monthly_usd())
    rents = sorted(rents, key=lambda o: o.monthly_usd())
    best_own = owns[0] if owns else None
    cheapest = min(on_demand, key=lambda o: o.monthly_usd()) if on_demand else None
    winner = _winner(owns, on_demand, 1.0, "central")
    flips = []
    for scale, end, what in (
        (1.0, "low", "the low end of the run-time ranges"),
        (1.0, "high", "the high end of the run-time ranges"),
        (0.5, "central", "half the plan"),
        (1.5, "central", "1.5 times the plan"),
    ):
        if _winner(owns, on_demand, scale, end).kind != winner.kind:
            flips.append(what)
    payback = scale_even = None
    if best_own is not None and cheapest is not None:
        saving = cheapest.monthly_usd() - best_own.running_usd()
        price = best_own.machines() * best_own.machine.price_usd
        payback = payback_months(price, saving, best_own.machine.resale)
        scale_even = break_even_scale(best_own, cheapest)
    sentence = _sentence(winner, best_own, cheapest, payback, scale_even, flips, on_demand)
    return Decision(
        plan,
        (*owns, *rents),
        winner,
        best_own,
        cheapest,
        payback,
        scale_even,
        not flips,
        tuple(flips),
        sentence,
        unpriced,
    )


MEASURING_HOURS = 1 / 6  # a quick suite on a rented GPU, set-up included: about 10 minutes


def _sentence(winner, best_own, cheapest, payback, scale_even, flips, rentals) -> str:
    """Longer than 60 lines: the answer in one sentence, each clause in the order a reader needs it."""
    unknown = ""
    if best_own is not None and best_own.electricity_unknown:
        unknown = (
            f" (its electricity not counted: no energy measured and no power known for {the(best_own.name)})"
        )
    if winner.kind == "own":
        other = (
            f"{usd(cheapest.monthly_usd())}/month renting the cheapest ({cheapest.name})"
            if cheapest
            else "no priced rental"
        )
        text = f"Buy {the(winner.name)}: {usd(winner.monthly_usd())}/month{unknown} vs {other}"
        if winner.machines() > 1:
            text += f" ({winner.machines()} machines: one cannot do the plan in its hours of use)"
        if payback is not None:
            text += (
                f", pays back in {payback:.0f} months"
                if payback >= 0.5
                else ", pays back from the first month (it loses resale value slower than renting costs)"
            )
    else:
        text = f"Rent {winner.name}: {usd(winner.monthly_usd())}/month"
        if best_own is not None:
            text += f" vs {usd(best_own.monthly_usd())}/month owning {the(best_own.name)}{unknown}"
            if best_own.machines() > 1:
                text += f" ({best_own.machines()} of them to fit the plan)"
    if not flips:
        text += "; the answer holds across the run-time estimate ranges and from 50 % to 150 % of the plan"
        if winner.kind == "own" and scale_even is not None and scale_even < 1:
            text += f", down to {scale_even:.0%} of it"
        return text + "."
    text += f". Not robust: {' and '.join(flips)} would flip it"
    estimated = [o for o in (winner, best_own, cheapest) if o is not None and o.estimated]
    if estimated:
        target = next((o for o in estimated if o.kind == "own"), estimated[0])
        text += f"; measuring the plan on a rented {target.accelerator} would settle it"
        same = [r for r in rentals if r.accelerator == target.accelerator and r.usd_per_hour]
        if same:
            offer = min(same, key=lambda r: r.usd_per_hour)
            cost = usd(offer.usd_per_hour * MEASURING_HOURS)
            text += f" (`aipcbench run` there: about {cost} on {offer.name})"
    return text + "."
