"""Renting by session: set-up, idle tail, upload, storage and egress beside the busy hours,
pinned to hand calculations to the cent."""

from __future__ import annotations

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost.decide import Line, Option, decide
from aipcbench.cost.plan import Plan, PlanItem, read_plan
from aipcbench.cost.sessions import (
    ProviderStorage,
    RentTerms,
    provider_storage,
    read_rent_table,
    rent_month_usd,
    rent_terms,
)
from aipcbench.errors import DataError

AWS = ProviderStorage(0.08, 0.09, 100.0, "test")
ENDS = ("low", "central", "high")


def _terms(**given) -> RentTerms:
    base = {
        "sessions_per_month": 20,
        "setup_minutes": 6,
        "idle_minutes": 5,
        "data_gb": 50,
        "egress_gb_per_month": 0,
    }
    return rent_terms({**base, **given}, [], None)


def test_a_session_heavy_plan_pays_set_up_and_idle_per_session_by_hand():
    """200 runs of 1 minute in 20 sessions on a $2.00/h instance billed per minute:
    each session is 10 runs (600 s) + 6 min set-up + 5 min idle = 1,260 s = 21 billed minutes;
    20 x 21 min x $2.00/h = $14.00, beside 50 GB on a volume at $0.08 = $4.00: $18.00.
    Run by run it was 200 x 1 min x $2.00/h = $6.67: the sessions triple the rental."""
    terms = _terms()
    assert terms.overhead_s == 660
    month = rent_month_usd(200 * 60, 200, 2.00, 60, 60, terms, AWS)
    assert round(month, 2) == 18.00
    # fewer runs than sessions: 5 runs make 5 sessions, not 20
    assert round(rent_month_usd(5 * 60, 5, 2.00, 60, 60, terms, AWS), 2) == round(
        5 * 12 / 60 * 2.00 + 4.00, 2
    )


def test_a_storage_heavy_plan_pays_the_volume_and_egress_by_hand():
    """2 TB of data kept all month at $0.08 = $160.00; 500 GB downloaded, the first 100 free,
    400 x $0.09 = $36.00; 10 one-hour runs in 10 sessions at $1.00/h billed per second with
    6 + 5 minutes each: 10 x (3,600 + 660) s = 11.83 h = $11.83. Total $207.83."""
    terms = _terms(data_gb=2000, egress_gb_per_month=500, sessions_per_month=10)
    assert round(rent_month_usd(10 * 3600, 10, 1.00, 1, 0, terms, AWS), 2) == 207.83
    uploaded = _terms(data_gb=2000, keep_data=False, upload_mbit_s=1000, sessions_per_month=10)
    # not kept: no volume, but 2,000 GB x 8,000 / 1,000 Mbit/s = 16,000 s uploaded each session
    assert uploaded.overhead_s == 660 + 16_000
    assert round(rent_month_usd(10 * 3600, 10, 1.00, 1, 0, uploaded, AWS), 2) == round(
        10 * (3600 + 16_660) / 3600, 2
    )


def test_the_rental_option_prices_by_session_and_the_answer_can_flip():
    """The same 200 one-minute runs: run by run renting wins ($6.67 vs owning $12.00); by session
    ($18.00) owning does."""
    line = Line(200, dict.fromkeys(ENDS, 60.0), dict.fromkeys(ENDS, 2.00 / 60), "measured")
    plan = Plan((PlanItem("w", "s", "fp32", 200),), "p")
    per_run = Option("cloud", "rent", "X", (line,), None, 2.00)
    by_session = Option("cloud", "rent", "X", (line,), None, 2.00, _terms(), AWS, (60, 60))
    own = Option(
        "box",
        "own",
        "X",
        (Line(200, dict.fromkeys(ENDS, 60.0), dict.fromkeys(ENDS, 0.0), "measured"),),
        _box(),
    )
    assert round(per_run.monthly_usd(), 2) == 6.67 and round(by_session.monthly_usd(), 2) == 18.00
    assert decide(plan, [own], [per_run]).winner is per_run
    assert decide(plan, [own], [by_session]).winner is own


