"""The pretraining planner (cost.pretrain): FLOPs, time and cost by hand, and the command."""

from __future__ import annotations

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost.pretrain import memory_per_gpu, plan_pretraining, training_flops

CATALOG = load_catalog()
LLAMA_1B = next(m for m in CATALOG.model_configs if m.key == "llama3.2-1b")


def test_flops_time_and_cost_of_a_1b_model_on_20_tokens_a_parameter_by_hand():
    """Llama-3.2-1B shape: 16 layers, 32 heads x 64 = width 2048, sequence 2048.
    FLOPs = D x (6 N + 12 x 16 x 2048 x 2048); on 8 H100s: / (8 x bf16 peak x 40 % MFU x 90 %
    NVLink scaling); cost = hours x the offer's hourly price."""
    tokens = 20 * LLAMA_1B.parameters
    flops = training_flops(LLAMA_1B, tokens, 2048)
    assert flops == pytest.approx(tokens * (6 * LLAMA_1B.parameters + 12 * 16 * 2048 * 2048))
    _, options = plan_pretraining(CATALOG, LLAMA_1B, tokens, 2048)
    node = next(o for o in options if o.gpus == 8 and o.accelerator == "H100-SXM" and o.kind == "rent")
    peak = CATALOG.spec("H100-SXM").peak_tflops("bf16") * 1e12
    hours = flops / (8 * peak * 0.40 * 0.90) / 3600
    assert node.hours.central == pytest.approx(hours)
    offer = next(
        o for o in CATALOG.cloud_offers if f"{o.provider} {o.instance_type}" == node.name and o.gpu_count == 8
    )
    assert node.usd.central == pytest.approx(hours * offer.on_demand_per_hour)
    assert node.hours.low < node.hours.central < node.hours.high  # 65 % x 95 % .. 15 % x 80 %


def test_memory_per_gpu_shards_the_training_state():
    one, eight = memory_per_gpu(LLAMA_1B, 2048, 1), memory_per_gpu(LLAMA_1B, 2048, 8)
    assert one - eight == pytest.approx(LLAMA_1B.parameters * 16 * (1 - 1 / 8))  # 16 bytes a parameter


def test_the_planner_command_prices_an_owned_build_beside_rentals(cli, tmp_path):
    build = tmp_path / "b.toml"
    build.write_text(
        'name = "4x RTX 4090 build"\nprice_usd = 12000\naccelerator = "RTX4090"\npower_w = 2000\n'
    )
    code, out, err = cli("estimate", "--pretrain", "llama3.2-1b", "--machine", str(build), "--gpus", "4")
    assert code == 0, err
    assert "FLOPs = tokens x (6 x parameters + 12 x layers x width x sequence)" in out
    assert "4x RTX 4090 build" in out and "4x RTX4090" in out and "8x H100-SXM" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (("--pretrain", "gpt-9"), "--pretrain: 'gpt-9' is not a catalog model"),
        (("--pretrain", "llama3.2-1b", "--tokens", "5"), "--tokens: 1e6 to 1e15"),
        (("--pretrain", "llama3.2-1b", "--model", "gpt2-124m"), "--pretrain plans a run"),
    ],
)
def test_bad_planner_input_is_one_line(cli, args, message):
    code, _, err = cli("estimate", *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_pretrain_plan_item_is_priced_beside_the_monthly_verdict(cli, tmp_path):
    from aipcbench.cost.plan import read_plan
    from aipcbench.cost.training_items import answer_training
    from tests.conftest import DATA

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[[pretrain]]\nmodel = "llama3.2-1b"\nper_year = 2\n')
    (item,) = read_plan(plan_path, {}, {m.key for m in CATALOG.model_configs}).training
    answer = answer_training(CATALOG, item, [])
    rented = [o for o in plan_pretraining(CATALOG, LLAMA_1B, 20 * LLAMA_1B.parameters, 2048)[1] if o.fits]
    assert answer.cheapest_rent.usd.central == min(o.usd.central for o in rented if o.kind == "rent")
    # a month's share: the run's cost x 2 a year / 12
    assert f"{answer.cheapest_rent.usd.central * 2 / 12:.2f} a month" in "\n".join(answer.lines())
    code, out, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan_path))
    assert code == 0, err
    assert "pretraining Llama-3.2-1B-shaped on 2.47e+10 tokens, 2 a year" in out


