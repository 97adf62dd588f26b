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
    from aipcbench.cost.pretrain import answer_pretraining
    from tests.conftest import DATA

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[[pretrain]]\nmodel = "llama3.2-1b"\nper_year = 2\n')
    (item,) = read_plan(plan_path, {}, {m.key for m in CATALOG.model_configs}).pretrain
    answer = answer_pretraining(CATALOG, item, [])
    rented = [o for o in plan_pretraining(CATALOG, LLAMA_1B, 20 * LLAMA_1B.parameters, 2048)[1] if o.fits]
    assert answer.cheapest_rent.usd.central == min(o.usd.central for o in rented if o.kind == "rent")
    # a month's share: the run's cost x 2 a year / 12
    assert f"{answer.cheapest_rent.usd.central * 2 / 12:.2f} a month" in "\n".join(answer.lines())
    code, out, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan_path))
    assert code == 0, err
    assert "pretraining Llama-3.2-1B-shaped on 2.47e+10 tokens, 2 a year" in out


@pytest.mark.parametrize(
    "body, message",
    [
        ('model = "gpt-9"', "key 'model' must be a catalog model"),
        ('model = "llama3.2-1b"\ntokens = -5', "key 'tokens' must be a number from 1e+06 to 1e+15"),
        ('model = "llama3.2-1b"\nper_year = "often"', "key 'per_year' must be a number"),
        ('model = "llama3.2-1b"\nsteps = 3', "unknown key 'steps'"),
    ],
)
def test_a_bad_pretrain_item_is_one_line(cli, tmp_path, body, message):
    from tests.conftest import DATA

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text(f"[[pretrain]]\n{body}\n")
    code, _, err = cli("cost", str(DATA / "results-v3.json"), "--plan", str(plan_path))
    assert code == 2 and message in err and err.count("\n") == 1
