"""The load generator and the server lifecycle against a fake OpenAI-compatible server on
loopback: every failure path ends in a failed request or a one-line ServerError, never a hang,
and no server process is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from aipcbench.errors import UserInputError
from aipcbench.report.serving_views import curve_table
from aipcbench.results.serving import LatencyTarget, ServingRecord
from aipcbench.serve.http import Endpoint
from aipcbench.serve.load import Concurrency, Poisson, run_level
from aipcbench.serve.metrics import summarise
from aipcbench.serve.prompts import prompt_maker
from aipcbench.serve.server import ServerError
from aipcbench.serve.stream_request import RequestSpec
from tests.serving_helpers import start_fake, wait_group_gone


def _spec(server, **kwargs) -> RequestSpec:
    options = {"timeout_s": 10.0, "idle_timeout_s": 2.0, **kwargs}
    return RequestSpec(server.endpoint, "completions", "fake", 6, **options)


def _level(server, profile=Concurrency(2), requests=4, warmup=1, **kwargs):
    prompts = prompt_maker("token-ids", 16, 512)
    return run_level(profile, _spec(server, **kwargs), prompts, requests, warmup)


@pytest.fixture
def serving(tmp_path, request):
    """A started fake server in the mode the test names (``@pytest.mark.parametrize`` or "ok")."""
    mode = getattr(request, "param", "ok")
    server = start_fake(tmp_path, mode)
    server.wait_ready(20)
    yield server
    pgid = server.pgid
    server.stop()
    assert wait_group_gone(pgid) == []


def test_a_healthy_stream_is_timed_and_counted(serving):
    run = _level(serving, Concurrency(2), requests=6, warmup=2)
    assert len(run.results) == 6 and len(run.warmup) == 2
    assert all(r.ok for r in run.results)
    assert all(r.output_tokens == 6 and r.tokens_counted_by == "usage" for r in run.results)
    assert all(r.input_tokens == 7 for r in run.results)  # the fake's usage count
    assert all(0 < r.ttft_s < r.e2e_s for r in run.results)
    assert all(len(r.token_gaps_s) == 5 for r in run.results)  # 6 text events: 5 gaps
    level = summarise(run, LatencyTarget(ttft_p95_s=5.0))
    assert level.requests_ok == 6 and level.output_tokens == 36
    assert level.meets_target is True and level.goodput_requests_per_s == pytest.approx(level.requests_per_s)
    assert level.output_tokens_per_s == pytest.approx(36 / level.window_s)


@pytest.mark.parametrize("serving", ["close-after-2"], indirect=True)
def test_a_kept_alive_connection_the_server_closed_is_sent_again_on_a_new_one(serving):
    run = _level(serving, Concurrency(1), requests=7, warmup=0)
    assert [r.ok for r in run.results] == [True] * 7


def test_poisson_arrivals_follow_the_rate(serving):
    run = _level(serving, Poisson(rate_per_s=50.0, seed=1), requests=20, warmup=0)
    sent = sorted(r.sent_s for r in run.results)
    assert all(r.ok for r in run.results)
    # 20 arrivals at 50/s: the last one goes out after about 19/50 s (exponential gaps, seeded)
    assert 0.1 < sent[-1] - sent[0] < 1.5


@pytest.mark.parametrize(
    "serving, expected",
    [
        ("status-429", "HTTP 429"),
        ("status-503", "HTTP 503"),
        ("malformed", "malformed event"),
        ("redirect", "redirect to 'http://example.invalid/v1': not followed"),
        ("json", "not a stream"),
        ("hang", "stalled"),
        ("escapes", "error event"),
    ],
    indirect=["serving"],
)
def test_each_broken_answer_is_a_failed_request_with_its_reason(serving, expected):
    started = time.monotonic()
    run = _level(serving, Concurrency(2), requests=2, warmup=0, idle_timeout_s=1.0)
    assert time.monotonic() - started < 15
    assert [r.ok for r in run.results] == [False, False]
    assert all(expected in r.reason for r in run.results)


@pytest.mark.parametrize("serving", ["trickle"], indirect=True)
def test_a_stream_that_never_ends_is_cut_at_the_request_time_limit(serving):
    started = time.monotonic()
    run = _level(serving, Concurrency(1), requests=1, warmup=0, timeout_s=1.5, idle_timeout_s=1.0)
    assert time.monotonic() - started < 10
    assert not run.results[0].ok and "longer than the request's time limit" in run.results[0].reason


@pytest.mark.parametrize("serving", ["huge"], indirect=True)
def test_a_body_over_the_limit_is_cut_off(serving):
    run = _level(serving, Concurrency(1), requests=1, warmup=0, max_body_bytes=2**20)
    assert not run.results[0].ok and "over the 1048576-byte limit" in run.results[0].reason


@pytest.mark.parametrize("serving", ["no-usage"], indirect=True)
def test_without_usage_tokens_are_counted_from_events(serving):
    run = _level(serving, Concurrency(1), requests=2, warmup=0)
    assert all(r.ok and r.tokens_counted_by == "events" and r.output_tokens == 6 for r in run.results)
    assert all(r.input_tokens == 16 for r in run.results)  # the prompt's own length


@pytest.mark.parametrize("serving", ["escapes"], indirect=True)
def test_hostile_text_from_a_server_never_reaches_the_terminal_raw(serving):
    run = _level(serving, Concurrency(1), requests=1, warmup=0)
    level = summarise(run, LatencyTarget(1.0))
    record = ServingRecord(
        "serve:x",
        "endpoint",
        "?",
        "remote",
        "h",
        "m",
        "m",
        "remote",
        "",
        "completions",
        16,
        6,
        LatencyTarget(1.0),
        "failed",
        reason=run.results[0].reason,
        levels=(level,),
    )
    text = curve_table([record])
    assert "\x1b" not in text and "\x07" not in text and "pwned" in text


def test_a_refused_connection_is_a_failed_request(tmp_path):
    from aipcbench.serve.server import free_port

    class Nowhere:
        endpoint = Endpoint("http", "127.0.0.1", free_port(), "/v1")

    run = _level(Nowhere(), Concurrency(1), requests=1, warmup=0)
    assert not run.results[0].ok and "connect to" in run.results[0].reason


def test_a_server_that_never_gets_ready_fails_at_its_deadline_and_is_ended(tmp_path):
    server = start_fake(tmp_path, "never-ready")
    started = time.monotonic()
    with pytest.raises(ServerError, match="was not ready after 1.5 s"):
        server.wait_ready(1.5)
    assert time.monotonic() - started < 10
    server.stop()
    assert wait_group_gone(server.pgid) == []


def test_a_server_that_exits_fails_at_once_with_its_last_log_line(tmp_path):
    server = start_fake(tmp_path, "exit")
    with pytest.raises(ServerError, match=r"exited with code 3 .*address in use"):
        server.wait_ready(60)
    server.stop()


def test_a_killed_aipcbench_takes_its_server_with_it(tmp_path):
    """SIGKILL to the process that started the server: its watchdog ends the server's group."""
    script = (
        "import sys, time\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from pathlib import Path\n"
        "from tests.serving_helpers import start_fake\n"
        "server = start_fake(Path(sys.argv[2]))\n"
        "server.wait_ready(30)\n"
        "print(server.pgid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, os.getcwd(), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    pgid = int(parent.stdout.readline())
    assert wait_group_gone(pgid, 0.5) != []  # serving
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    assert wait_group_gone(pgid) == []


def test_endpoint_urls_are_checked():
    assert Endpoint.parse("http://127.0.0.1:8080/v1").port == 8080
    for bad in ("ftp://host/v1", "http://user:secret@host/v1", "host:80", "http://h:99999/v1"):
        with pytest.raises(UserInputError):
            Endpoint.parse(bad)


def test_a_level_is_written_in_the_results_as_plain_json(serving):
    from dataclasses import asdict

    level = summarise(_level(serving), LatencyTarget(1.0))
    text = json.dumps(asdict(level))
    assert '"output_tokens_per_s"' in text and '"samples"' in text
