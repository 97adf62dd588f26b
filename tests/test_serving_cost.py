"""Serving costs: the batched-decode estimate against hand arithmetic and published serving
rows, the [[serve]] plan items, and every monthly figure to the cent."""

from __future__ import annotations

import math

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_memory import OVERHEAD_BYTES
from aipcbench.cost.estimate import Span
from aipcbench.cost.machine import build_profile
from aipcbench.cost.plan import read_plan
from aipcbench.cost.published_serving import serving_constants, serving_leave_one_out, serving_rows
from aipcbench.cost.serve_decide import decide_serving
from aipcbench.cost.serve_plan import (
    HOURS_PER_MONTH,
    ServeItem,
    ServeOption,
    api_monthly,
    flip_requests_per_day,
    own_monthly,
)
from aipcbench.cost.serving_estimate import (
    Constants,
    Device,
    ServedModel,
    at_batch,
    constants,
    estimate_serving,
    max_batch,
)
from aipcbench.errors import DataError
from aipcbench.results.serving import LatencyStats, LatencyTarget, ServingLevel, ServingRecord
from aipcbench.units import DAYS_PER_MONTH

TOY = ServedModel(1e9, 10, 2, 64, 512, "bf16", 100, 100)
TOY_DEVICE = Device("toy", "toy", "gpu", 24e9, 1000e9, 100e12)
FIXED = Constants(Span(0.5, 0.5, 0.5), Span(0.5, 0.5, 0.5), Span(1e-3, 1e-3, 1e-3), ())


def test_one_batch_point_by_hand():
    tokens, ttft, tpot = at_batch(TOY, TOY_DEVICE, FIXED, 4, "central")
    kv = 2 * 10 * 2 * 64 * 2  # bytes per token of context: 5,120
    step = (2e9 + 4 * kv * 150) / 500e9 + 1e-3  # memory-bound: 5.006 ms
    prefill = (2e9 * 100 + 2 * 10 * 512 * 100 * 100) / 50e12 + 1e-3  # compute-bound: 5.002 ms
    assert step == pytest.approx(5.006144e-3) and prefill == pytest.approx(5.002048e-3)
    assert tokens == pytest.approx(4 * 100 / (100 * step + 4 * prefill))
    assert ttft == pytest.approx(prefill + step) and tpot == pytest.approx(step + 4 * prefill / 100)


def test_the_batch_is_capped_by_the_memory_left_for_the_kv_cache():
    catalog = load_catalog()
    llama8b = next(m for m in catalog.model_configs if m.key == "llama3.1-8b")
    model = ServedModel.of(llama8b, "bf16", 1500, 300)
    rtx4090 = Device.from_spec(catalog.spec("RTX4090"), "bf16")
    free = 24e9 * 0.9 - 8_030_261_248 * 2 - OVERHEAD_BYTES
    assert max_batch(model, rtx4090) == math.floor(free / (2 * 32 * 8 * 128 * 2 * 1800)) == 21
    rtx4080 = Device.from_spec(catalog.spec("RTX4080"), "bf16")
    assert estimate_serving(model, rtx4080, constants(catalog, "gpu", "bf16"), 1.0) is None  # 16 GB < weights


def test_the_latency_target_limits_the_batch():
    loose = estimate_serving(TOY, TOY_DEVICE, FIXED, ttft_target_s=10.0)
    tight = estimate_serving(TOY, TOY_DEVICE, FIXED, ttft_target_s=0.0105)
    assert loose.batch > tight.batch and tight.limited_by == "latency target"
    assert tight.ttft_s.central <= 0.0105 and tight.tokens_per_s.central < loose.tokens_per_s.central


def test_published_vllm_rows_are_predicted_leaving_each_out_within_their_range():
    """Each vLLM row (W3-10, W3-10-7B) predicted with the fixed cost per step fitted on the other:
    the estimator's structure (weights streamed once per token plus a fixed cost) is what is
    checked, not a constant read off the row itself."""
    catalog = load_catalog()
    predictions = {p.row.id: p for p in serving_leave_one_out(catalog)}
    assert set(predictions) == {"W3-10", "W3-10-7B"}
    for p in predictions.values():
        assert p.inside, p.row.id
        assert p.calibrated_on == tuple({"W3-10", "W3-10-7B"} - {p.row.id}), p.row.id
    assert abs(predictions["W3-10-7B"].error) < 0.2  # the 7B is mostly its weight stream


