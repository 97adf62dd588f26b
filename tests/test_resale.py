"""A residual that follows the machine's age (cost.resale): the cited curve by hand, the profile
key and its errors, and the tornado moving the residual along the curve with the lifetime."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost import cash, flips
from aipcbench.cost.decide import decide
from aipcbench.cost.machine import build_profile
from aipcbench.cost.plan import Plan, PlanItem
from aipcbench.cost.resale import residual_fraction
from aipcbench.errors import DataError
from tests.records import own_and_rent

CATALOG = load_catalog()


def test_the_consumer_gpu_curve_by_hand():
    """Half its value in 5.5 years (the used RTX 3090's middle): after 3 years exp(-ln 2 x 3 / 5.5)
    = 68.5 %; a $3,000 box keeps $2,055.53 and costs (3,000 - 2,055.53) / 36 = $26.24 a month."""
    box = build_profile({"price_usd": 3000, "lifetime_years": 3, "resale": "consumer-gpu"}, CATALOG)
    assert box.residual_usd == pytest.approx(3000 * math.exp(-math.log(2) * 3 / 5.5))
    assert round(box.residual_usd, 2) == 2055.53
    assert round(cash.hardware_usd_per_month(box), 2) == 26.24
    assert any("consumer-gpu resale curve at 3 years (69% of the price" in a for a in box.assumptions)
    assert residual_fraction("consumer-gpu", 5.5) == pytest.approx(0.5)
    assert residual_fraction("datacenter-gpu", 3) == pytest.approx(0.30)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"resale": "consumer-gpu", "residual_usd": 500}, "give a resale curve or residual_usd, not both"),
        ({"resale": "mac"}, "'mac' is not one of consumer-gpu, datacenter-gpu"),
        ({"resale": 3}, "key 'resale' must be text"),
    ],
)
def test_a_bad_resale_key_is_one_line(values, message):
    with pytest.raises(DataError, match=message):
        build_profile({"price_usd": 3000, **values}, CATALOG)


def test_the_tornado_moves_the_residual_along_the_curve():
    """The records' box (price $3,000, 2 years, $110 a month against renting's $150) on the
    consumer curve: the residual swing runs from the fast end (exp(-0.20 x 2) = 67 %) to the slow
    one (exp(-0.03 x 2) = 94 %), and a longer life now sells for less."""
    own, rent = own_and_rent()
    curved = build_profile(
        {"price_usd": 3000, "lifetime_years": 2, "hours_per_day": 8, "resale": "consumer-gpu"}
        | {"electricity_usd_per_kwh": 0.2, "power_w": 500, "idle_power_w": 0},
        CATALOG,
    )
    own = replace(own, machine=curved)
    plan = Plan((PlanItem("w", "s", "fp32", 100),), "p")
    decision = flips.with_flips(decide(plan, [own], [rent]), [own], [rent])
    by_name = {s.name: s for s in decision.swings}
    residual = by_name["residual value"]
    assert (
        residual.low_words
        == f"a residual of {math.exp(-0.20 * 2):.0%} of the price"
        == "a residual of 67% of the price"
    )
    assert residual.high_words == "a residual of 94% of the price"
    # lifetime x5/3 = 3.33 years: the residual falls to exp(-0.126 x 3.33) = 65.7 % of $3,000, so the
    # hardware month is (3,000 - 1,971) / 40 = $25.72 + $10 electricity: margin 35.72 - 150
    life = by_name["lifetime"]
    kept = 3000 * math.exp(-math.log(2) / 5.5 * 2 * 5 / 3)
    assert life.high_margin_usd == pytest.approx((3000 - kept) / 40 + 10 - 150)


def test_payback_with_a_resale_curve_counts_what_the_machine_would_sell_for():
    """$3,200 on the consumer curve, saving $30 a month over renting: after m months it has lost
    3,200 x (1 - exp(-0.126 m / 12)) and saved 30 m; the two meet where the bisection says, and
    the month checks by hand. Without a curve it is 3,200 / 30 = 106.7 months. Saving more than
    it loses in the first month (3,200 x 0.126 / 12 = $33.60): it pays back from the start."""
    from aipcbench.cost.resale import payback_months

    k = math.log(2) / 5.5
    month = payback_months(3200, 30.0, "consumer-gpu")
    assert 3200 * (1 - math.exp(-k * month / 12)) == pytest.approx(30 * month, rel=1e-9)
    assert 20 < month < 40
    assert payback_months(3200, 30.0, None) == pytest.approx(3200 / 30)
    assert payback_months(3200, 34.0, "consumer-gpu") == 0.0
    assert payback_months(3200, 0.5, "datacenter-gpu") is None  # never, within 50 years
    assert payback_months(3200, -1.0, "consumer-gpu") is None
