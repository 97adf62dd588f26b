"""The table printed at the end of ``aipcbench run``, and the exit code the records imply."""

from __future__ import annotations

from typing import Any

FAILED_STATUSES = ("failed", "oom", "killed", "timeout")


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _fmt_rate(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}{unit}/s"
    return f"{value:.2f} {unit}/s"


def _fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _fmt_energy(record: dict[str, Any]) -> str:
    joules = record.get("energy_j_per_run")
    if joules is None:
        return "-"
    text = f"{joules / 3600:.2f} Wh" if joules >= 360 else f"{joules:.1f} J"
    return text + (" (est.)" if record.get("energy_method") == "estimate-tdp" else "")


def _note(record: dict[str, Any]) -> str:
    notes = []
    if record.get("reason"):
        notes.append(record["reason"])
    if record.get("data_source") == "synthetic":
        notes.append("synthetic data")
    if record.get("weights_source") == "random-init":
        notes.append("random weights")
    return "; ".join(notes)


def summary_table(records: list[dict[str, Any]]) -> str:
    header = (
        "cell",
        "status",
        "median step",
        "cv",
        "throughput",
        "MFU rated/GEMM",
        "per run (extrap.)",
        "energy/run",
        "notes",
    )
    rows = [header]
    for record in records:
        summary = record.get("summary") or {}
        run = record.get("run") or {}
        cv = summary.get("cv")
        rows.append(
            (
                record.get("cell", "?"),
                record["status"],
                format_time(summary.get("median")),
                f"{cv * 100:.1f}%" if cv is not None else "-",
                _fmt_rate(
                    (record.get("throughput") or {}).get("items_per_s"), record.get("item_unit", "items")
                ),
                f"{_fmt_pct(record.get('mfu_rated'))}/{_fmt_pct(record.get('mfu_measured'))}",
                format_time(run.get("seconds_per_run")),
                _fmt_energy(record),
                _note(record),
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [str(value).ljust(width) for value, width in zip(row, widths)]
        lines.append("  ".join(cells + [str(row[-1])]).rstrip())
    return "\n".join(lines)


def invalid_run(record: dict[str, Any]) -> bool:
    quality = record.get("quality")
    return bool(quality) and not quality.get("valid_run", False)


def exit_code_for(records: list[dict[str, Any]]) -> int:
    """1 if any cell failed or trained without its loss falling, else 0 (skipped is fine)."""
    bad = any(r["status"] in FAILED_STATUSES or invalid_run(r) for r in records)
    return 1 if bad else 0


def suite_timing(records: list[dict[str, Any]], wall_s: float) -> dict[str, float]:
    """Where the suite's wall time went: timed steps, warm-up, set-up, and the rest (process
    start, imports, device probing, FLOP counting, writing)."""
    timed = warmup = setup = 0.0
    for record in records:
        timing = record.get("timing") or {}
        timed += timing.get("window_s") or 0.0
        warmup += sum(timing.get("warmup_samples_s") or []) + (timing.get("first_step_s") or 0.0)
        setup += timing.get("setup_s") or 0.0
    return {
        "wall_s": wall_s,
        "timed_s": timed,
        "warmup_s": warmup,
        "setup_s": setup,
        "other_s": max(wall_s - timed - warmup - setup, 0.0),
    }


def suite_timing_line(timing: dict[str, float]) -> str:
    wall = timing["wall_s"] or 1.0
    parts = ", ".join(
        f"{name} {timing[key]:.1f} s ({timing[key] / wall:.0%})"
        for name, key in (
            ("timed steps", "timed_s"),
            ("warm-up", "warmup_s"),
            ("set-up", "setup_s"),
            ("process start, probes and the rest", "other_s"),
        )
    )
    return f"suite: {timing['wall_s']:.1f} s wall: {parts}"
