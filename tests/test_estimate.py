"""The estimator pinned to hand-computed cases: a compute-bound, a bandwidth-bound and a
dispatch-bound step, calibration, and the counts it starts from against analytic values."""

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost.estimate import (
    Constants,
    Demand,
    Observation,
    Span,
    Target,
    calibrated,
    calibration,
    constants_for,
    estimate_step,
)

TARGET = Target("X", "Test GPU", "gpu", {"fp32": 1e14}, 1e12)
FLAT = Constants(Span(0.25, 0.5, 1.0), Span(0.5, 0.5, 0.5), Span(1e-6, 1e-6, 1e-6), ())


def test_compute_bound_step():
    est = estimate_step(Demand(1e12, 10, 1e6, "fp32"), TARGET, FLAT)
    # 1e12 FLOP / (1e14 FLOP/s x {1.0, 0.5, 0.25}); memory 2 us; dispatch 10 us
    assert est.bound == "compute"
    assert (est.seconds.low, est.seconds.central, est.seconds.high) == pytest.approx((0.01, 0.02, 0.04))
    assert est.terms["memory"].central == pytest.approx(2e-6) and est.terms[
        "dispatch"
    ].central == pytest.approx(1e-5)
    assert est.basis.startswith("compute-bound: 1 TFLOP per step at 25%-100% of 100 TFLOP/s fp32")


def test_quantized_arithmetic_runs_at_16_bit_on_a_gpu_and_fp32_on_a_cpu():
    gpu = Target("G", "GPU", "gpu", {"fp32": 1e13, "bf16": 1e14}, 1e12)
    cpu = Target("C", "CPU", "cpu", {"fp32": 1e11}, 1e11)  # no int8 peak: MFU not claimed there
    demand = Demand(1e12, 10, 1e6, "int8")
    assert estimate_step(demand, gpu, FLAT).terms["compute"].central == pytest.approx(1e12 / (1e14 * 0.5))
    assert estimate_step(demand, cpu, FLAT).terms["compute"].central == pytest.approx(1e12 / (1e11 * 0.5))
    catalog = load_catalog()
    assert constants_for(catalog, "cpu", "int4") == constants_for(catalog, "cpu", "fp32")
    assert constants_for(catalog, "gpu", "int8") == constants_for(catalog, "gpu", "bf16")


def test_bandwidth_bound_step():
    est = estimate_step(Demand(1e9, 100, 1e10, "fp32"), TARGET, FLAT)
    assert est.bound == "memory"  # 1e10 B / (1e12 B/s x 0.5) = 20 ms; compute 20 us
    assert est.seconds.central == pytest.approx(0.02) and est.seconds.low == pytest.approx(0.02)
    assert "memory-bound: 10 GB per step at 50%-50% of 1 TB/s" in est.basis


def test_dispatch_bound_step_is_estimated_however_small():
    constants = Constants(Span(0.25, 0.5, 1.0), Span(0.5, 0.5, 0.5), Span(6e-6, 8e-6, 10e-6), ())
    est = estimate_step(Demand(1e6, 2300, 1e3, "fp32"), TARGET, constants)
    assert est.bound == "dispatch"
    assert (est.seconds.low, est.seconds.central, est.seconds.high) == pytest.approx((0.0138, 0.0184, 0.023))
    assert est.basis.startswith("dispatch-bound: 2,300 ops per step x 6-10 us")


def test_a_step_with_flops_only_is_compute_bound_and_says_what_is_missing():
    est = estimate_step(Demand(1e12, None, None, "fp32"), TARGET, FLAT)
    assert est.bound == "compute" and "no memory/dispatch term" in est.basis
    assert estimate_step(Demand(None, None, None, "fp32"), TARGET, FLAT) is None
    assert estimate_step(Demand(1e12, None, None, "bf16"), TARGET, FLAT) is None  # no bf16 peak