def _box():
    from aipcbench.cost.machine import build_profile

    values = {
        "price_usd": 1000,
        "residual_usd": 136,
        "lifetime_years": 6,
        "hours_per_day": 8,
        "electricity_usd_per_kwh": 0.2,
    }
    return build_profile({**values, "power_w": 0, "idle_power_w": 0}, load_catalog())  # $12.00 a month


def test_defaults_are_said_and_a_measured_start_up_replaces_the_assumed_set_up():
    terms = rent_terms({}, [], None)
    assert (
        terms.sessions_per_month == pytest.approx(260 / 12)
        and terms.setup_s == 300
        and terms.idle_tail_s == 300
    )
    assert any("ASSUMED" in a for a in terms.assumed) and any("SkyPilot" in a for a in terms.assumed)
    measured = rent_terms({}, [], 95.0, "the median of 3 aipcbench cloud runs")
    assert measured.setup_s == 95 and any("aipcbench cloud" in a for a in measured.assumed)


def test_storage_prices_come_from_cited_rows_or_a_labelled_median():
    catalog = load_catalog()
    aws = provider_storage(catalog, "AWS")
    assert (aws.volume_usd_per_gb_month, aws.egress_usd_per_gb, aws.free_egress_gb) == (0.08, 0.09, 100)
    assert provider_storage(catalog, "RunPod").egress_usd_per_gb == 0  # "no additional fees for ... egress"
    unknown = provider_storage(catalog, "Vast.ai")
    assert (
        unknown.basis.startswith("ASSUMPTION") and unknown.volume_usd_per_gb_month == 0.08
    )  # median of .07 .08 .20


