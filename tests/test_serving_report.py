"""Serving records in the results file (schema 4), in ``aipcbench tokens`` and in the report."""

from __future__ import annotations

import dataclasses
import json

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost.machine import build_profile
from aipcbench.cost.serving import own_usd_per_hour, serving_prices
from aipcbench.report.serving_page import serving_figure
from aipcbench.results.schema import SCHEMA_VERSION
from aipcbench.results.serving import LatencyStats, LatencyTarget, ServingLevel, ServingRecord
from aipcbench.results.store import ResultsWriter, load


def _level(users: int, tokens_per_s: float, ttft_s: float) -> ServingLevel:
    stats = LatencyStats(16, ttft_s, ttft_s, ttft_s, ttft_s, ttft_s, ttft_s)
    return ServingLevel(
        "concurrency",
        users,
        None,
        16,
        0,
        20.0,
        int(tokens_per_s * 20),
        2048,
        "usage",
        tokens_per_s,
        102.4,
        0.8,
        ttft=stats,
        tpot=stats,
        e2e=stats,
        meets_target=ttft_s <= 1.0,
        energy_j=2000.0,
    )


RECORD = ServingRecord(
    "serve:llama.cpp:qwen2.5-0.5b:q4_K_M",
    "llama.cpp",
    "b1 (test)",
    "cpu",
    "AMD EPYC",
    "qwen2.5-0.5b",
    "Qwen2.5-0.5B-shaped",
    "random-init",
    "q4_K_M",
    "completions",
    128,
    32,
    LatencyTarget(1.0),
    "ok",
    levels=(_level(1, 40.0, 0.2), _level(2, 70.0, 0.5), _level(4, 80.0, 1.6)),
)


@pytest.fixture
def serving_file(tmp_path):
    writer = ResultsWriter(tmp_path / "results", {"host": "test-host", "started_at": "2026-12-03"}, {})
    writer.put_serving(RECORD)
    writer.put_serving(dataclasses.replace(RECORD, stopped_by="every level ran"))  # replaced, not added
    writer.finish()
    return writer.path


def test_serving_records_round_trip_through_the_results_file(serving_file):
    document = load(serving_file)
    assert json.loads(serving_file.read_text())["schema_version"] == SCHEMA_VERSION == 4
    assert document.serving == (dataclasses.replace(RECORD, stopped_by="every level ran"),)
    assert document.serving[0].best_at_target().concurrency == 2


def test_an_older_file_has_no_serving_records():
    assert load("tests/data/results-v3.json").serving == ()


def test_a_malformed_serving_record_is_skipped_with_its_field(tmp_path, serving_file):
    data = json.loads(serving_file.read_text())
    data["serving"][0]["levels"][0]["output_tokens_per_s"] = -5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    document = load(bad)
    assert (
        document.serving == ()
        and "serving[0].levels[0].output_tokens_per_s: must be >= 0" in document.skipped[0]
    )


def test_this_machine_is_priced_per_million_tokens_at_the_best_level_to_the_cent():
    catalog = load_catalog()
    machine = build_profile(
        {"price_usd": 2190, "lifetime_years": 1, "hours_per_day": 6, "electricity_usd_per_kwh": 0.2}, catalog
    )
    prices = serving_prices(RECORD, catalog, [machine])
    (own,) = prices.owned
    # $1.00/h of hardware (2190 / 365 / 6) + 100 W measured (2000 J / 20 s) x $0.2/kWh = $1.02/h
    assert own_usd_per_hour(machine, 100.0) == pytest.approx(1.02)
    assert round(own.usd_per_mtok, 2) == round(1.02 / (70.0 * 3600) * 1e6, 2) == 4.05
    assert own.provenance == "measured" and own.usd_per_mtok_low is None
    assert prices.clouds and prices.clouds == tuple(sorted(prices.clouds, key=lambda p: p.usd_per_mtok))
    assert all(p.provenance == "estimate" and p.usd_per_mtok_low < p.usd_per_mtok_high for p in prices.clouds)
    assert prices.apis[0].kind == "api"


def test_the_curve_chart_has_one_point_per_level_and_the_target_line():
    figure = serving_figure([RECORD])
    (trace,) = figure["data"]
    assert trace["x"] == [40.0, 70.0, 80.0] and trace["y"] == pytest.approx([200, 500, 1600])
    assert figure["layout"]["shapes"][0]["y0"] == 1000


def test_tokens_and_report_show_the_serving_answer(cli, serving_file, tmp_path):
    code, out, err = cli("tokens", str(serving_file))
    assert code == 0, err
    assert "Serving: llama.cpp b1 (test) serving Qwen2.5-0.5B-shaped q4_K_M" in out
    assert "at the target: concurrency 2, 70.00 tokens/s" in out
    code, out, err = cli("report", str(serving_file), "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    page = (tmp_path / "r.html").read_text()
    assert "Serving a language model under load" in page and "best at the target: concurrency 2" in page
    assert "load generator CPU" in page  # the client's own cost is shown beside what it measured


def test_hostile_text_in_a_serving_record_is_inert_in_the_terminal_and_the_page(cli, tmp_path):
    """A results file is data someone else may have written: a serving record's engine version,
    model name and stop reason with terminal escapes, a spreadsheet formula and markup reach
    `tokens` without the escapes and the page only escaped."""
    hostile = '\x1b[2J\x1b]0;pwned\x07=HYPERLINK("http://x")<script>alert(1)</script>'
    record = dataclasses.replace(RECORD, engine_version=hostile, model_name=f"m{hostile}", stopped_by=hostile)
    writer = ResultsWriter(tmp_path / "results", {"host": "test-host", "started_at": "2026-12-03"}, {})
    writer.put_serving(record)
    writer.finish()
    code, out, err = cli("tokens", str(writer.path))
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err and "pwned" in out  # kept as text
    code, _, err = cli("report", str(writer.path), "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    page = (tmp_path / "r.html").read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page and "\x1b" not in page
