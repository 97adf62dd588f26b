"""The cost model pinned to hand-computed examples (to the cent)."""

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost import formulas as cost
from aipcbench.cost.compare import compare
from aipcbench.cost.machine import build_profile, read_toml
from aipcbench.errors import DataError
from aipcbench.results.record import Energy, Flops, StepDemand
from tests.records import document, ok_record


def cents(value):
    return round(value, 2)


def test_hardware_share_and_local_cost_per_run():
    from aipcbench.cost import cash
    from aipcbench.cost.machine import build_profile

    box = build_profile(
        {"price_usd": 3000, "residual_usd": 600, "lifetime_years": 3, "hours_per_day": 8}, load_catalog()
    )
    per_hour = cash.hardware_usd_per_hour(box)  # 2400 / (3 x 365 x 8) = 0.27397/h
    assert per_hour == pytest.approx(2400 / 8760)
    assert cash.hardware_usd_per_month(box) == pytest.approx(2400 / 36)
    local = cost.local_cost_per_run(1800, 3.6e6, per_hour, 0.15)  # half an hour, 1 kWh
    assert cents(local.hardware_usd) == 0.14 and cents(local.electricity_usd) == 0.15
    assert cents(local.total_usd) == 0.29
    assert cost.local_cost_per_run(1800, None, per_hour, 0.15).electricity_usd == 0.0


@pytest.mark.parametrize(
    "seconds, increment, minimum, startup, billed",
    [
        (61, 60, 60, 0, 120),  # per-minute: a started minute is a minute
        (30, 1, 60, 0, 60),  # per-second with a 60 s minimum
        (59.5, 1, 0, 0, 60),  # per-second rounds up the fraction
        (100, 60, 60, 45, 180),  # start-up time is billed too: ceil(145 / 60) minutes
        (3600, 1, 60, 0, 3600),
    ],
)
def test_billing_increments_and_minimums(seconds, increment, minimum, startup, billed):
    assert cost.billed_seconds(seconds, increment, minimum, startup) == billed


def test_cloud_cost_on_demand_spot_and_multi_gpu():
    assert cents(cost.cloud_cost_per_run(1800, 2.49, 1, 60)) == 1.25  # 2.49 x 0.5 h = 1.245
    assert cents(cost.cloud_cost_per_run(61, 3.99, 60, 60)) == 0.13  # 2 minutes at 3.99/h
    assert cents(cost.cloud_cost_per_run(10, 6.88, 1, 60)) == 0.11  # the 60 s minimum: 0.1147
    spot = cost.cloud_cost_per_run(1800, 1.41, 1, 60)
    assert cents(spot) == 0.70 and spot < cost.cloud_cost_per_run(1800, 6.88, 1, 60)
    # an 8-GPU instance bills all 8 GPUs for a one-GPU job: 55.04/h x 600 s
    assert cents(cost.cloud_cost_per_run(600, 55.04, 1, 60)) == 9.17
    assert cents(cost.amortised_cloud_cost(30, 3.6)) == 0.03


def test_break_even_runs_per_month_and_payback():
    be = cost.break_even(3000 / 36, 0.05, 0.55, seconds_per_run=600, hours_per_day=8)  # $3,000 over 3 years
    assert be.runs_per_month == pytest.approx((3000 / 36) / 0.50)  # 166.67 runs a month
    # capacity at the profile's 8 hours of use a day (the hours the hardware is spread over): 1,460
    assert be.capacity_runs_per_month == pytest.approx(8 * 3600 * 365 / 12 / 600)
    assert cost.payback_months(3000, 200, 0.05, 0.55) == 30.0


def test_cloud_always_cheaper_is_said_plainly():
    be = cost.break_even(3000 / 36, 0.05, 0.04, seconds_per_run=600, hours_per_day=8)
    assert be.runs_per_month is None and "owning never pays off" in be.reason
    assert cost.payback_months(3000, 100, 0.05, 0.04) is None
    slow = cost.break_even(3000 / 36, 0.05, 0.55, seconds_per_run=7_200, hours_per_day=8)  # 2 h a run
    # 166.67 runs needed; 8 h a day x 30.42 days / 2 h = 121.7 runs possible (at 24 h: 365, enough)
    assert slow.runs_per_month is None and "more than the machine can do (122) at 8 h/day" in slow.reason


