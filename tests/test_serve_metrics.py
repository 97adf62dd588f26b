"""A level's figures and the sweep's stopping rules, pinned to hand-computed numbers."""

from __future__ import annotations

import pytest

from aipcbench.results.serving import LatencyTarget, ServingRecord
from aipcbench.serve.load import Concurrency, LevelRun
from aipcbench.serve.metrics import latency_stats, summarise
from aipcbench.serve.stream_request import RequestResult
from aipcbench.serve.sweep import SweepPlan, run_sweep, stop_reason


def _ok(sent, ttft, e2e, tokens, gaps=()):
    return RequestResult(True, sent, e2e, ttft, tokens, 100, "usage", tuple(gaps))


def _run(*results, users=2):
    return LevelRun(Concurrency(users), tuple(results), (), generator_cpu_s=0.5, wall_s=5.0)


def test_level_figures_by_hand():
    # two requests: sent at 0 and 1 s, TTFT 0.2 / 0.6 s, E2E 2.2 / 3.0 s, 11 / 21 tokens
    run = _run(_ok(0.0, 0.2, 2.2, 11, (0.1, 0.3)), _ok(1.0, 0.6, 3.0, 21, (0.2,)))
    level = summarise(run, LatencyTarget(ttft_p95_s=0.5))
    assert level.window_s == pytest.approx(4.0)  # 0 s -> 1 + 3 = 4 s
    assert level.output_tokens == 32 and level.output_tokens_per_s == pytest.approx(8.0)
    assert level.input_tokens_per_s == pytest.approx(50.0)
    assert level.requests_per_s == pytest.approx(0.5)
    # TPOT: (2.2 - 0.2) / 10 = 0.2 s and (3.0 - 0.6) / 20 = 0.12 s; per user: median of 5 and 8.33
    assert level.tpot.p50_s == pytest.approx(0.16)
    assert level.output_tokens_per_s_per_user == pytest.approx((5 + 1 / 0.12) / 2)
    assert level.ttft.p95_s == pytest.approx(0.2 + 0.95 * 0.4)
    assert level.itl.n == 3 and level.itl.max_s == pytest.approx(0.3)
    # only the first request meets a 0.5 s TTFT: goodput 1 request / 4 s; the level's p95 breaks it
    assert level.goodput_requests_per_s == pytest.approx(0.25)
    assert level.meets_target is False
    assert level.generator_cpu_fraction == pytest.approx(0.1)


def test_failed_requests_count_but_carry_no_latency():
    failed = RequestResult(False, 0.5, None, None, 0, None, "events", (), "HTTP 503: busy")
    level = summarise(_run(_ok(0.0, 0.1, 1.1, 11), failed, failed), LatencyTarget(None))
    assert (level.requests_ok, level.requests_failed) == (1, 2)
    assert level.failure_reasons == ("HTTP 503: busy",)
    assert level.ttft.n == 1 and level.meets_target is True


def test_percentiles_match_numpy_linear_interpolation():
    stats = latency_stats([0.4, 0.1, 0.3, 0.2])
    assert (stats.p50_s, stats.p90_s, stats.max_s) == pytest.approx((0.25, 0.37, 0.4))


def _level(users, tokens_per_s, meets=True, failed=0):
    run = _run(_ok(0.0, 0.1, 1.0, int(tokens_per_s)), users=users)
    level = summarise(run, LatencyTarget(None))
    from dataclasses import replace

    return replace(level, meets_target=meets, requests_failed=failed)


def test_the_sweep_stops_where_throughput_stops_rising():
    assert stop_reason(_level(4, 105), _level(2, 100), LatencyTarget(1.0)).startswith(
        "throughput stopped rising at concurrency 4 (+5% over concurrency 2)"
    )
    assert stop_reason(_level(4, 120), _level(2, 100), LatencyTarget(1.0)) == ""
    assert "latency target" in stop_reason(_level(4, 200, meets=False), _level(2, 100), LatencyTarget(1.0))
    # no level ever kept the target: the curve goes on until throughput stops rising
    assert (
        stop_reason(_level(4, 200, meets=False), _level(2, 100), LatencyTarget(1.0), met_before=False) == ""
    )
    assert "failed" in stop_reason(_level(4, 200, failed=5), None, LatencyTarget(1.0))


def test_an_automatic_sweep_doubles_until_it_saturates():
    speeds = {1: 10.0, 2: 19.0, 4: 30.0, 8: 31.0, 16: 50.0}
    seen = []

    def run_one(profile, measured, warmup):
        seen.append((profile.users, measured, warmup))
        return _level(profile.users, speeds[profile.users])

    levels = []
    reason = run_sweep(SweepPlan(max_concurrency=16, requests=4), LatencyTarget(None), run_one, levels.append)
    assert [u for u, _, _ in seen] == [1, 2, 4, 8]
    assert seen[2] == (4, 8, 4)  # at least 2 requests per user; one warm-up per user
    assert len(levels) == 4 and reason.startswith("throughput stopped rising at concurrency 8")


def test_explicit_levels_all_run_and_a_signal_ends_the_sweep():
    plan = SweepPlan(concurrencies=(1, 3), requests=2)
    done = run_sweep(plan, LatencyTarget(None), lambda p, m, w: _level(p.users, 1.0), lambda level: None)
    assert done == "every level ran"
    assert run_sweep(plan, LatencyTarget(None), lambda p, m, w: None, lambda level: None) == "interrupted"


def test_the_best_level_at_the_target_is_the_fastest_that_keeps_it():
    levels = (_level(1, 10), _level(2, 30), _level(4, 50, meets=False))
    record = ServingRecord(
        "c",
        "llama.cpp",
        "v",
        "cpu",
        "cpu",
        "m",
        "m",
        "random-init",
        "q4_K_M",
        "completions",
        16,
        8,
        LatencyTarget(1.0),
        "ok",
        levels=levels,
    )
    assert record.best_at_target().concurrency == 2


def test_gpu_serving_reads_nvml_energy_and_memory_cpu_serving_estimates():
    from aipcbench.catalog import load_catalog
    from aipcbench.serve.commands import device_sensors
    from tests.fake_nvml import FakeNvml

    nvml = FakeNvml(energy_mj=[1_000_000, 1_000_000, 1_450_000])  # probe, start, stop
    nvml.memory_used_bytes = 70 * 2**30
    gpu = {"kind": "cuda", "index": 0, "name": "NVIDIA H100 80GB HBM3", "details": {"uuid": "abc"}}
    meter_for, memory = device_sensors(gpu, load_catalog(), nvml=nvml)
    meter = meter_for(1234)
    meter.start()
    reading = meter.stop()
    assert (reading.method, reading.joules) == ("nvml-counter", pytest.approx(450.0))
    assert memory() == 70 * 2**30
    nvml.memory_used_bytes = None  # NOT_SUPPORTED: not read, not a crash
    assert memory() is None
    cpu = {
        "kind": "cpu",
        "index": 0,
        "name": "AMD EPYC",
        "details": {"logical_cores": 2, "physical_cores": 1},
    }
    cpu_meter, cpu_memory = device_sensors(cpu, load_catalog(), cpu_watts=100.0)
    assert cpu_meter(1).method == "estimate-tdp" and cpu_memory() is None
    assert device_sensors(None, load_catalog())[0](1) is None