@pytest.mark.parametrize(
    "table, body, message",
    [
        ("pretrain", 'model = "gpt-9"', "key 'model' must be a catalog model"),
        (
            "pretrain",
            'model = "llama3.2-1b"\ntokens = -5',
            "key 'tokens' must be a number from 1e+06 to 1e+15",
        ),
        ("pretrain", 'model = "llama3.2-1b"\nper_year = "often"', "key 'per_year' must be a number"),
        ("pretrain", 'model = "llama3.2-1b"\nsteps = 3', "unknown key 'steps'"),
        ("finetune", 'model = "llama3.1-8b"\nmethod = "qlora"', "key 'method' must be one of full, lora"),
        (
            "finetune",
            'model = "llama3.1-8b"\nper_month = 1e9',
            "key 'per_month' must be a number from 0 to 10000",
        ),
        ("finetune", 'model = "llama3.1-8b"\ntokens = [1]', "key 'tokens' must be a number"),
        ("finetune", 'model = "llama3.1-8b"\nper_year = 2', "unknown key 'per_year'"),
        ("finetune", "model = [1, 2]", "key 'model' must be a catalog model"),
        ("finetune", 'model = "llama3.1-8b"\nmethod = { a = 1 }', "key 'method' must be one of full, lora"),
    ],
)
def test_a_bad_training_item_is_one_line(cli, tmp_path, table, body, message):
    from tests.conftest import DATA

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text(f"[[{table}]]\n{body}\n")
    code, _, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan_path))
    assert code == 2 and message in err and err.count("\n") == 1


LLAMA_8B = next(m for m in CATALOG.model_configs if m.key == "llama3.1-8b")


def test_a_lora_fine_tune_by_hand_flops_hours_memory_and_cost(tmp_path):
    """LoRA on the Llama-3.1-8B shape, 10 M tokens of 2048, 4 a month: FLOPs = tokens x (4.8 N +
    12 x 32 x 4096 x 2048) at the centre (4 N to 6 N at the ends); one H100 (no scaling) at 40 %
    MFU; memory = the LoRA training need with checkpointing; a month = 4 x the run's cost."""
    from aipcbench.catalog.train_memory import train_memory_need
    from aipcbench.cost.plan import read_plan
    from aipcbench.cost.training_items import answer_training

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[[finetune]]\nmodel = "llama3.1-8b"\nper_month = 4\n')
    (item,) = read_plan(plan_path, {}, {m.key for m in CATALOG.model_configs}).training
    assert (item.kind, item.method, item.tokens, item.runs_per_month) == ("finetune", "lora", None, 4.0)
    answer = answer_training(CATALOG, item, [])
    attention = 12 * 32 * 4096 * 2048
    assert answer.flops == pytest.approx(1e7 * (4.8 * LLAMA_8B.parameters + attention))
    _, options = plan_pretraining(CATALOG, LLAMA_8B, 1e7, 2048, method="lora")
    one = next(o for o in options if o.gpus == 1 and o.accelerator == "H100-SXM")
    peak = CATALOG.spec("H100-SXM").peak_tflops("bf16") * 1e12
    assert one.hours.central == pytest.approx(answer.flops / (peak * 0.40) / 3600)
    assert one.hours.low == pytest.approx(1e7 * (4 * LLAMA_8B.parameters + attention) / (peak * 0.65) / 3600)
    need = train_memory_need(LLAMA_8B, "lora", "bf16", 1, 2048, checkpointing=True)
    assert one.memory_per_gpu_bytes == need.total_bytes and one.fits
    cheapest = answer.cheapest_rent
    assert cheapest.usd.central == min(o.usd.central for o in options if o.kind == "rent" and o.fits)
    assert f"{cheapest.usd.central * 4:.2f} a month" in "\n".join(answer.lines())


def test_a_full_fine_tune_of_an_8b_model_does_not_fit_one_24_gb_gpu():
    """16 bytes a parameter x 8 B = 128 GB of training state: only sharded over a node it fits."""
    _, options = plan_pretraining(CATALOG, LLAMA_8B, 1e7, 2048, method="full")
    assert not any(o.fits for o in options if o.accelerator == "RTX4090" and o.gpus == 1)
    assert any(o.fits for o in options if o.gpus == 8)


