"""The decision for a plan, pinned to hand calculations (to the cent)."""

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost.decide import Line, Option, break_even_scale, decide
from aipcbench.cost.machine import build_profile
from aipcbench.cost.plan import Plan, PlanItem
from aipcbench.errors import DataError

PLAN = Plan((PlanItem("w", "s", "fp32", 100),), "test plan")


def _machine(**values):
    base = {
        "price_usd": 3000,
        "residual_usd": 600,
        "lifetime_years": 2,
        "hours_per_day": 8,
        "electricity_usd_per_kwh": 0.20,
        "power_w": 500,
        "idle_power_w": 50,
    }
    return build_profile({**base, **values}, load_catalog())


def _own(runs=100, seconds=(1800, 3600, 7200)):
    # 500 W at load: a 1 h run uses 0.5 kWh = $0.10
    usd = {end: 500 * s / 3.6e6 * 0.20 for end, s in zip(("low", "central", "high"), seconds)}
    line = Line(runs, dict(zip(("low", "central", "high"), seconds)), usd, "estimate")
    return Option("box", "own", "RTX4090", (line,), _machine())


def _rent(runs=100, usd=(0.75, 1.50, 3.00), name="cloud"):
    line = Line(
        runs,
        {"low": 1800, "central": 3600, "high": 7200},
        dict(zip(("low", "central", "high"), usd)),
        "estimate",
    )
    return Option(name, "rent", "RTX4090", (line,))


def test_monthly_cost_tco_payback_and_break_even_scale():
    own, rent = _own(), _rent()
    # hardware (3000 - 600) / 24 = 100; load 100 x 0.10 = 10; idle (243.33 - 100) h x 50 W x 0.20 = 1.43
    assert own.available_hours() == pytest.approx(8 * 365 / 12)
    assert round(own.monthly_usd(), 2) == 111.43 and own.machines() == 1
    assert round(rent.monthly_usd(), 2) == 150.00
    assert round(own.tco_usd(24), 2) == round(2400 + 24 * (10 + (8 * 365 / 12 - 100) * 0.01), 2)  # 2674.40
    decision = decide(PLAN, [own], [rent])
    assert decision.winner is own
    assert round(decision.payback_months, 2) == round(3000 / (150 - 11.4333), 2)  # 21.65 months
    # fixed 100 + 243.33 h idle x $0.01 = 102.43; own's variable 10 - 1 (busy hours are not idle) = 9
    assert round(decision.break_even_scale, 4) == round((100 + 8 * 365 / 12 * 0.01) / (150 - 9), 4)  # 0.7265
    assert decision.sentence.startswith("Buy the box: $111/month vs $150/month renting the cheapest (cloud)")
    assert "pays back in 22 months" in decision.sentence


def test_capacity_exceeded_needs_two_machines():
    own = _own(runs=300)  # 300 h of work, 243.3 h of use a month
    assert own.machines() == 2
    # 2 x 100 hardware + 300 x 0.10 load + (486.67 - 300) h idle x $0.01
    assert round(own.monthly_usd(), 2) == round(200 + 30 + (2 * 8 * 365 / 12 - 300) * 0.01, 2)  # 231.87


def test_the_verdict_is_not_robust_when_the_estimate_range_straddles_the_crossing():
    own = _own(runs=200)  # central 200 h (one machine); at the high end 400 h: two machines
    rent = _rent(runs=200, usd=(0.50, 0.65, 0.90))
    decision = decide(Plan((PlanItem("w", "s", "fp32", 200),), "p"), [own], [rent])
    assert decision.winner is own  # 120.43 vs 130.00
    assert (
        round(own.monthly_usd(1.0, "high"), 2) == 240.87 and round(rent.monthly_usd(1.0, "high"), 2) == 180.0
    )
    assert not decision.robust and "the high end of the run-time ranges" in decision.flips
    assert "Not robust" in decision.sentence and "measuring the plan on a rented RTX4090" in decision.sentence


def test_a_robust_answer_says_so():
    own, rent = _own(runs=300), _rent(runs=300, usd=(3.0, 4.0, 6.0))
    decision = decide(Plan((PlanItem("w", "s", "fp32", 300),), "p"), [own], [rent])
    assert decision.robust and "holds across the run-time estimate ranges" in decision.sentence
    assert break_even_scale(_own(runs=300), rent) is None  # two machines at the plan: no one-machine crossing


def test_plan_files_are_checked_with_file_item_and_key(tmp_path):
    from aipcbench.cost.plan import read_plan

    measured = {("vgg16-cifar10", "train", "fp32"): None, ("gpt2-generate", "batched", "fp32"): 128_000}
    plan = tmp_path / "plan.toml"
    plan.write_text('[[work]]\nworkload = "gpt2-generate"\nsize = "batched"\ntokens_per_month = 1_280_000\n')
    assert read_plan(plan, measured).items[0].runs_per_month == 10
    for text, needle in [
        (
            '[[work]]\nworkload = "nope"\nsize = "x"\nruns_per_month = 1\n',
            "[[work]] #1: no measured cell nope:x fp32",
        ),
        (
            '[[work]]\nworkload = "vgg16-cifar10"\nsize = "train"\nruns_per_month = -3\n',
            "key 'runs_per_month' must be",
        ),
        ('[[work]]\nworkload = "vgg16-cifar10"\nsize = "train"\nruns_per_month = "ten"\n', "runs_per_month"),
        (
            '[[work]]\nworkload = "vgg16-cifar10"\nsize = "train"\ntokens_per_month = 5\n',
            "does not generate tokens",
        ),
        ('[[work]]\nworkload = "vgg16-cifar10"\nsize = "train"\n', "exactly one of"),
    ]:
        plan.write_text(text)
        with pytest.raises(DataError) as info:
            read_plan(plan, measured)
        assert needle in str(info.value) and str(plan) in str(info.value)


