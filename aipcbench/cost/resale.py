"""What an owned machine sells for, by age: a curve instead of one residual figure, so a
machine kept longer is worth less at the end (the tornado's lifetime swing moves its residual
with it). A profile opts in with ``resale = "consumer-gpu"`` or ``"datacenter-gpu"``.

    residual(t) = price x exp(-k t)                       t: years of use

    consumer-gpu    RTX 3090 sold used at 33-67 % of its launch price 5.5 years on; RTX 4090 at
                    75-105 % 3.5 years on (listings 2026-02..05, shared reference cost-data.md,
                    section B): central k = ln 2 / 5.5 = 0.126 a year (the 3090's middle, half
                    its value in 5.5 years); fast end 0.20 (the 3090 at 33 %), slow end 0.03 (the
                    4090 at 90 %: a tight market for 24 GB cards, said to be unusual)
    datacenter-gpu  an 8x H100 node at 25-35 % after 36 months (an unsourced aggregator page, weak:
                    cost-data.md E.1): k = ln(1 / 0.30) / 3 = 0.401, from 0.35 (35 %) to 0.46 (25 %)

ASSUMPTION, said wherever it is used: a whole system's other parts (CPU, memory, case) are taken
to hold their value as its GPU does; no resale data for Apple or AMD systems was found, so no
curve is offered for them.
"""

from __future__ import annotations

import math

from aipcbench.cost.estimate import Span

# decay a year: low = slow (keeps its value), high = fast
CURVES = {
    "consumer-gpu": Span(0.03, math.log(2) / 5.5, 0.20),
    "datacenter-gpu": Span(0.35, math.log(1 / 0.30) / 3, 0.46),
}
CITED = {
    "consumer-gpu": "used RTX 3090 at 33-67 % of launch after 5.5 years, RTX 4090 at 75-105 % after 3.5",
    "datacenter-gpu": "an 8x H100 node at 25-35 % after 3 years (weak source)",
}


def residual_fraction(curve: str, years: float, end: str = "central") -> float:
    """The share of the price a machine of ``curve`` sells for after ``years``; ``end`` "low"
    is the slow decay (the most it may fetch), "high" the fast one."""
    return math.exp(-getattr(CURVES[curve], end) * years)


MAX_PAYBACK_MONTHS = 600.0


def payback_months(price_usd: float, saving_usd_per_month: float, curve: str | None) -> float | None:
    """Months until the month-by-month saving over renting covers what owning has lost: the
    price without a curve (the residual only comes at the end), the price less what the machine
    would sell for that month with one. 0 when it loses value slower than it saves from the
    start; None when it never pays back within 50 years."""
    if saving_usd_per_month <= 0:
        return None
    if curve is None:
        return price_usd / saving_usd_per_month

    def short(month: float) -> float:  # what is still not paid back after ``month`` months
        return price_usd * (1 - residual_fraction(curve, month / 12)) - saving_usd_per_month * month

    if short(1e-6) <= 0:
        return 0.0
    low, high = 0.0, MAX_PAYBACK_MONTHS
    if short(high) > 0:
        return None
    for _ in range(60):  # the loss is concave in the month, the saving linear: one crossing
        middle = (low + high) / 2
        low, high = (middle, high) if short(middle) > 0 else (low, middle)
    return high


def resale_assumption(curve: str, price_usd: float, years: float) -> str:
    share = residual_fraction(curve, years)
    return (
        f"residual ${price_usd * share:,.0f} ASSUMED: the {curve} resale curve at {years:g} years "
        f"({share:.0%} of the price; {CITED[curve]}; cost-data.md), applied to the whole machine"
    )
