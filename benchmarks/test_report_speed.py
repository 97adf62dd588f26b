"""Rendering a report from 10,000 records (target: under 5 s on a 2-core CPU)."""

import copy
from dataclasses import replace
from pathlib import Path

from aipcbench.catalog import load_catalog
from aipcbench.cost.compare import compare
from aipcbench.cost.machine import build_profile
from aipcbench.report.context import build_context
from aipcbench.report.render import render_html
from aipcbench.results import ResultsDocument, load
from tests.conftest import DATA


def ten_thousand_records() -> list[ResultsDocument]:
    base = load(DATA / "results-v2.json")
    documents = []
    for index in range(1000):  # 1,000 files x 10 records
        environment = {**copy.deepcopy(base.environment), "host": f"host-{index % 20}"}
        documents.append(
            replace(base, path=Path(f"bench-{index}.json"), run_id=f"bench-{index}", environment=environment)
        )
    return documents


def test_render_10k_records(benchmark):
    documents = ten_thousand_records()
    catalog = load_catalog()
    machine = build_profile({"price_usd": 3000}, catalog)

    def render():
        comparisons = compare(documents, catalog, machine)
        return render_html(build_context(documents, comparisons, machine, "bench"))

    page = benchmark.pedantic(render, rounds=3, iterations=1)
    assert sum(len(d.records) for d in documents) == 10_000
    assert len(page) > 1_000_000