def _read_item(tmp_path, item: str):
    """A one-item plan read against three measured cells (cnn-mnist:train, gpt2-generate x 2)."""
    from aipcbench.cost.plan import read_plan

    measured = {
        ("cnn-mnist", "train", "fp32"): None,
        ("gpt2-generate", "batched", "fp32"): 128_000,
        ("gpt2-generate", "batch1", "fp32"): 64_000,
    }
    plan = tmp_path / "plan.toml"
    plan.write_text(f"[[work]]\n{item}\nruns_per_month = 4\n")
    return read_plan(plan, measured)


@pytest.mark.parametrize(
    "item, cell",
    [
        ('workload = "cnn-mnist:train"', ("cnn-mnist", "train", "fp32")),
        ('workload = "cnn-mnist"', ("cnn-mnist", "train", "fp32")),  # the only size measured
        ('workload = "cnn-mnist"\nsize = "train"', ("cnn-mnist", "train", "fp32")),
        ('workload = "gpt2-generate:batched"', ("gpt2-generate", "batched", "fp32")),
    ],
)
def test_a_plan_item_names_its_cell_as_the_command_line_does(tmp_path, item, cell):
    (read,) = _read_item(tmp_path, item).items
    assert (read.workload, read.size, read.dtype, read.runs_per_month) == (*cell, 4)


@pytest.mark.parametrize(
    "item, needle",
    [
        ('workload = "gpt2-generate"', "measured at sizes batch1, batched: name one"),
        ('workload = "cnn-mnist:train"\nsize = "eval"', "key 'size' must be text and agree"),
        ("workload = 3", "key 'workload' must be text"),
        ('workload = "cnn-mnist"\ndtype = "bf16"', "no measured cell cnn-mnist bf16"),
    ],
)
def test_a_plan_item_without_a_clear_cell_names_the_real_problem(tmp_path, item, needle):
    with pytest.raises(DataError, match=needle):
        _read_item(tmp_path, item)


def test_a_candidate_on_another_accelerator_is_priced_from_the_ladder_not_the_host(cli):
    from tests.conftest import DATA

    code, out, err = cli(
        "cost", str(DATA / "results-v3.json"), "--preset", "rtx4090-workstation", "--format", "csv"
    )
    assert code == 0, err
    vgg = next(
        line for line in out.splitlines() if line.startswith("vgg16-cifar10,train,fp32") and ",local," in line
    )
    seconds = float(vgg.split(",")[12])
    assert seconds < 60  # the RTX 4090's estimate (about 21 s), never the 2-core CPU's 3.4 h
    code, out, err = cli(
        "cost", str(DATA / "results-v3.json"), "--preset", "rtx4090-workstation", "--preset", "dgx-spark"
    )
    assert code == 0 and out.splitlines()[0].startswith(("Buy the", "Rent "))


def test_a_fragile_answer_says_what_measuring_it_would_cost():
    own = _own(runs=200)
    rent = Option("RunPod 4090", "rent", "RTX4090", _rent(runs=200, usd=(0.50, 0.65, 0.90)).lines, None, 0.72)
    decision = decide(Plan((PlanItem("w", "s", "fp32", 200),), "p"), [own], [rent])
    # ten minutes of the cheapest RTX 4090 rental: 0.72 / 6
    assert "(`aipcbench run` there: about $0.12 on RunPod 4090)" in decision.sentence


def test_a_candidate_without_a_price_is_refused(cli, tmp_path):
    from tests.conftest import DATA

    profile = tmp_path / "mac.toml"
    profile.write_text('name = "Mac Studio"\naccelerator = "M2ULTRA-GPU"\n')
    code, _, err = cli("cost", str(DATA / "results-v3.json"), "--machine", str(profile))
    assert code == 2 and "key 'price_usd' missing" in err and str(profile) in err
    profile.write_text('name = "Mac Studio"\nprice_usd = 3999\naccelerator = "NOPE"\n')
    code, _, err = cli("cost", str(DATA / "results-v3.json"), "--machine", str(profile))
    assert code == 2 and "no spec row for 'NOPE'" in err


def test_unknown_local_energy_is_estimated_from_a_power_or_named_never_a_silent_zero():
    from dataclasses import replace

    from aipcbench.cost.compare import local_energy
    from aipcbench.cost.evidence import measured_cells
    from tests.records import document, ok_record

    catalog = load_catalog()
    (cell,) = measured_cells([document([ok_record(seconds_per_run=3600)])], catalog)
    assert cell.record.energy_per_run_j is None
    joules, method, note = local_energy(cell, _machine(power_w=250))
    assert (joules, method) == (250 * 3600, "estimate-power-x-time") and "250 W" in note
    rtx = replace(cell, spec=catalog.spec("RTX4090"))  # no profile power: the device's rated power
    joules, method, note = local_energy(rtx, _machine(power_w=None, idle_power_w=None))
    assert (joules, method) == (450 * 3600, "estimate-rated-power") and "rated 450 W" in note
    joules, method, note = local_energy(cell, _machine(power_w=None, idle_power_w=None))
    assert joules is None and "electricity not counted" in note
    # ... and the answer names it
    line = Line(
        100,
        {"low": 3600, "central": 3600, "high": 3600},
        dict.fromkeys(("low", "central", "high"), 0.0),
        "measured",
        False,
    )
    own = Option("this machine", "own", "this machine", (line,), _machine(power_w=None, idle_power_w=None))
    decision = decide(PLAN, [own], [_rent()])
    assert (
        "its electricity not counted: no energy measured and no power known for this machine"
        in decision.sentence
    )
