"""The plan's training runs (``[[finetune]]``, ``[[pretrain]]``) added to the monthly answer, so a
team that fine-tunes every week sees whether that changes buy-or-rent.

For the best owned machine and the cheapest rental of the verdict, a month of training adds:

    own   each item that fits the machine's GPU: its runs x hours x the machine's power x the
          price per kWh (the machine is already paid for; cost.cash's PUE applies), and its
          hours join the machine's busy hours; an item that does not fit: rented on the
          cheapest offer that fits, runs x that run's price
    rent  each item: runs x the cheapest fitting offer's price for a run

The answer gains one clause with both totals, and says when they change who wins, or when the
owned machine lacks the hours (its busy hours plus training beyond its hours of use). The
training times are estimates (``cost.pretrain``) or this machine's measurement; said.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aipcbench.cost import cash
from aipcbench.numbers import usd


@dataclass(frozen=True)
class TrainingMonth:
    own_usd: float  # added to the best owned machine's month
    rent_usd: float  # added to the cheapest rental's month
    own_hours: float  # training hours on the owned machine a month
    rented_on_own_side: tuple[str, ...]  # items the owned machine cannot hold
    power_unknown: bool = False  # the machine's power is not known: its training electricity is not counted


def training_month(answers, machine) -> TrainingMonth | None:
    """What the plan's training items add a month on ``machine`` (the best owned candidate's
    profile) and on rentals; None when an item has no rental that fits."""
    own = rent = hours = 0.0
    elsewhere = []
    for answer in answers:
        runs = answer.item.runs_per_month
        if answer.cheapest_rent is None:
            return None
        rented = runs * answer.cheapest_rent.usd.central
        rent += rented
        here = next((o for o in answer.owned if o.name == machine.name and o.fits), None)
        if here is None and machine.accelerator is None:  # this host, measured
            here = next((o for o in answer.owned if o.method == "measured"), None)
        if here is None:
            own += rented
            elsewhere.append(answer.headline())
            continue
        run_hours = here.hours.central
        own += runs * run_hours * (machine.power_w or 0.0) / 1000 * cash.usd_per_kwh(machine)
        hours += runs * run_hours
    return TrainingMonth(own, rent, hours, tuple(elsewhere), hours > 0 and machine.power_w is None)


def with_training(decision, answers):
    """The decision with one clause for the plan's training items (unchanged without any)."""
    if decision is None or not answers or decision.best_own is None or decision.cheapest_rent is None:
        return decision
    best_own, cheapest = decision.best_own, decision.cheapest_rent
    month = training_month(answers, best_own.machine)
    if month is None:
        said = ". The plan's training runs have no rental that fits: not added."
        return replace(decision, sentence=decision.sentence.rstrip(".") + said)
    own_total = best_own.monthly_usd() + month.own_usd
    rent_total = cheapest.monthly_usd() + month.rent_usd
    clause = (
        f" With the plan's {len(answers)} training item(s) (estimated): owning {usd(own_total)}/month, "
        f"renting {usd(rent_total)}/month"
    )
    if month.rented_on_own_side:
        clause += f" ({len(month.rented_on_own_side)} rented anyway: too large for the machine)"
    if month.power_unknown:
        clause += " (the owned machine's training electricity not counted: no power known)"
    available = best_own.available_hours()
    if available is not None and best_own.busy_hours() + month.own_hours > best_own.machines() * available:
        clause += f"; the machine lacks the hours: {month.own_hours:,.0f} training hours a month on top"
    flipped = (own_total < rent_total) != (decision.winner.kind == "own")
    clause += ": the answer flips." if flipped else ": the answer stands."
    return replace(decision, sentence=decision.sentence.rstrip(".") + "." + clause)