def test_cumulative_costs_cross_at_payback():
    build, rent = cost.cumulative_costs(36, 3000, 200, 0.05, 0.55)
    assert build[0] == 3000 and rent[0] == 0
    assert build[30] == pytest.approx(rent[30])  # 3000 + 30 x 10 = 30 x 110


# ---------------------------------------------------------------- machine profiles


def test_profile_from_toml_and_preset(tmp_path):
    catalog = load_catalog()
    path = tmp_path / "m.toml"
    path.write_text(
        'preset = "rtx4090-workstation"\nlifetime_years = 4\nhours_per_day = 12\n'
        'residual_usd = 800\ncountry = "Germany"\n'
    )
    profile = build_profile(read_toml(path), catalog)
    assert profile.price_usd == 3200 and profile.power_w == 620 and profile.lifetime_years == 4
    assert profile.electricity_usd_per_kwh == 0.441 and "Germany" in profile.electricity_source
    assert profile.accelerator == "RTX4090"  # a candidate priced on its own GPU, not this host
    # the one assumption left: idle power, not in the preset
    assert profile.assumptions == (
        "idle power 93 W ASSUMED (15% of 620 W at load)",
        "no discount rate, no cooling overhead (PUE 1.0), no upkeep time assumed",  # cost.cash's defaults
    )


def test_unknown_machine_gets_labelled_assumptions():
    profile = build_profile({}, load_catalog())
    assert any("ASSUMED" in a for a in profile.assumptions)
    assert profile.hours_per_day == 8 and profile.electricity_usd_per_kwh == 0.146


