"""The report's main table as Markdown, CSV or JSON, for terminals and CI (llama-bench style)."""

from __future__ import annotations

import json
from typing import Any

from aipcbench.report.formatters import as_csv, markdown_cell
from aipcbench.results.store import finite_or_none

COLUMNS = (
    "host",
    "device",
    "workload",
    "size",
    "dtype",
    "status",
    "median_s",
    "items_per_s",
    "item_unit",
    "mfu_rated",
    "mfu_measured",
    "energy_j_per_run",
    "energy_method",
    "seconds_per_run",
    "local_usd_per_run",
    "cloud_option",
    "cloud_usd_per_run",
    "cloud_evidence",
    "provenance",
)


def plain_rows(context: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per record, with the cost of one run where this record is the one priced."""
    priced = {}
    for h in context["headline"]:
        priced[h["cell"]] = h
    rows = []
    for r in context["records"]:
        cell = f"{r['workload']}:{r['size']} {r['dtype']}"
        h = priced.get(cell) if r["host"] in h_hosts(priced.get(cell)) else None
        rows.append(
            {
                **{k: r.get(k) for k in COLUMNS[:14]},
                "local_usd_per_run": h["local_usd"] if h else None,
                "cloud_option": h["cloud"] if h else None,
                "cloud_usd_per_run": h["cloud_usd"] if h else None,
                "cloud_evidence": h["cloud_evidence"] if h else None,
                "provenance": "; ".join(r["provenance"]),
            }
        )
    return rows


def h_hosts(headline_row: dict[str, Any] | None) -> str:
    return headline_row["device"] if headline_row else ""


def as_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(markdown_cell(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def render_plain(context: dict[str, Any], fmt: str) -> str:
    rows = plain_rows(context)
    if fmt == "md":
        return as_markdown(rows)
    if fmt == "csv":
        return as_csv(rows)
    return json.dumps(finite_or_none(rows), indent=1, allow_nan=False) + "\n"