def test_the_fixed_cost_per_step_is_what_a_row_leaves_after_its_weight_stream():
    """By hand: a generation of o tokens at batch 1 takes o x (decode + h) + (prefill + h)."""
    catalog = load_catalog()
    row = next(r for r in serving_rows(catalog) if r.row.id == "W3-10-7B")
    c = serving_constants(catalog, "gpu", "bf16", exclude="W3-10")  # fitted on W3-10-7B alone
    bandwidth = 2039e9 * c.memory_efficiency.central
    decode = row.model.step_bytes(1) / bandwidth
    prefill = max(row.model.weight_bytes / bandwidth, row.model.prefill_flops() / (312e12 * 0.4))
    h = (2048 / 84.28 - 2048 * decode - prefill) / 2049
    assert c.step_overhead_s.central == pytest.approx(h)
    assert at_batch(row.model, row.device, c, 1, "central")[0] == pytest.approx(84.28)
    assert "serving_step_overhead_s from published W3-10-7B" in c.sources


def _plan(tmp_path, text):
    path = tmp_path / "plan.toml"
    path.write_text(text)
    return read_plan(path, {}, {"llama3.1-8b", "qwen2.5-0.5b"})


def test_a_serve_plan_item_with_defaults_said(tmp_path):
    plan = _plan(tmp_path, '[[serve]]\nmodel = "llama3.1-8b"\nrequests_per_day = 20_000\n')
    (item,) = plan.serve
    assert (item.quantization, item.prompt_tokens, item.output_tokens, item.peak_to_average) == (
        "q4_K_M",
        512,
        256,
        3,
    )
    assert item.target.ttft_p95_s == 1.0 and "peak_to_average = 3" in item.assumed
    assert plan.items == ()
    tokens = _plan(
        tmp_path, '[[serve]]\nmodel = "llama3.1-8b"\ntokens_per_month = 1e9\noutput_tokens = 250\n'
    )
    assert tokens.serve[0].requests_per_day == pytest.approx(1e9 / 250 / DAYS_PER_MONTH)


@pytest.mark.parametrize(
    "body, message",
    [
        ('model = "gpt-9"\nrequests_per_day = 1', "key 'model' must be a catalog model"),
        ('model = "llama3.1-8b"', "exactly one of 'requests_per_day' and 'tokens_per_month'"),
        ('model = "llama3.1-8b"\nrequests_per_day = 1\ntokens_per_month = 5', "exactly one of"),
        ('model = "llama3.1-8b"\nrequests_per_day = [1]', "key 'requests_per_day' must be a number"),
        ('model = "llama3.1-8b"\nrequests_per_day = 1e300', "must be between 0 and 1e.10"),
        (
            'model = "llama3.1-8b"\nrequests_per_day = 1\nquantization = "q2"',
            "key 'quantization' must be one of",
        ),
        (
            'model = "llama3.1-8b"\nrequests_per_day = 1\npeak_to_average = 0.5',
            "'peak_to_average' must be between",
        ),
        ('model = "llama3.1-8b"\nrequests_per_day = 1\ncolour = "red"', "unknown key 'colour'"),
    ],
)
def test_bad_serve_items_name_the_key(tmp_path, body, message):
    with pytest.raises(DataError, match=message):
        _plan(tmp_path, "[[serve]]\n" + body + "\n")


def _item(**kwargs):
    values = dict(
        model="llama3.1-8b",
        quantization="q4_K_M",
        requests_per_day=10_000,
        prompt_tokens=1500,
        output_tokens=300,
        peak_to_average=4.0,
        target=LatencyTarget(1.0),
    )
    return ServeItem(**{**values, **kwargs})


def _machine():
    catalog = load_catalog()
    return build_profile(
        {
            "price_usd": 3000,
            "residual_usd": 600,
            "lifetime_years": 3,
            "power_w": 400,
            "idle_power_w": 100,
            "electricity_usd_per_kwh": 0.2,
        },
        catalog,
    )


