"""Owning over time (cost.cash): discount rate, loan, PUE and upkeep, by hand to the cent."""

from __future__ import annotations

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost import cash
from aipcbench.cost.decide import Line, Option
from aipcbench.cost.machine import build_profile
from aipcbench.errors import DataError

BOX = {
    "price_usd": 3000,
    "residual_usd": 600,
    "lifetime_years": 3,
    "hours_per_day": 8,
    "electricity_usd_per_kwh": 0.2,
}


def _box(**more):
    return build_profile({**BOX, **more}, load_catalog())


def test_without_a_rate_or_a_loan_the_month_is_the_straight_line():
    assert round(cash.hardware_usd_per_month(_box()), 2) == 66.67  # (3,000 - 600) / 36


def test_a_discount_rate_weighs_the_residual_less_and_spreads_the_price_as_an_annuity():
    """8 % a year over 36 months: (1 + r)^36 = 1.08^3 = 1.259712; the residual is worth
    600 / 1.259712 = $476.30 today; present cost $2,523.70; A = (1 - 1 / 1.259712) / r with
    r = 1.08^(1/12) - 1 = 0.0064340 gives 32.043 months; $2,523.70 / 32.043 = $78.76 a month."""
    box = _box(discount_rate=0.08)
    r = 1.08 ** (1 / 12) - 1
    annuity = (1 - 1 / 1.08**3) / r
    assert round(annuity, 3) == 32.043
    assert round(cash.present_cost(box), 2) == 2523.70
    assert round(cash.hardware_usd_per_month(box), 2) == 78.76
    assert round(cash.npv(100.0, 0.08, 36), 2) == round(100 * annuity, 2)  # $3,204.34


def test_a_loan_pays_interest_and_the_month_follows_its_payments():
    """9 % APR over 3 years: 3,000 x 0.0075 / (1 - 1.0075^-36) = $95.399 a month; 36 payments are
    $3,434.37; less the residual $600: $2,834.37 over 36 months = $78.73 a month (no discount)."""
    box = _box(financing_apr=0.09, financing_years=3)
    assert round(cash.loan_payment(3000, 0.09, 36), 2) == 95.40
    assert round(cash.present_cost(box), 2) == 2834.37
    assert round(cash.hardware_usd_per_month(box), 2) == 78.73


def test_cooling_and_upkeep_land_in_the_owned_month():
    """PUE 1.5 and 2 h of admin at $60: a plan of 100 one-hour runs at 500 W on one machine.
    hardware 66.67 + upkeep 120.00 + load 100 x 0.5 kWh x $0.20 x 1.5 = 15.00 + idle
    (243.33 - 100) h x 0 W: $201.67."""
    box = _box(pue=1.5, maintenance_hours_per_month=2, admin_usd_per_hour=60, power_w=500, idle_power_w=0)
    ends = ("low", "central", "high")
    usd = dict.fromkeys(ends, 500 * 3600 / 3.6e6 * cash.usd_per_kwh(box))
    option = Option("box", "own", "X", (Line(100, dict.fromkeys(ends, 3600.0), usd, "measured"),), box)
    assert cash.usd_per_kwh(box) == pytest.approx(0.30)
    assert round(option.monthly_usd(), 2) == 201.67


@pytest.mark.parametrize(
    "more, needle",
    [
        ({"financing_apr": 0.09}, "give both 'financing_apr' and 'financing_years'"),
        ({"maintenance_hours_per_month": 4}, "needs 'admin_usd_per_hour'"),
        ({"pue": 0.8}, "key 'pue' must be a finite number in [1, 3]"),
        ({"discount_rate": "8%"}, "key 'discount_rate' must be a number"),
    ],
)
def test_bad_cash_terms_are_one_line(more, needle):
    with pytest.raises(DataError) as info:
        _box(**more)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_the_defaults_are_said_once():
    assert "no discount rate, no cooling overhead (PUE 1.0), no upkeep time assumed" in _box().assumptions
    assert not any("discount" in a for a in _box(discount_rate=0.05, pue=1.2).assumptions)


def test_cost_says_the_present_values_when_a_discount_rate_is_given(cli, tmp_path):
    from tests.conftest import DATA

    machine = tmp_path / "m.toml"
    machine.write_text("price_usd = 3000\nlifetime_years = 3\ndiscount_rate = 0.08\n")
    code, out, err = cli("cost", str(DATA / "results-v3.json"), "--machine", str(machine))
    assert code == 0, err
    assert "present value over 36 months at 8% a year: owning this machine $" in out
    page = tmp_path / "r.html"
    assert cli("report", str(DATA / "results-v3.json"), "--machine", str(machine), "--out", str(page))[0] == 0
    assert 'id="present-value"' in page.read_text()
