"""Rentals on a plan: every cloud offer that prices every plan item, on-demand and spot, each
as a ``cost.decide.Option`` priced by session under the plan's renting terms (``cost.sessions``)
or, without terms, run by run; spot runs take the time interruptions add (``cost.spot``)."""

from __future__ import annotations

import math

from aipcbench.catalog import Catalog
from aipcbench.cost.compare import CellComparison
from aipcbench.cost.decide import ENDS, Line, Option, cell_key
from aipcbench.cost.plan import Plan
from aipcbench.cost.sessions import RentTerms, provider_storage
from aipcbench.cost.spot import expected_seconds


def rent_options(
    plan: Plan,
    comparisons: list[CellComparison],
    terms: RentTerms | None = None,
    catalog: Catalog | None = None,
) -> tuple[list[Option], int]:
    """Longer than 60 lines: every offer that prices every plan item, on-demand and (where priced)
    spot, by session under ``terms`` (storage from ``catalog``) or, without terms, run by run; and
    how many offers could not price the plan."""
    by_cell = {cell_key(c): c for c in comparisons if not c.world_size}
    cells = [by_cell.get((i.workload, i.size, i.dtype)) for i in plan.items]
    if not cells or any(c is None for c in cells):
        return [], 0
    options, unpriced = [], 0
    for first in cells[0].offers:
        ident = (first.provider, first.instance_type, first.region)
        offers = [
            next(o for o in c.offers if (o.provider, o.instance_type, o.region) == ident) for c in cells
        ]
        if any(o.on_demand_usd is None for o in offers):
            unpriced += 1
            continue
        for spot in (False, True):
            if spot and any(o.spot_usd is None for o in offers):
                continue
            lines = [_rent_line(item, offer, spot, terms) for item, offer in zip(plan.items, offers)]
            if any(math.isinf(x.seconds["central"]) for x in lines):
                continue  # interrupted more often than a run can finish: not an option
            name = f"{first.provider} {first.instance_type}" + (" (spot)" if spot else "")
            hourly = (
                (first.usd_per_hour * offers[0].spot_usd / offers[0].on_demand_usd)
                if spot
                else first.usd_per_hour
            )
            storage = provider_storage(catalog, first.provider) if terms and catalog else None
            billing = (first.billing_increment_s, first.billing_minimum_s)
            options.append(
                Option(name, "rent", first.accelerator, tuple(lines), None, hourly, terms, storage, billing)
            )
            if not spot and storage is not None and terms.reserved_discount is not None:
                share = 1 - terms.reserved_discount
                options.append(
                    Option(
                        f"{name} (reserved, {terms.reserved_discount:.0%} off)",
                        "rent",
                        first.accelerator,
                        tuple(lines),
                        None,
                        hourly * share,
                        terms,
                        storage,
                        billing,
                        reserved=True,
                    )
                )
    return options, unpriced


def _rent_line(item, offer, spot: bool, terms: RentTerms | None) -> Line:
    """One plan item on one offer: its time per run (on spot, with the work interruptions
    make it run again, ``cost.spot``) and its billed cost per run."""
    e = offer.evidence
    seconds = {
        "low": e.seconds_low or e.seconds_per_run,
        "central": e.seconds_per_run,
        "high": e.seconds_high or e.seconds_per_run,
    }
    if not spot:
        usd = {
            "low": offer.on_demand_usd_low or offer.on_demand_usd,
            "central": offer.on_demand_usd,
            "high": offer.on_demand_usd_high or offer.on_demand_usd,
        }
        return Line(item.runs_per_month, seconds, usd, e.method)
    if terms is not None:
        rate, checkpoint, restart = terms.spot_interruptions_per_hour, terms.checkpoint_s, terms.setup_s
        seconds = {end: expected_seconds(s, rate, checkpoint, restart) for end, s in seconds.items()}
    usd = {end: offer.spot_usd * seconds[end] / e.seconds_per_run for end in ENDS}
    return Line(item.runs_per_month, seconds, usd, e.method)