@pytest.mark.parametrize(
    "table, needle",
    [
        ({"sessions": 3}, "unknown key 'sessions'"),
        ({"sessions_per_month": 0}, "between 0.01 and 10000"),
        ({"data_gb": "lots"}, "key 'data_gb' must be a number"),
        ({"keep_data": "yes"}, "'keep_data' must be true or false"),
        ([1, 2], "[rent] must be a table"),
    ],
)
def test_a_bad_rent_table_is_one_line(table, needle):
    with pytest.raises(DataError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        read_rent_table("plan.toml", table)


def test_a_plan_file_carries_its_rent_table(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(
        '[[work]]\nworkload = "cnn-mnist:train"\nruns_per_month = 3\n\n[rent]\nsessions_per_month = 4\n'
    )
    plan = read_plan(path, {("cnn-mnist", "train", "fp32"): None})
    assert plan.rent == {"sessions_per_month": 4.0}


def test_cost_and_report_say_the_renting_terms(cli, tmp_path):
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text('[[work]]\nworkload = "mlp:tiny"\nruns_per_month = 50\n[rent]\nsessions_per_month = 5\n')
    results = str(DATA / "results-v3.json")
    code, out, err = cli("cost", results, "--plan", str(plan))
    assert code == 0, err
    assert "renting: 5 sessions a month, each billing 10.0 min beside its runs" in out
    assert "assumption: set-up per session 5 min ASSUMED" in out
    page = tmp_path / "r.html"
    code, out, err = cli("report", results, "--plan", str(plan), "--out", str(page))
    assert code == 0, err
    assert 'id="rent-terms"' in page.read_text() and "5 sessions a month" in page.read_text()


def test_a_spot_run_takes_the_time_interruptions_add_by_hand():
    from aipcbench.cost.spot import expected_seconds

    # 10 h at 0.01 interruptions an hour, no checkpoint, 300 s to restart:
    # (e^0.1 - 1) = 0.1051709 interruptions: 0.1051709 x 360,000 + 0.1051709 x 300 = 37,893.1 s
    assert round(expected_seconds(36_000, 0.01, None, 300), 1) == 37_893.1
    # hourly checkpoints: 10 x (e^0.01 - 1) x (360,000 + 300) = 36,210.8 s
    assert round(expected_seconds(36_000, 0.01, 3600, 300), 1) == 36_210.8
    assert expected_seconds(36_000, 0.0, None, 300) == 36_000
    assert expected_seconds(3600 * 10_000, 1.0, None, 0) == float("inf")  # never finishes


def test_spot_wins_only_where_the_plan_tolerates_interruptions():
    hour = dict.fromkeys(ENDS, 3600.0)
    on_demand = Option(
        "cloud", "rent", "X", (Line(10, hour, dict.fromkeys(ENDS, 2.0), "measured"),), None, 2.0
    )
    spot = Option(
        "cloud (spot)", "rent", "X", (Line(10, hour, dict.fromkeys(ENDS, 0.8), "measured"),), None, 0.8
    )
    item = (PlanItem("w", "s", "fp32", 10),)
    assert decide(Plan(item, "p"), [], [on_demand, spot]).winner is on_demand
    tolerant = Plan(item, "p", rent={"spot": True})
    assert decide(tolerant, [], [on_demand, spot]).winner is spot
    assert "spot: 0.01 interruptions a running hour" in rent_terms({"spot": True}, [], None).describe()


def test_data_sizes_read_as_people_write_them():
    from aipcbench.cost.sessions import gigabytes

    assert [gigabytes(v) for v in (0.001, 0.72, 12.5, 500, 12_345.6)] == [
        "under 0.01 GB",
        "0.72 GB",
        "12.5 GB",
        "500 GB",
        "12,346 GB",
    ]


def test_a_quoted_reservation_bills_every_hour_and_wins_only_a_busy_plan_by_hand():
    """A $2.00/h instance reserved at 40 % off: $1.20 x 730.0 h = $876.00 a month, + 50 GB on a
    volume at $0.08 = $4.00: $880.00, whether the plan keeps it busy 10 hours or 700. 1,000 busy
    hours need two reserved instances: $1,756.00. On demand by session, 200 one-hour runs in 20
    sessions (10 h + 11 min each, billed per minute): 20 x 611 min x $2.00/h = $407.33 + $4.00."""
    from aipcbench.cost.sessions import HOURS_PER_MONTH, reserved_month_usd

    terms = _terms(reserved_discount=0.4)
    assert terms.reserved_discount == 0.4 and "reserved at 40% off on-demand" in terms.describe()
    assert round(HOURS_PER_MONTH, 2) == 730.0
    assert round(reserved_month_usd(10 * 3600, 1.20, terms, AWS), 2) == 880.00
    assert round(reserved_month_usd(700 * 3600, 1.20, terms, AWS), 2) == 880.00
    assert round(reserved_month_usd(1000 * 3600, 1.20, terms, AWS), 2) == 1756.00
    line = Line(200, dict.fromkeys(ENDS, 3600.0), dict.fromkeys(ENDS, 2.0), "measured")
    on_demand = Option("cloud", "rent", "X", (line,), None, 2.00, terms, AWS, (60, 60))
    reserved = Option(
        "cloud (reserved, 40% off)", "rent", "X", (line,), None, 1.20, terms, AWS, (60, 60), True
    )
    assert round(on_demand.monthly_usd(), 2) == round(20 * 611 / 60 * 2.00 + 4.00, 2) == 411.33
    assert round(reserved.monthly_usd(), 2) == 880.00
    assert round(reserved.monthly_usd(scale=3.5), 2) == 880.00  # 700 busy hours: still one
    assert on_demand.monthly_usd(scale=3.5) > reserved.monthly_usd(scale=3.5)  # a busy plan: reserved wins


def test_a_plan_with_a_quoted_reservation_prices_a_reserved_option(cli, tmp_path):
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[work]]\nworkload = "vgg16-cifar10:train"\nruns_per_month = 40\n[rent]\nreserved_discount = 0.35\n'
    )
    code, out, err = cli(
        "cost", str(DATA / "results-v3.json"), "--plan", str(plan), "--preset", "rtx4090-workstation"
    )
    assert code == 0, err
    assert "(reserved, 35% off)" in out
    plan.write_text(
        '[[work]]\nworkload = "vgg16-cifar10:train"\nruns_per_month = 40\n[rent]\nreserved_discount = 2\n'
    )
    code, _, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan))
    assert code == 2 and "key 'reserved_discount' must be between 0 and 0.9" in err and err.count("\n") == 1
