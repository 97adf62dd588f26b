"""Where the answer flips (cost.flips): the tornado's ends and the nearest flip, by hand."""

from __future__ import annotations

import pytest

from aipcbench.cost import flips
from aipcbench.cost.decide import Line, Option, decide
from aipcbench.cost.plan import Plan, PlanItem
from tests.records import own_and_rent

ENDS = ("low", "central", "high")
PLAN = Plan((PlanItem("w", "s", "fp32", 100),), "p")


def _options():
    own, rent = own_and_rent()  # owning wins by $40 a month: $110 against $150
    return [own], [rent]


def test_each_input_moved_alone_and_the_nearest_flip_by_hand():
    owns, rents = _options()
    decision = flips.with_flips(decide(PLAN, owns, rents), owns, rents)
    by_name = {s.name: s for s in decision.swings}
    assert round(owns[0].monthly_usd() - rents[0].monthly_usd(), 2) == -40.00
    # the plan at scale s: own 100 + 10 s, rent 150 s: equal at s = 100 / 140 = 71 %
    assert by_name["the plan's size"].flip_words == "71% of the plan"
    # rental prices x k: 150 k = 110 at k = 0.733: "27% lower"
    assert by_name["rental prices"].flip_words == "rental prices 27% lower"
    assert round(by_name["rental prices"].low_margin_usd, 2) == round(110 - 150 * 0.7, 2)  # +5.00
    # lifetime y: 2,400 / 12 y + 10 = 150 at y = 1.43 years, inside 1.33 .. 3.33
    assert by_name["lifetime"].flip_words == "a lifetime of 1.4 years"
    # a price 30 % higher still owns: (3,900 - 600) / 24 + 10 = 147.50 < 150
    assert (
        round(by_name["purchase price"].high_margin_usd, 2) == -2.50
        and not by_name["purchase price"].flip_words
    )
    # nearest as a share of each range: plan 0.29 / 1.5 = 0.19, lifetime 0.57 / 2, rent 0.27 / 0.6
    assert decision.sentence.endswith("Nearest flip: 71% of the plan.")
    assert decision.swings[0].swing_usd == max(s.swing_usd for s in decision.swings)  # widest first


def test_an_answer_no_input_flips_says_so():
    owns, rents = _options()
    cheap = [
        Option(
            "cloud",
            "rent",
            "X",
            (Line(100, dict.fromkeys(ENDS, 3600.0), dict.fromkeys(ENDS, 0.1), "measured"),),
            None,
            0.1,
        )
    ]
    decision = flips.with_flips(decide(PLAN, owns, cheap), owns, cheap)
    assert decision.winner.kind == "rent"
    assert all(not s.flip_words for s in decision.swings)
    assert decision.sentence.endswith("No single input within its range flips it.")


def test_the_tornado_is_in_the_terminal_and_the_report(cli, tmp_path):
    from tests.conftest import DATA

    code, out, err = cli("cost", str(DATA / "results-v3.json"), "--preset", "rtx4090-workstation")
    assert code == 0, err
    assert "what moves the answer: owning minus renting a month" in out and "rental prices 30% lower" in out
    page = tmp_path / "r.html"
    assert cli("report", str(DATA / "results-v3.json"), "--out", str(page))[0] == 0
    assert 'id="fig-tornado"' in page.read_text()


@pytest.mark.parametrize("owns_or_rents", ["owns", "rents"])
def test_without_both_kinds_there_is_no_tornado(owns_or_rents):
    owns, rents = _options()
    owns, rents = (owns, []) if owns_or_rents == "owns" else ([], rents)
    decision = flips.with_flips(decide(PLAN, owns, rents), owns, rents)
    assert decision.swings == ()


def test_an_input_moves_the_best_machine_alone_and_another_candidate_may_take_over():
    """Two candidates: the box ($110 a month) and a dearer one ($140). The box's price x1.3 makes
    it $147.50; the other candidate, unchanged, is then the best owned option at $140."""
    from dataclasses import replace

    owns, rents = _options()
    box = owns[0]
    dearer = replace(box, name="dearer", machine=replace(box.machine, price_usd=3720, name="dearer"))
    assert round(dearer.monthly_usd(), 2) == 140.00  # (3,720 - 600) / 24 + 10
    decision = flips.with_flips(decide(PLAN, [box, dearer], rents), [box, dearer], rents)
    price = next(s for s in decision.swings if s.name == "purchase price")
    assert round(price.high_margin_usd, 2) == round(140.00 - 150.00, 2)  # the dearer one, unchanged
