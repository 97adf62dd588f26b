"""Owning a base and renting the peaks: the cheapest mix for a plan whose load varies by month,
and how long work waits on the owned machines.

A plan's ``[profile]`` gives each month's load as a multiple of the plan (``months``, 12
values; default: every month as planned). For N owned machines (0: rent everything; enough for
the busiest month: buy everything), in a month at load k:

    owned   = min(k, 85 % x N x hours of use / the plan's busy hours on the machine)   (in plans)
    cost    = N x (hardware + upkeep) + owned electricity at load
              + (N x hours of use - owned busy hours) x idle power
              + the cheapest rental for the rest, k - owned (nothing rented when it is 0)

In a mix the owned machines take work until they are 85 % busy and the rest goes to the
rental as it comes, so their queue settles; buying everything puts all the work on enough
machines for the busiest month (as the decision does). The mix is the N with the lowest mean
month; pure buy and pure rent are the two ends.

Waiting: runs reach the N owned machines at random through their hours of use and queue when
all are busy: an M/M/N queue whose mean wait is Erlang C's W = C(N, a) x S / (N - a), with S
the mean run and a the busy share of the hours in machines. Runs on rented instances start
side by side. The waiting is priced when the profile gives ``wait_usd_per_hour`` (what an hour
of a person waiting costs). Pure; pinned in tests/test_hybrid.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from aipcbench.cost.decide import Decision, Option, rentable
from aipcbench.numbers import usd

MAX_MACHINES = 64  # a search bound: a plan needing more is a data centre, not this decision
MIX_UTILISATION = 0.85  # owned machines in a mix: busy share of their hours before work goes out


@dataclass(frozen=True)
class Mix:
    owned: int  # machines owned
    own: Option
    rent: Option
    monthly_usd: float  # mean over the profile's months, waiting included when priced
    pure_buy_usd: float
    pure_buy_machines: int
    pure_rent_usd: float
    wait_hours_per_month: float  # on the owned machines, the mean over the months
    wait_usd_per_hour: float | None

    @property
    def beats_both(self) -> bool:
        return 0 < self.owned < self.pure_buy_machines and self.monthly_usd < min(
            self.pure_buy_usd, self.pure_rent_usd
        )

    def sentence(self) -> str:
        rent = f"rent the rest on {self.rent.name}" if self.owned else f"rent everything on {self.rent.name}"
        own = f"own {self.owned} x {self.own.name} and " if self.owned else ""
        text = (
            f"mix: {own}{rent}: {usd(self.monthly_usd)}/month on average over the profile "
            f"(buying {self.pure_buy_machines} for every month: {usd(self.pure_buy_usd)}; renting only: "
            f"{usd(self.pure_rent_usd)})"
        )
        if self.owned and math.isinf(self.wait_hours_per_month):
            text += "; the owned machines are full in some month: their queue does not settle"
        elif self.owned:
            text += f"; work waits {self.wait_hours_per_month:,.1f} h a month on the owned machines"
            if self.wait_usd_per_hour:
                text += f" (priced at {usd(self.wait_usd_per_hour)}/h)"
        return text


def erlang_c_wait_hours(machines: int, load: float, service_hours: float) -> float:
    """Mean wait in an M/M/N queue: ``load`` machines' worth of work (a < N), runs of
    ``service_hours`` on average; infinite at or above N."""
    if load <= 0:
        return 0.0
    if load >= machines:
        return math.inf
    term, total = 1.0, 1.0  # a^k / k!, summed for k < N
    for k in range(1, machines):
        term *= load / k
        total += term
    top = term * load / machines * machines / (machines - load)  # a^N / N! x N / (N - a)
    return top / (total + top) * service_hours / (machines - load)


def _own_month(own: Option, machines: int, scale: float) -> tuple[float, float]:
    """(cost, waiting hours) of ``scale`` plans of work on ``machines`` owned machines."""
    if machines == 0:
        return 0.0, 0.0
    cost = own.hardware_usd(machines) + own.running_usd(scale, "central", machines)
    runs = scale * sum(line.runs for line in own.lines)
    busy = own.busy_hours(scale)
    if runs <= 0 or busy <= 0:
        return cost, 0.0
    load = busy / own.available_hours()  # machines' worth of work over the hours of use
    return cost, runs * erlang_c_wait_hours(machines, load, busy / runs)


def month_usd(
    own: Option,
    rent: Option,
    machines: int,
    load: float,
    wait_usd: float,
    utilisation: float = MIX_UTILISATION,
) -> tuple[float, float]:
    """(cost, waiting hours) of one month at ``load`` plans with ``machines`` owned, taking
    work until they are ``utilisation`` busy."""
    planned = own.busy_hours(1.0)
    capacity = utilisation * machines * own.available_hours() / planned if planned > 0 else math.inf
    owned = min(load, capacity)
    cost, wait = _own_month(own, machines, owned)
    rest = load - owned
    if rest > 1e-12:
        cost += rent.monthly_usd(rest)
    return cost + (wait * wait_usd if wait_usd else 0.0), wait


def best_mix(own: Option, rent: Option, months: list[float], wait_usd_per_hour: float | None) -> Mix:
    """The number of owned machines with the lowest mean month over ``months``."""
    peak = max(months) if months else 1.0
    buy_all = min(max(1, own.machines(peak)), MAX_MACHINES)
    price = wait_usd_per_hour or 0.0

    def mean(n: int, utilisation: float = MIX_UTILISATION) -> tuple[float, float]:
        results = [month_usd(own, rent, n, k, price, utilisation) for k in months]
        return sum(c for c, _ in results) / len(results), sum(w for _, w in results) / len(results)

    means = {n: mean(n) for n in range(0, buy_all + 1)}
    means[buy_all] = pure_buy = mean(buy_all, math.inf)  # every run on the owned machines
    best = min(means, key=lambda n: means[n][0])
    return Mix(
        best,
        own,
        rent,
        means[best][0],
        pure_buy[0],
        buy_all,
        means[0][0],
        means[best][1],
        wait_usd_per_hour,
    )


def with_mix(decision: Decision | None, owns: list[Option], rents: list[Option]) -> Decision | None:
    """The decision with the cheapest mix of the best machine and the cheapest rental; its
    answer says so when the mix beats both pure answers."""
    if decision is None or decision.best_own is None:
        return decision
    # the peaks are rented as they come: a reservation bills every hour, so it takes no peaks
    candidates = [r for r in rentable(decision.plan, rents) if not r.reserved]
    if not candidates:
        return decision
    rent = min(candidates, key=lambda r: r.monthly_usd())
    profile = decision.plan.profile
    mix = best_mix(
        decision.best_own, rent, profile.get("months") or [1.0] * 12, profile.get("wait_usd_per_hour")
    )
    sentence = decision.sentence
    if mix.beats_both:
        sentence = sentence.rstrip(".") + (
            f". Cheaper still over the year: own {mix.owned} and rent the peaks, "
            f"{usd(mix.monthly_usd)}/month."
        )
    return replace(decision, mix=mix, sentence=sentence)
