"""Derived figures against hand-computed numbers."""

import pytest

from aipcbench.derive import derive

RECORD = {
    "status": "ok",
    "dtype": "fp32",
    "items_per_step": 100,
    "summary": {"median": 0.5, "n": 10},
    "run": {"items_per_run": 1_000_000},
    "flops_per_step": 2e11,
    "energy_window_j": 600.0,
    "energy_window_s": 6.0,
}
FACTS = {
    "rated_peaks": {"fp32": {"flops": 1e12, "source": "catalog X"}},
    "measured_peaks": {"fp32": {"flops": 8e11, "method": "gemm"}},
    "idle_power_w": 40.0,
    "idle_power_method": "rapl",
}
CARBON = {"region": "Testland", "g_per_kwh": 360.0, "source": "s", "as_of": "2026"}


def test_derived_figures_are_exact():
    out = derive(RECORD, FACTS, CARBON)
    assert out["steps_per_run"] == 10_000
    assert out["achieved_flops"] == 4e11  # 2e11 FLOP / 0.5 s
    assert out["mfu_rated"] == 0.4 and out["mfu_measured"] == 0.5
    assert out["flops_per_item"] == 2e9 and out["flops_per_run"] == 2e15
    assert out["energy_j_per_step"] == 60.0  # 600 J over 10 steps
    assert out["energy_j_per_run"] == 600_000.0
    # above idle: (600 - 40 W x 6 s) / 10 steps x 10,000 steps
    assert out["energy_j_per_run_above_idle"] == 360_000.0
    # 600 kJ = 1/6 kWh, x 360 g/kWh
    assert out["co2e_g_per_run"] == pytest.approx(60.0)
    assert out["peak_flops_rated_source"] == "catalog X"


def test_missing_figures_stay_missing():
    record = {**RECORD, "flops_per_step": None, "energy_window_j": None}
    out = derive(record, {}, None)
    assert out["achieved_flops"] is None and out["mfu_rated"] is None
    assert out["energy_j_per_run"] is None and out["co2e_g_per_run"] is None
    assert derive({**RECORD, "status": "failed"}, FACTS, CARBON) == {}
