"""Owned machines for the base load, an API for the peaks (cost.serve_mix), by hand."""

from __future__ import annotations

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost.machine import build_profile
from aipcbench.cost.serve_mix import best_mix, overflow_tokens_per_s
from aipcbench.cost.serve_plan import ServeItem, ServeOption, api_monthly
from aipcbench.results.serving import LatencyTarget
from aipcbench.units import DAYS_PER_MONTH


def test_the_overflow_under_a_linear_load_duration_curve_by_hand():
    # P > 2A: average 100, peak 400, busy a share 2A/P = 1/2 of the day, load falling from 400 to 0
    assert overflow_tokens_per_s(100, 400, 100) == pytest.approx(0.5 * 300**2 / 800)  # 56.25
    assert overflow_tokens_per_s(100, 400, 400) == 0.0 and overflow_tokens_per_s(100, 400, 0) == 100
    # P <= 2A: average 100, peak 150, load from 150 down to 50 all day
    assert overflow_tokens_per_s(100, 150, 40) == pytest.approx(60)  # below the trough: A - C
    assert overflow_tokens_per_s(100, 150, 100) == pytest.approx(50**2 / (2 * 100))  # 12.5
    # the integral, numerically: the same shape sampled a million times
    samples = [150 - 100 * (i + 0.5) / 1e6 for i in range(1_000_000)]
    assert overflow_tokens_per_s(100, 150, 100) == pytest.approx(
        sum(max(x - 100, 0) for x in samples) / 1e6, rel=1e-6
    )


def test_two_owned_machines_and_the_api_above_them_beat_both_pure_answers():
    """A $100-a-month machine serves 100 tokens/s (electricity free here to keep the sums short).
    The load: 86,400 requests a day of 100 tokens = 100 tokens/s on average, 400 at the peak.
    Own for the peak: 4 machines, $400. The API at $2 a million tokens: 262.8 M tokens, $525.60.
    Own 1: 100 + 56.25 % x 525.60 = $395.65; own 2: 200 + 25 % x 525.60 = $331.40; own 3:
    300 + 6.25 % x 525.60 = $332.85. Two machines and the API win, 25 % of tokens on the API."""
    box = build_profile(
        {
            "price_usd": 2400,
            "lifetime_years": 2,
            "electricity_usd_per_kwh": 0,
            "power_w": 300,
            "idle_power_w": 50,
        },
        load_catalog(),
    )
    item = ServeItem("m", "q4_K_M", 86_400, 10, 100, 4.0, LatencyTarget(1.0))
    own = ServeOption("4 x box", "own", 400.0, 400.0, 400.0, 4, "estimate", "", 100.0, box, None)
    api_usd = api_monthly(item, 2.0)
    assert api_usd == pytest.approx(86_400 * DAYS_PER_MONTH * 100 * 2 / 1e6)
    api = ServeOption("API x", "api", api_usd, api_usd, api_usd, 0, "list price")
    mix = best_mix(item, own, api)
    assert mix is not None and mix.machines == 2 and mix.overflow_share == pytest.approx(0.25)
    assert mix.monthly_usd == pytest.approx(200 + 0.25 * api_usd)
    assert round(mix.monthly_usd, 2) == round(200 + 0.25 * api_usd, 2)
    option = mix.option()
    assert option.kind == "own+api" and option.name == "2 x this machine + API x above it"
    assert "25% of tokens (the peaks) go to the API" in option.note


def test_no_mix_when_a_pure_answer_is_cheaper():
    """A flat load (peak = average): one machine takes it all; nothing to send anywhere."""
    box = build_profile(
        {"price_usd": 2400, "lifetime_years": 2, "electricity_usd_per_kwh": 0}, load_catalog()
    )
    item = ServeItem("m", "q4_K_M", 86_400, 10, 100, 1.0, LatencyTarget(1.0))
    own = ServeOption("1 x box", "own", 100.0, 100.0, 100.0, 1, "estimate", "", 100.0, box, None)
    api = ServeOption("API x", "api", 525.6, 525.6, 525.6, 0, "list price")
    assert best_mix(item, own, api) is None
