"""Cost comparisons as text for a terminal (``aipcbench cost``), and as flat rows for CSV and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aipcbench.cost.compare import CellComparison, OfferCost
from aipcbench.report.formatters import duration, safe_text, text_table, usd, usd_per_run, with_range
from aipcbench.results.store import finite_or_none


def best_per_provider_and_accelerator(comparison: CellComparison):
    """The cheapest priced offer for each (provider, accelerator), then the unpriced ones."""
    seen, best = set(), []
    for offer in comparison.offers:
        group = (offer.provider, offer.accelerator)
        if group not in seen:
            seen.add(group)
            best.append(offer)
    return best


def break_even_text(comparison: CellComparison) -> str:
    be = comparison.break_even
    if be is None:
        return "no cloud offer could be priced for this cell"
    if be.runs_per_month is None:
        return f"none against {comparison.break_even_against}: {be.reason}"
    text = (
        f"owning is cheaper above {be.runs_per_month:,.1f} runs/month against "
        f"{comparison.break_even_against} (the machine can do {be.capacity_runs_per_month:,.0f})"
    )
    if comparison.payback_months is not None:
        text += (
            f"; at {comparison.runs_per_month_at_usage:,.0f} runs/month it pays for itself "
            f"in {comparison.payback_months:,.1f} months"
        )
    return text


def text_report(comparisons: list[CellComparison], all_offers: bool = False) -> str:
    lines = []
    for c in comparisons:
        valid = "" if c.valid_run else "  [NOT A VALID RUN: training loss did not fall]"
        lines.append(f"== {c.label} ({c.run_description}){valid}")
        lines.append(
            f"   local: {c.device_name or c.device} on {c.host}: {duration(c.seconds_per_run)}"
            f" per run ({'measured, extrapolated' if c.local_method == 'measured' else c.local_method}),"
            f" {usd_per_run(c.local.total_usd)} per run "
            f"= hardware {usd(c.local.hardware_usd)} + electricity "
            f"{usd(c.local.electricity_usd)}"
        )
        lines.append(f"   cheapest: {c.cheapest} at {usd_per_run(c.cheapest_usd)} per run")
        lines.append(f"   break-even: {break_even_text(c)}")
        for note in c.notes:
            lines.append(f"   note: {note}")
        offers = c.offers if all_offers else best_per_provider_and_accelerator(c)
        unpriced = [o for o in offers if o.on_demand_usd is None]
        offers = [o for o in offers if o.on_demand_usd is not None]
        if unpriced:
            reasons = sorted({o.evidence.basis for o in unpriced})
            lines.append(f"   {len(unpriced)} offer(s) not priced: {'; '.join(reasons)}")
        if not offers:
            lines.append("")
            continue
        header = (
            "provider",
            "instance",
            "gpus",
            "evidence",
            "time/run (range)",
            "on-demand (range)",
            "spot",
            "basis",
        )
        rows = [header] + [
            (
                o.provider,
                o.instance_type,
                f"{o.gpu_count}x {o.accelerator}",
                o.evidence.method,
                _time_range(o),
                with_range(usd(o.on_demand_usd), _usd(o.on_demand_usd_low), _usd(o.on_demand_usd_high)),
                usd(o.spot_usd),
                o.evidence.basis,
            )
            for o in offers
        ]
        lines += text_table(rows, indent="   ")
        lines.append("")
    return "\n".join(safe_text(line) for line in lines)


def _usd(value: float | None) -> str | None:
    return usd(value) if value is not None else None


def _time_range(offer: OfferCost) -> str:
    evidence = offer.evidence
    low = duration(evidence.seconds_low) if evidence.seconds_low is not None else None
    high = duration(evidence.seconds_high) if evidence.seconds_high is not None else None
    return with_range(duration(evidence.seconds_per_run), low, high)


def flat_rows(comparisons: list[CellComparison]) -> list[dict[str, Any]]:
    """One row per (cell, option): the local machine first, then every offer.

    Longer than 60 lines: one CSV row's columns, listed once in the order a spreadsheet shows them.
    """
    rows = []
    for c in comparisons:
        common = {
            "workload": c.workload,
            "size": c.size,
            "dtype": c.dtype,
            "host": c.host,
            "valid_run": c.valid_run,
            "data_source": c.data_source,
        }
        be = c.break_even
        rows.append(
            {
                **common,
                "option": "local",
                "provider": "local",
                "instance_type": c.device_name,
                "accelerator": c.device,
                "gpu_count": None,
                "evidence": "measured",
                "seconds_per_run": c.seconds_per_run,
                "seconds_per_run_low": None,
                "seconds_per_run_high": None,
                "bound": "",
                "usd_per_run": c.local.total_usd,
                "usd_per_run_low": None,
                "usd_per_run_high": None,
                "usd_per_run_spot": None,
                "hardware_usd": c.local.hardware_usd,
                "electricity_usd": c.local.electricity_usd,
                "break_even_runs_per_month": be.runs_per_month if be else None,
                "payback_months": c.payback_months,
                "basis": "; ".join(c.notes),
            }
        )
        for o in c.offers:
            rows.append(
                {
                    **common,
                    "option": "cloud",
                    "provider": o.provider,
                    "instance_type": o.instance_type,
                    "accelerator": o.accelerator,
                    "gpu_count": o.gpu_count,
                    "evidence": o.evidence.method,
                    "seconds_per_run": o.evidence.seconds_per_run,
                    "seconds_per_run_low": o.evidence.seconds_low,
                    "seconds_per_run_high": o.evidence.seconds_high,
                    "bound": o.evidence.bound,
                    "usd_per_run": o.on_demand_usd,
                    "usd_per_run_low": o.on_demand_usd_low,
                    "usd_per_run_high": o.on_demand_usd_high,
                    "usd_per_run_spot": o.spot_usd,
                    "hardware_usd": None,
                    "electricity_usd": None,
                    "break_even_runs_per_month": None,
                    "payback_months": None,
                    "basis": o.evidence.basis,
                }
            )
    return rows


def as_json(comparisons: list[CellComparison], machine: Any = None) -> str:
    document = {
        "machine": asdict(machine) if machine is not None else None,
        "comparisons": [asdict(c) for c in comparisons],
    }
    return json.dumps(finite_or_none(document), indent=1, default=str, allow_nan=False)