def test_owned_machines_sized_at_the_peak_and_on_all_day_to_the_cent():
    item, machine = _item(), _machine()
    average = 10_000 * 300 / 86400  # 34.72 tokens/s; peak x4 = 138.9: two machines of 100 tokens/s
    monthly, n, note = own_monthly(item, 100.0, machine, None)
    watts = 100 + 300 * average / 200
    expected = 2 * 2400 / 36 + 2 * HOURS_PER_MONTH * watts / 1000 * 0.2
    assert n == 2 and note == "" and round(monthly, 2) == round(expected, 2) == 177.74


def test_api_monthly_bills_prompt_and_answer_to_the_cent():
    item = _item()
    per_mtok_output = 0.05 + 0.03 * 1500 / 300  # DeepInfra's 8B in the item's ratio
    assert round(api_monthly(item, per_mtok_output), 2) == round(
        10_000 * DAYS_PER_MONTH * (1500 * 0.03 + 300 * 0.05) / 1e6, 2
    )


def test_the_flip_point_where_one_machine_and_an_api_cost_the_same():
    item, machine = _item(), _machine()
    own = ServeOption("1 x box", "own", 0, 0, 0, 1, "estimate", capacity_tokens_per_s=100.0, machine=machine)
    api = ServeOption("api", "api", 300.0, 300.0, 300.0, 0, "list price")
    fixed = 2400 / 36 + HOURS_PER_MONTH * 100 / 1000 * 0.2
    per_request_own = 0.3 * (300 / 100 / 3600) * 0.2
    per_request_api = 300.0 / (10_000 * DAYS_PER_MONTH)
    flip = flip_requests_per_day(item, own, api)
    assert flip == pytest.approx(fixed / (per_request_api - per_request_own) / DAYS_PER_MONTH)
    cheap = ServeOption("api", "api", 10.0, 10.0, 10.0, 0, "list price")
    assert flip_requests_per_day(item, own, cheap) is None  # past what one machine serves


def _record(tokens_per_s: float) -> ServingRecord:
    stats = LatencyStats(8, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4)
    level = ServingLevel(
        "concurrency",
        4,
        None,
        8,
        0,
        10.0,
        int(tokens_per_s * 10),
        1000,
        "usage",
        tokens_per_s,
        100.0,
        0.8,
        ttft=stats,
        meets_target=True,
        energy_j=1500.0,
    )
    return ServingRecord(
        "serve:llama.cpp:llama3.1-8b:q4_K_M",
        "llama.cpp",
        "b1",
        "cpu",
        "AMD EPYC",
        "llama3.1-8b",
        "Llama",
        "random-init",
        "q4_K_M",
        "completions",
        1500,
        300,
        LatencyTarget(1.0),
        "ok",
        levels=(level,),
    )


def test_this_machine_is_priced_from_its_measured_level():
    catalog = load_catalog()
    decision = decide_serving(_item(requests_per_day=100), catalog, [_record(20.0)], [_machine()])
    own = next(o for o in decision.options if o.kind == "own")
    assert own.method == "measured" and own.capacity_tokens_per_s == 20.0 and own.machines == 1
    # measured power 1500 J / 10 s = 150 W at load, 100 W idle
    utilisation = (100 * 300 / 86400) / 20.0
    expected = 2400 / 36 + HOURS_PER_MONTH * (100 + 50 * utilisation) / 1000 * 0.2
    assert round(own.monthly_usd, 2) == round(expected, 2)
    assert (
        decision.sentence.startswith(("Use ", "Self-host ", "Rent "))
        and "requests a day" in decision.sentence
    )
    assert decision.options == tuple(sorted(decision.options, key=lambda o: o.monthly_usd))


def test_a_candidate_gpu_is_estimated_with_a_range_and_an_unmeasured_host_is_said():
    catalog = load_catalog()
    rtx = build_profile({"preset": "rtx4090-workstation"}, catalog)
    decision = decide_serving(_item(), catalog, [], [_machine(), rtx])
    own = next(o for o in decision.options if o.kind == "own")
    assert own.method == "estimate" and own.monthly_usd_low <= own.monthly_usd <= own.monthly_usd_high
    assert any("cannot be priced on this machine" in note for note in decision.notes)