def test_a_plan_with_a_finetune_and_a_pretrain_item_prices_both(cli, tmp_path):
    from tests.conftest import DATA

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text(
        '[[finetune]]\nmodel = "llama3.1-8b"\nmethod = "full"\ntokens = 5e6\nper_month = 2\n\n'
        '[[pretrain]]\nmodel = "llama3.2-1b"\n'
    )
    code, out, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan_path))
    assert code == 0, err
    assert "fine-tuning (full) Llama-3.1-8B-shaped on 5e+06 tokens, 2 a month" in out
    assert "pretraining Llama-3.2-1B-shaped on 2.47e+10 tokens, 1 a year" in out


def test_the_report_shows_what_one_fine_tune_costs(cli, tmp_path):
    """The page's table for a [[finetune]] item: a candidate with a GPU first, then the cheapest
    rentals that fit, each run's cost and its month (runs x cost) as the planner computed them."""
    import html as html_module

    from aipcbench.cost.plan import read_plan
    from aipcbench.cost.training_items import answer_training
    from tests.conftest import DATA

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[[finetune]]\nmodel = "qwen2.5-0.5b"\nmethod = "full"\nper_month = 3\n')
    out = tmp_path / "r.html"
    code, _, err = cli(
        "report",
        str(DATA / "results-v3.json"),
        "--plan",
        str(plan_path),
        "--preset",
        "rtx4090-workstation",
        "--out",
        str(out),
    )
    assert code == 0, err
    page = html_module.unescape(out.read_text())
    assert "What one run costs: fine-tuning (full) Qwen2.5-0.5B-shaped on 1e+07 tokens, 3 a month" in page
    (item,) = read_plan(plan_path, {}, {m.key for m in CATALOG.model_configs}).training
    from aipcbench.catalog import load_catalog
    from aipcbench.cost.machine import build_profile

    workstation = build_profile(
        {"preset": "rtx4090-workstation"}, load_catalog(), "p", {"preset": "--preset"}, {"preset"}
    )
    answer = answer_training(CATALOG, item, [workstation])
    owned = answer.owned[0]
    section = page[page.index("What one run costs") :]
    assert section.index(owned.name) < section.index(answer.cheapest_rent.name)
    assert f"${owned.usd.central * 3:,.2f}" in section


def test_a_fine_tune_measured_here_is_priced_on_this_machine_from_the_measurement(cli, tmp_path):
    """tests/data/results-finetune-cpu.json: `aipcbench run --workloads finetune:lora --model
    gpt2-124m` on a 2-core EPYC (221 tokens/s, one run = 10 M tokens). A [[finetune]] of 1 M
    tokens of the same model and method costs a tenth of that cell's local cost per run and
    takes a tenth of its time; the GPUs beside it stay estimates."""
    from aipcbench.config import PricingConfig
    from aipcbench.cost.advise import advise
    from aipcbench.results.store import load
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text('[[finetune]]\nmodel = "gpt2-124m"\nmethod = "lora"\ntokens = 1e6\nper_month = 4\n')
    documents = [load(DATA / "results-finetune-cpu.json")]
    advice = advise(
        documents, CATALOG, PricingConfig(results=(DATA / "results-finetune-cpu.json",), plan=plan)
    )
    (answer,) = advice.training
    cell = next(c for c in advice.comparisons if c.workload == "finetune")
    here = answer.owned[0]
    assert here.name.startswith("this machine, measured at 221 tokens/s")
    assert here.usd.central == pytest.approx(cell.local.total_usd / 10)
    assert here.hours.central == pytest.approx(cell.seconds_per_run / 10 / 3600)
    code, out, err = cli("cost", str(DATA / "results-finetune-cpu.json"), "--plan", str(plan))
    assert code == 0, err
    assert (
        f"on this machine, measured at 221 tokens/s (fp32) (1x AMD EPYC): ${cell.local.total_usd / 10:.2f}"
        in out
    )