@pytest.mark.parametrize(
    "text, message",
    [
        ("lifetime_years = 0\n", "key 'lifetime_years' must be a finite number in (0, 50]"),
        ("price_usd = -5\n", "key 'price_usd' must be a finite number in [0, "),
        ("price_usd = 'a lot'\n", "key 'price_usd' must be a number"),
        ("hours_per_day = 30\n", "key 'hours_per_day' must be a finite number in (0, 24]"),
        ("preset = 'nope'\n", "unknown preset 'nope'"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("price_usd = 100\nresidual_usd = 200\n", "exceeds the price"),
        ("price_usd = = 3\n", "TOML syntax error"),
    ],
)
def test_bad_profiles_name_the_key(tmp_path, text, message):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        build_profile(read_toml(path), load_catalog(), str(path))
    assert message in str(info.value) and str(path) in str(info.value)


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('name = "x"\nprice_usd = = 3\n')
    with pytest.raises(DataError, match=r"line 2, column"):
        read_toml(path)


# ---------------------------------------------------------------- comparisons


def _doc(
    host,
    device_name,
    device_id,
    seconds,
    run_id,
    median_s=0.5,
    energy=None,
    dtype="bf16",
    facts=None,
    flops=1e12,
    ops=100,
    eager_bytes=1e9,
):
    record = ok_record(
        device=device_id,
        dtype=dtype,
        seconds_per_run=seconds,
        median_s=median_s,
        flops=Flops(flops, "counted"),
        energy=Energy(None, None, None, per_run_j=energy) if energy is not None else None,
        demand=StepDemand(ops, 0, int(eager_bytes), int(eager_bytes), "counted"),
    )
    return document([record], host, run_id, [{"id": device_id, "name": device_name}], facts)


def test_the_evidence_ladder_measured_then_calibrated_estimate():
    catalog = load_catalog()
    cpu_facts = {"cpu": {"device": "cpu", "rated_peaks": {"bf16": {"flop_per_s": 7.5e11, "source": "s"}}}}
    local = _doc("laptop", "Some CPU", "cpu", 6000.0, "2", energy=3.6e6, facts=cpu_facts)
    # the H100 step: compute-bound, 1e12 / (989.4e12 x 0.40) = 2.527 ms estimated; measured twice that
    h100_estimate = 1e12 / (989.4e12 * 0.40)
    h100 = _doc("cloudbox", "NVIDIA H100 80GB HBM3", "cuda:0", 60.0, "1", median_s=2 * h100_estimate)
    machine = build_profile(
        {"price_usd": 2190, "lifetime_years": 1, "hours_per_day": 6, "electricity_usd_per_kwh": 0.2}, catalog
    )
    (comparison,) = compare([h100, local], catalog, machine, local_host="laptop")
    assert comparison.host == "laptop" and comparison.seconds_per_run == 6000.0
    # hardware: 2190 / (365 x 6) = $1.00 per hour, x 6000 s; electricity 1 kWh x 0.2
    assert cents(comparison.local.hardware_usd) == 1.67 and comparison.local.electricity_usd == 0.2
    lambda_h100 = next(o for o in comparison.offers if o.instance_type == "gpu_1x_h100_sxm5")
    assert lambda_h100.evidence.method == "measured" and lambda_h100.evidence.seconds_per_run == 60
    assert cents(lambda_h100.on_demand_usd) == cents(4.29 * 60 / 3600)
    a100 = next(o for o in comparison.offers if o.instance_type == "gpu_1x_a100")
    assert a100.evidence.method == "calibrated-estimate" and a100.evidence.bound == "compute"
    # A100-40GB: 1e12 / (312e12 x 0.40) per step, x2 (the H100's measured / estimated), x 7,812.5 steps
    expected = 1e12 / (312e12 * 0.40) * 2.0 * 500_000 / 64
    assert a100.evidence.seconds_per_run == pytest.approx(expected)
    assert a100.evidence.seconds_low < expected < a100.evidence.seconds_high
    assert "calibrated x2.00 on 1 cell(s) measured on cloudbox cuda:0" in a100.evidence.basis
    assert a100.on_demand_usd_low < a100.on_demand_usd < a100.on_demand_usd_high


def test_small_cells_get_a_dispatch_bound_estimate():
    catalog = load_catalog()
    local = _doc("laptop", "Some CPU", "cpu", 5.0, "1", flops=3072, ops=2300, eager_bytes=10_000)
    machine = build_profile({"price_usd": 1000}, catalog)
    (comparison,) = compare([local], catalog, machine)
    priced = [o for o in comparison.offers if o.evidence.method == "estimate"]
    assert priced and all(o.evidence.bound == "dispatch" for o in priced)
    assert "dispatch-bound: 2,300 ops per step" in priced[0].evidence.basis
    # 2,300 ops x the per-op cost calibrated on the published GPU rows x 7,812.5 steps, whatever
    # the GPU (the published rows put eager PyTorch at 20-25 us an op; the catalog prior said 8)
    from aipcbench.cost.published import published_constants

    per_op = published_constants(catalog, "gpu", "fp32").per_op_overhead_s.central
    assert 20e-6 < per_op < 25e-6
    assert priced[0].evidence.seconds_per_run == pytest.approx(2300 * per_op * 500_000 / 64)


def test_results_without_op_counts_are_not_estimated_and_say_why():
    catalog = load_catalog()
    record = ok_record(dtype="bf16", flops=Flops(1e12, "counted"))  # a 0.2 file: FLOPs only
    local = document([record], "laptop", "1", [{"id": "cpu", "name": "Some CPU"}])
    (comparison,) = compare([local], catalog, build_profile({"price_usd": 1000}, catalog))
    reasons = {o.evidence.basis for o in comparison.offers if o.evidence.method == "not-estimated"}
    assert any("no op and byte counts" in r for r in reasons)


def test_a_candidate_on_another_accelerator_is_priced_from_the_ladder_to_the_cent():
    """A 2,190 USD box with an RTX 4090 (500 W), considered from a CPU's results: its time per
    run is the RTX 4090's estimate from the CPU cell's counts, never the CPU's 6,000 s."""
    catalog = load_catalog()
    local = _doc("laptop", "Some CPU", "cpu", 6000.0, "1", energy=3.6e6)
    machine = build_profile(
        {
            "price_usd": 2190,
            "lifetime_years": 1,
            "hours_per_day": 6,
            "electricity_usd_per_kwh": 0.2,
            "accelerator": "RTX4090",
            "power_w": 500,
        },
        catalog,
    )
    (comparison,) = compare([local], catalog, machine, local_host="laptop")
    # RTX 4090 bf16: 1e12 FLOP / (165.2e12 x 0.40) per step = 15.13 ms, compute-bound; x 7,812.5 steps
    step = 1e12 / (catalog.spec("RTX4090").bf16_tflops * 1e12 * 0.40)
    seconds = step * 500_000 / 64
    assert comparison.seconds_per_run == pytest.approx(seconds) and comparison.local_method == "estimate"
    # hardware 2190 / (365 x 6) = $1.00/h x seconds; electricity 500 W x seconds x $0.20/kWh
    assert cents(comparison.local.hardware_usd) == cents(seconds / 3600)
    assert cents(comparison.local.electricity_usd * 100) == cents(500 * seconds / 3.6e6 * 0.2 * 100)
    assert any("electricity = rated power x that time (estimated)" in note for note in comparison.notes)
