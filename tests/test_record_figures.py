"""Figures a record gets from its device's facts, against hand-computed numbers."""

import pytest

from aipcbench.results.device_facts import DeviceFacts, MeasuredPeak, RatedPeak
from aipcbench.results.record import Energy, Flops
from aipcbench.run.record_figures import complete_record
from tests.records import ok_record

RECORD = ok_record(
    dtype="fp32",
    items_per_step=100,
    items_per_run=1_000_000,
    median_s=0.5,
    n=10,
    flops=Flops(2e11, "counted"),
    energy=Energy(600.0, 6.0, "rapl"),
)
FACTS = DeviceFacts(
    device="cpu",
    rated_peaks={"fp32": RatedPeak(1e12, "catalog X")},
    measured_peaks={"fp32": MeasuredPeak(8e11, "gemm")},
    idle_power_w=40.0,
    idle_power_method="rapl",
)
CARBON = {"region": "Testland", "g_per_kwh": 360.0, "source": "s", "as_of": "2026"}


def test_derived_figures_are_exact():
    out = complete_record(RECORD, FACTS, CARBON)
    assert out.run.steps_per_run == 10_000
    assert out.flops.achieved_flop_per_s == 4e11  # 2e11 FLOP / 0.5 s
    assert out.flops.mfu_rated == 0.4 and out.flops.mfu_measured == 0.5
    assert out.flops.count_per_item == 2e9 and out.flops.count_per_run == 2e15
    assert out.energy.per_step_j == 60.0  # 600 J over 10 steps
    assert out.energy.per_run_j == 600_000.0
    # above idle: (600 - 40 W x 6 s) / 10 steps x 10,000 steps
    assert out.energy.per_run_above_idle_j == 360_000.0
    # 600 kJ = 1/6 kWh, x 360 g/kWh
    assert out.energy.co2e_g_per_run == pytest.approx(60.0)
    assert out.flops.rated_peak_source == "catalog X"
    assert out.energy.method == "rapl" and out.flops.method == "counted"  # what the worker said stays


def test_missing_figures_stay_missing():
    record = ok_record(flops=Flops(None, "FLOP counting failed"), energy=None)
    out = complete_record(record, DeviceFacts(device="cpu"), None)
    assert out.flops.achieved_flop_per_s is None and out.flops.mfu_rated is None
    assert out.energy.per_run_j is None and out.energy.co2e_g_per_run is None
    failed = ok_record().__class__(
        cell="c", workload="w", size="s", device="cpu", dtype="fp32", status="failed"
    )
    assert complete_record(failed, FACTS, CARBON) == failed
