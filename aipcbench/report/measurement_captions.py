"""The point of each measurement chart in one sentence, computed from the rows it plots: which
device is fastest, how steady the steps were, how much of the hardware the work used, what a run
costs in energy and how well data parallelism scaled. A reader who skips the chart (or cannot
see it) still gets its conclusion; the chart's data table is one click away."""

from __future__ import annotations

import statistics
from typing import Any

NOISY_CV = 0.10  # a step-time spread above 10 % makes a median less trustworthy


def _cell(row: dict[str, Any]) -> str:
    return f"{row['workload']}:{row['size']} {row['dtype']}"


def _where(row: dict[str, Any]) -> str:
    return f"{row['host']} {row['device']}"


def throughput_caption(rows: list[dict[str, Any]]) -> str | None:
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("items_per_s") and not row.get("world_size"):
            by_cell.setdefault(_cell(row), []).append(row)
    shared = {cell: members for cell, members in by_cell.items() if len({_where(m) for m in members}) > 1}
    if not shared:
        if not by_cell:
            return None
        devices = sorted({_where(r) for members in by_cell.values() for r in members})
        return (
            f"{len(by_cell)} workloads on {', '.join(devices)}; each measured on one device only, so "
            "this chart compares workloads, not machines (units differ: see its data)."
        )
    wins: dict[str, int] = {}
    for members in shared.values():
        best = max(members, key=lambda r: r["items_per_s"])
        wins[_where(best)] = wins.get(_where(best), 0) + 1
    leader = max(wins, key=wins.get)
    return (
        f"{leader} is the fastest on {wins[leader]} of the {len(shared)} workloads measured on more "
        "than one device."
    )


def step_times_caption(rows: list[dict[str, Any]]) -> str | None:
    spread = [  # the harness's own overhead cell (an empty step) is no workload: left out
        (row["cv"], _cell(row), _where(row))
        for row in rows
        if isinstance(row.get("cv"), float) and row.get("mode") != "overhead"
    ]
    if not spread:
        return None
    median = statistics.median(c for c, _, _ in spread)
    worst = max(spread)
    noisy = sum(1 for c, _, _ in spread if c > NOISY_CV)
    steady = "steady" if median <= NOISY_CV else "noisy"
    return (
        f"Step times are {steady}: a typical cell varies {median:.1%} from step to step (coefficient of "
        f"variation); the least steady is {worst[1]} on {worst[2]} at {worst[0]:.1%}"
        + (f", and {noisy} cells spread more than {NOISY_CV:.0%}." if noisy else ".")
    )


def utilisation_caption(rows: list[dict[str, Any]]) -> str | None:
    used = [(row["mfu_rated"], _cell(row), _where(row)) for row in rows if row.get("mfu_rated")]
    if not used:
        return None
    low, high = min(used), max(used)
    return (
        f"The work used {low[0]:.0%} ({low[1]} on {low[2]}) to {high[0]:.0%} ({high[1]} on {high[2]}) "
        "of the device's rated peak: the rest is what a faster kernel or a bigger batch could win."
    )


def energy_caption(rows: list[dict[str, Any]]) -> str | None:
    energy = [row for row in rows if row.get("energy_j_per_run")]
    if not energy:
        return None
    low = min(energy, key=lambda r: r["energy_j_per_run"])
    high = max(energy, key=lambda r: r["energy_j_per_run"])
    estimated = sum(1 for r in energy if "estimate" in str(r.get("energy_method") or ""))
    return (
        f"A run takes from {low['energy_j_per_run'] / 3600:,.3g} Wh ({_cell(low)}) to "
        f"{high['energy_j_per_run'] / 3600:,.3g} Wh ({_cell(high)}); "
        + (
            f"{estimated} of {len(energy)} figures are estimated from rated power, not metered."
            if estimated
            else "every figure was metered."
        )
    )


def scaling_caption(rows: list[dict[str, Any]]) -> str | None:
    ranked = [row for row in rows if (row.get("world_size") or 0) > 1 and row.get("scaling_efficiency")]
    if not ranked:
        return None
    widest = max(ranked, key=lambda r: (r["world_size"], r["scaling_efficiency"]))
    return (
        f"At {widest['world_size']} ranks {_cell(widest)} keeps {widest['scaling_efficiency']:.0%} of "
        "perfect scaling (throughput over N times one rank's)."
    )


CAPTIONS = {
    "throughput": throughput_caption,
    "step_times": step_times_caption,
    "utilisation": utilisation_caption,
    "energy": energy_caption,
    "scaling": scaling_caption,
}
