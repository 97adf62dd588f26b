"""Data-parallel cells: aggregation rules, a real 2-rank gloo run, and a rank killed mid-run."""

import os
import time

import pytest

from aipcbench import results
from aipcbench.results.record import TimingPolicy
from aipcbench.run import distributed

FAST = ["--warmup", "2", "--min-steps", "5", "--min-time", "0.3", "--no-report"]


def test_aggregation_rules():
    assert distributed.slowest_per_step([[1.0, 2.0, 3.0], [1.5, 1.0, 3.5]]) == [1.5, 2.0, 3.5]
    readings = [
        {"joules": 10.0, "method": "rapl", "device": "cpu"},
        {"joules": 11.0, "method": "rapl", "device": "cpu"},  # same package: counted once
        {"joules": 5.0, "method": "nvml-counter", "device": "cuda:1"},
    ]
    assert distributed.total_energy(readings) == (15.0, "nvml-counter+rapl")
    estimates = [{"joules": 2.0, "method": "estimate-tdp", "device": "cpu"}] * 2
    assert distributed.total_energy(estimates) == (4.0, "estimate-tdp")  # per-process: summed
    assert distributed.total_energy([{"joules": None, "method": "rapl", "device": "cpu"}])[0] is None
    assert distributed.scaling_efficiency(150.0, 2, 100.0) == 0.75


def test_agreed_step_count_rule():
    policy = TimingPolicy(warmup_steps=1, min_steps=5, min_time_s=2.0, max_time_s=10.0, max_steps=100)
    assert distributed.steps_for(0.1, policy) == 20  # 2 s of 0.1 s steps
    assert distributed.steps_for(1.0, policy) == 5  # min_steps wins
    assert distributed.steps_for(0.001, policy) == 100  # max_steps caps
    assert distributed.steps_for(5.0, policy) == 5  # max_time would allow 2: min_steps still holds


def test_two_gloo_ranks_on_the_cpu(cli, tmp_path):
    code, out, err = cli(
        "run",
        "--devices",
        "cpu",
        "--workloads",
        "mlp:tiny",
        "--ddp-sweep",
        "1,2",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 0, err
    doc = results.load(next(tmp_path.glob("run-*.json")))
    one, two = doc.records
    assert (one.world_size, two.world_size) == (1, 2) and two.data_parallel.backend == "gloo"
    per_rank = two.timing.per_rank_samples_s
    assert len(per_rank) == 2 and len(per_rank[0]) == len(per_rank[1]) >= 5  # both ranks
    assert list(two.timing.samples_s) == [max(a, b) for a, b in zip(*per_rank)]
    assert two.workload_facts.items_per_step == 2 * two.data_parallel.items_per_rank_step == 64
    assert two.throughput.items_per_s == pytest.approx(64 / two.step_time.median_s)
    assert two.quality.loss_fell is True
    assert two.data_parallel.scaling_efficiency == pytest.approx(
        two.throughput.items_per_s / (2 * one.throughput.items_per_s)
    )
    assert len(two.memory.per_rank) == 2


def test_non_training_workload_is_skipped_under_ddp(cli, tmp_path):
    code, out, err = cli(
        "run",
        "--devices",
        "cpu",
        "--workloads",
        "null",
        "--nproc-per-node",
        "1",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    doc = results.load(next(tmp_path.glob("run-*.json")))
    assert doc.records[0].status == "skipped"
    assert "training workload" in doc.records[0].reason


def _worker_processes(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def test_a_killed_rank_fails_the_cell_and_leaves_nothing_running(cli, plugin_env, tmp_path):
    started = time.monotonic()
    code, out, err = cli(
        "run",
        "--devices",
        "cpu",
        "--plugin",
        "fault_workloads",
        "--workloads",
        "ddp-kill-rank-1",
        "--nproc-per-node",
        "2",
        "--timeout",
        "60",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 1
    record = results.load(next(tmp_path.glob("run-*.json"))).records[0]
    assert record.status == "failed", record
    assert record.reason.startswith("rank 1 failed"), record.reason
    assert "SIGKILL" in record.reason, record.reason
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 5  # SIGKILLed processes can linger in /proc for a moment
    while _worker_processes("aipcbench-child-") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _worker_processes("aipcbench-child-") == []