def test_calibration_is_the_median_ratio_of_other_devices_of_the_class():
    observations = [
        Observation("gpu", "a cuda:0", 2.0, 1.0),
        Observation("gpu", "b cuda:0", 4.0, 1.0),
        Observation("gpu", "c cuda:0", 3.0, 1.0),
        Observation("cpu", "d cpu", 100.0, 1.0),
    ]
    assert calibration(observations, "gpu")[0] == 3.0
    assert calibration(observations, "gpu", exclude="c cuda:0")[0] == 3.0  # median of 2 and 4
    assert calibration(observations, "soc") == (1.0, "")
    est = calibrated(
        estimate_step(Demand(1e12, 10, 1e6, "fp32"), TARGET, FLAT), 3.0, "calibrated x3.00 on 3 cells"
    )
    assert (
        est.seconds.central == pytest.approx(0.06)
        and est.calibration == 3.0
        and "calibrated x3.00" in est.basis
    )


def test_every_catalog_class_and_dtype_has_cited_constants():
    catalog = load_catalog()
    for device_class in ("gpu", "soc", "cpu"):
        for dtype in ("fp32", "bf16", "fp16"):
            constants = constants_for(catalog, device_class, dtype)
            assert constants is not None
            for span in (
                constants.compute_efficiency,
                constants.memory_efficiency,
                constants.per_op_overhead_s,
            ):
                assert 0 < span.low <= span.central <= span.high
    for row in catalog.estimator:
        assert row.source and row.as_of


def test_rtx4090_and_h100_estimates_for_gpt2_batch1_are_dispatch_bound():
    """GPT-2 124M batch-1 decode in eager PyTorch: ~260 kernel ops and ~0.7 GB per token. On an
    RTX 4090 that is dispatch-bound (260 x 8 us = 2.1 ms) before it is bandwidth-bound
    (0.7 GB / (1,008 GB/s x 0.7) = 1.0 ms): the bandwidth ratio alone would promise ~2x more."""
    catalog = load_catalog()
    for key in ("RTX4090", "H100-SXM"):
        target = Target.from_spec(catalog.spec(key))
        est = estimate_step(Demand(411e6, 262, 0.67e9, "fp32"), target, constants_for(catalog, "gpu", "fp32"))
        assert est.bound == "dispatch", (key, est.basis)


def test_estimate_check_measures_the_estimators_error(cli):
    from tests.conftest import DATA

    code, out, err = cli("estimate", str(DATA / "results-v3.json"), "--check")
    assert code == 0, err
    assert "median |error|" in out and "over 9 cells" in out  # every measured cell but null
    code, out, _ = cli(
        "estimate", str(DATA / "results-v3.json"), "--target", "RTX4090,H100-SXM", "--format", "csv"
    )
    rows = out.strip().splitlines()[1:]
    assert len(rows) == 9 * 2 and all(",estimate," in row for row in rows)  # none left out for being small
    code, _, err = cli("estimate", str(DATA / "results-v3.json"), "--target", "TPU-v9")
    assert code == 2 and "--target: unknown accelerator 'TPU-v9'" in err


def test_check_predicts_each_device_from_the_other_one():
    """A fixture pair: the same cell measured on an H100 (2x its estimate) and an A100 (3x).
    Each is predicted from the other's calibration: the H100 at 3x, the A100 at 2x."""
    from aipcbench.report.estimate_views import check_rows
    from aipcbench.results.record import Flops, StepDemand
    from tests.records import document, ok_record

    catalog = load_catalog()

    def doc(host, name, estimate_s, factor):
        record = ok_record(
            device="cuda:0",
            dtype="bf16",
            seconds_per_run=factor * estimate_s * 500_000 / 64,
            median_s=factor * estimate_s,
            flops=Flops(1e12, "counted"),
            demand=StepDemand(100, 0, 10**9, 10**9, "counted"),
        )
        return document([record], host, host, [{"id": "cuda:0", "name": name}])

    h100_s, a100_s = 1e12 / (989.4e12 * 0.40), 1e12 / (312e12 * 0.40)
    rows = check_rows(
        [doc("h", "NVIDIA H100 80GB HBM3", h100_s, 2.0), doc("a", "NVIDIA A100-SXM4-40GB", a100_s, 3.0)],
        catalog,
    )
    errors = {row["device"]: row["error"] for row in rows}
    assert errors["NVIDIA H100 80GB HBM3 (h)"] == pytest.approx(3.0 / 2.0 - 1)
    assert errors["NVIDIA A100-SXM4-40GB (a)"] == pytest.approx(2.0 / 3.0 - 1)
    assert all(row["method"] == "calibrated-estimate" for row in rows)
