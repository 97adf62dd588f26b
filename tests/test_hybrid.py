"""Owning a base and renting the peaks (cost.hybrid), and the owned machines' queue, by hand."""

from __future__ import annotations

import pytest

from aipcbench.cost.decide import decide
from aipcbench.cost.hybrid import best_mix, erlang_c_wait_hours, with_mix
from aipcbench.cost.plan import Plan, PlanItem
from aipcbench.cost.plan_tables import read_profile_table
from aipcbench.errors import DataError
from tests.records import own_and_rent

ENDS = ("low", "central", "high")
HOURS = 8 * 365 / 12  # a machine's hours of use a month: 243.33


def _options():
    return own_and_rent()  # $100 + $0.10 a one-hour run owned, $1.50 a run rented; 100 runs a month


PEAKS = [1.0] * 9 + [6.0] * 3  # nine months as planned, three at six times the plan


def test_a_mix_beats_both_pure_answers_by_hand():
    """N = 1 takes work until 85 % busy: 0.85 x 243.33 h = 206.83 runs. A normal month: $100 + 100
    x $0.10 = $110. A peak month: $100 + 206.83 x $0.10 + (600 - 206.83) x $1.50 = $710.43.
    Mean (9 x 110 + 3 x 710.43) / 12 = $260.11. Renting everything: (9 x 150 + 3 x 900) / 12 =
    $337.50. Buying for the peak, 3 machines: (9 x 310 + 3 x 360) / 12 = $322.50."""
    own, rent = _options()
    mix = best_mix(own, rent, PEAKS, None)
    assert mix.owned == 1 and mix.pure_buy_machines == 3
    assert round(mix.monthly_usd, 2) == 260.11
    assert round(mix.pure_rent_usd, 2) == 337.50 and round(mix.pure_buy_usd, 2) == 322.50
    assert mix.beats_both
    plan = Plan((PlanItem("w", "s", "fp32", 100),), "p", profile={"months": PEAKS})
    decision = with_mix(decide(plan, [own], [rent]), [own], [rent])
    assert decision.sentence.endswith("Cheaper still over the year: own 1 and rent the peaks, $260/month.")


def test_the_owned_queue_waits_as_erlang_c_says():
    # one machine at 41.1 % busy (100 h of 243.33), one-hour runs: W = a / (1 - a) = 0.698 h a run
    a = 100 / HOURS
    assert erlang_c_wait_hours(1, a, 1.0) == pytest.approx(a / (1 - a))
    # two machines at a = 1: C(2, 1) = (1/2 x 2) / (1 + 1 + 1) = 1/3; W = 1/3 x 1 h / (2 - 1)
    assert erlang_c_wait_hours(2, 1.0, 1.0) == pytest.approx(1 / 3)
    assert erlang_c_wait_hours(1, 1.0, 1.0) == float("inf")
    own, rent = _options()
    # a normal month waits 100 x 0.698 = 69.8 h; a peak month (85 % busy) 206.83 x 0.85 / 0.15 h
    expected = (9 * 100 * a / (1 - a) + 3 * 0.85 * HOURS * (0.85 / 0.15)) / 12
    assert best_mix(own, rent, PEAKS, None).wait_hours_per_month == pytest.approx(expected)


def test_priced_waiting_moves_the_mix():
    own, rent = _options()
    assert best_mix(own, rent, PEAKS, 50.0).owned == 0  # a person's hour at $50: rent, no queue


@pytest.mark.parametrize(
    "table, needle",
    [
        ({"months": [1] * 11}, "'months' must be 12 numbers"),
        ({"months": [1] * 11 + ["x"]}, "'months' must be 12 numbers"),
        ({"wait_usd_per_hour": -1}, "'wait_usd_per_hour' must be a number"),
        ({"peak": 2}, "[profile] is a table of"),
    ],
)
def test_a_bad_profile_is_one_line(table, needle):
    with pytest.raises(DataError) as info:
        read_profile_table("plan.toml", table)
    assert needle in str(info.value)


def test_cost_says_the_mix_for_a_plan_with_a_profile(cli, tmp_path):
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[work]]\nworkload = "mlp:tiny"\nruns_per_month = 50\n'
        "[profile]\nmonths = [1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4]\n"
    )
    code, out, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan))
    assert code == 0, err
    assert "mix: " in out and "on average over the profile" in out