def test_the_answer_adds_the_plan_training_runs_to_both_sides_by_hand(tmp_path):
    """40 VGG16 trainings a month on the RTX 4090 workstation or a rental, plus 4 LoRA fine-tunes
    of the 8B shape (they fit the 4090: its power x their hours x the price per kWh) and one full
    fine-tune of it (it does not fit: rented on the cheapest offer that fits, on both sides)."""
    from aipcbench.config import PricingConfig
    from aipcbench.cost import cash
    from aipcbench.cost.advise import advise
    from aipcbench.results.store import load
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[work]]\nworkload = "vgg16-cifar10:train"\nruns_per_month = 40\n'
        '[[finetune]]\nmodel = "llama3.1-8b"\nper_month = 4\n'
        '[[finetune]]\nmodel = "llama3.1-8b"\nmethod = "full"\nper_month = 1\n'
    )
    pricing = PricingConfig(
        results=(DATA / "results-v3.json",), plan=plan, machine_values={"preset": "rtx4090-workstation"}
    )
    advice = advise([load(DATA / "results-v3.json")], CATALOG, pricing)
    decision, (lora, full) = advice.decision, advice.training
    box = decision.best_own.machine
    on_box = next(o for o in lora.owned if o.name == box.name)
    assert on_box.fits and not any(o.fits for o in full.owned if o.name == box.name)
    own = decision.best_own.monthly_usd() + 4 * on_box.hours.central * box.power_w / 1000 * cash.usd_per_kwh(
        box
    )
    own += 1 * full.cheapest_rent.usd.central
    rent = (
        decision.cheapest_rent.monthly_usd()
        + 4 * lora.cheapest_rent.usd.central
        + full.cheapest_rent.usd.central
    )
    from aipcbench.numbers import usd

    assert (
        f"With the plan's 2 training item(s) (estimated): owning {usd(own)}/month, renting {usd(rent)}/month"
        in (decision.sentence)
    )
    assert "(1 rented anyway: too large for the machine)" in decision.sentence
    assert decision.sentence.endswith(
        ": the answer flips." if (own < rent) != (decision.winner.kind == "own") else ": the answer stands."
    )


def test_a_fine_tune_measured_here_joins_this_machine_s_busy_hours(tmp_path):
    """On this host (no accelerator named), a [[finetune]] of the cell it measured runs on it:
    its hours join the machine's month at the profile's power; the rental side pays the cheapest
    offer that fits. 100 W here: 4 runs x hours x 0.1 kW x the price per kWh."""
    from aipcbench.config import PricingConfig
    from aipcbench.cost import cash
    from aipcbench.cost.advise import advise
    from aipcbench.cost.training_fold import training_month
    from aipcbench.results.store import load
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[work]]\nworkload = "finetune:lora"\nruns_per_month = 1\n'
        '[[finetune]]\nmodel = "gpt2-124m"\ntokens = 1e6\nper_month = 4\n'
    )
    path = DATA / "results-finetune-cpu.json"
    advice = advise(
        [load(path)], CATALOG, PricingConfig(results=(path,), plan=plan, machine_values={"power_w": 100})
    )
    (answer,) = advice.training
    measured = next(o for o in answer.owned if o.method == "measured")
    month = training_month(advice.training, advice.machine)
    assert month.own_hours == pytest.approx(4 * measured.hours.central)
    assert month.own_usd == pytest.approx(4 * measured.hours.central * 0.1 * cash.usd_per_kwh(advice.machine))
    assert month.rent_usd == pytest.approx(4 * answer.cheapest_rent.usd.central)
    assert "With the plan's 1 training item(s)" in advice.decision.sentence


def test_the_training_clause_says_when_the_machine_s_power_is_unknown(tmp_path):
    """No power in the profile: the training's electricity on this machine cannot be counted,
    and the answer says so rather than adding $0 in silence."""
    from aipcbench.config import PricingConfig
    from aipcbench.cost.advise import advise
    from aipcbench.results.store import load
    from tests.conftest import DATA

    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[work]]\nworkload = "finetune:lora"\nruns_per_month = 1\n'
        '[[finetune]]\nmodel = "gpt2-124m"\ntokens = 1e6\nper_month = 4\n'
    )
    path = DATA / "results-finetune-cpu.json"
    advice = advise([load(path)], CATALOG, PricingConfig(results=(path,), plan=plan))
    assert "training electricity not counted: no power known" in advice.decision.sentence
