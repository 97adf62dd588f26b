"""The table printed at the end of ``aipcbench run``, where the suite's time went, and the exit
code the records imply."""

from __future__ import annotations

from aipcbench.report.formatters import energy, percent, provenance, rate, step_time, text_table
from aipcbench.results.record import CellRecord

HEADER = (
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


NOTE_LABELS = ("synthetic data", "random weights", "loss trend")  # provenance worth a note here


def _energy(record: CellRecord) -> str:
    if record.energy_per_run_j is None:
        return "-"
    return energy(record.energy_per_run_j, threshold_j=360.0) + (
        " (est.)" if record.energy_method == "estimate-tdp" else ""
    )


def _note(record: CellRecord) -> str:
    labels = [record.reason] if record.reason else []
    if record.status == "ok":
        labels += [label for label in provenance(record) if label.startswith(NOTE_LABELS)]
    return "; ".join(labels)


def summary_table(records: list[CellRecord]) -> str:
    rows = [HEADER]
    for record in records:
        step, flops = record.step_time, record.flops
        mfu_rated, mfu_gemm = (flops.mfu_rated, flops.mfu_measured) if flops else (None, None)
        unit = record.workload_facts.item_unit if record.workload_facts else "items"
        rows.append(
            (
                record.cell,
                record.status,
                step_time(step.median_s if step else None),
                percent(step.cv if step else None, 1),
                rate(record.throughput.items_per_s if record.throughput else None, unit),
                f"{percent(mfu_rated)}/{percent(mfu_gemm)}",
                step_time(record.time_per_run_s),
                _energy(record),
                _note(record),
            )
        )
    return "\n".join(text_table(rows))


def exit_code_for(records: list[CellRecord]) -> int:
    """1 if any cell failed or its training was judged invalid, else 0 (skipped is fine)."""
    return 1 if any(r.failed or not r.valid_run for r in records) else 0


def suite_timing(records: list[CellRecord], wall_s: float) -> dict[str, float]:
    """Where the suite's wall time went: timed steps, warm-up, set-up, and the rest (process
    start, imports, device probing, FLOP counting, writing)."""
    timed = warmup = setup = 0.0
    for record in records:
        if record.timing is None:
            continue
        timed += record.timing.window_s
        warmup += sum(record.timing.warmup_samples_s) + record.timing.first_step_s
        setup += record.timing.setup_s
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
