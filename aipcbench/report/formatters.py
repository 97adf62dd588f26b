"""How numbers and text are shown, written once: money, durations, rates, percentages, bytes,
energy, provenance labels, aligned text tables, and text made safe for its reader.

Every plain output (terminal table, Markdown, CSV) passes strings from results files and
catalogs through ``safe_text`` or ``csv_cell``: a host name may hold escape sequences that
retitle or clear a terminal, a newline that breaks a Markdown table, or a leading ``=`` that a
spreadsheet runs as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from aipcbench.errors import CONTROL_CHARACTERS
from aipcbench.numbers import si, usd  # noqa: F401  (re-exported: the one rule)
from aipcbench.units import J_PER_WH, SECONDS_PER_DAY, SECONDS_PER_HOUR

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_text(value: Any) -> str:
    """Text with every control character (escape sequences, newlines, tabs) replaced by a
    space: what a terminal or a Markdown table may print."""
    return CONTROL_CHARACTERS.sub(" ", str(value))


def csv_cell(value: Any) -> Any:
    """A value for a spreadsheet: numbers and empty cells as they are; text made inert (control
    characters removed, and a leading formula character quoted, as OWASP advises)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = safe_text(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def as_csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def markdown_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return safe_text(value).replace("\\", "\\\\").replace("|", "\\|")


def text_table(rows: Sequence[Sequence[Any]], indent: str = "") -> list[str]:
    """Rows of cells aligned in columns; the last column is left ragged (it holds prose)."""
    cells = [[safe_text(value) for value in row] for row in rows]
    if not cells:
        return []
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    lines = []
    for row in cells:
        padded = [value.ljust(width) for value, width in zip(row, widths)]
        lines.append((indent + "  ".join(padded + [row[-1]])).rstrip())
    return lines


def usd_per_run(value: float | None) -> str:
    """A cost per run; tiny ones also per 1,000 runs ("$0.09 per 1,000 runs")."""
    if value is not None and 0 < value < 0.01:
        return f"{usd(value)} ({usd(value * 1000)} per 1,000 runs)"
    return usd(value)


def duration(seconds: float | None) -> str:
    """A run's length: s, min, h or days, three significant figures."""
    if seconds is None:
        return "-"
    for limit, unit, scale in ((120, "s", 1), (7200, "min", 60), (172800, "h", SECONDS_PER_HOUR)):
        if seconds < limit:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / SECONDS_PER_DAY:.3g} d"


def with_range(central: str, low: str | None, high: str | None) -> str:
    """``27.5 s (20.1 s-45.3 s)``: a central figure with its range, when it has one."""
    if low is None or high is None or low == high == central:
        return central
    return f"{central} ({low}-{high})"


def step_time(seconds: float | None) -> str:
    """A step's length: us, ms, s, min or h."""
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
    return f"{seconds / SECONDS_PER_HOUR:.1f} h"


def rate(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}{unit}/s"
    return f"{value:.2f} {unit}/s"


def percent(value: float | None, decimals: int = 0, missing: str = "-") -> str:
    return missing if value is None else f"{value * 100:.{decimals}f}%"


def size_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B"


def energy(joules: float | None, threshold_j: float = 36.0, digits: str = ".3g", missing: str = "–") -> str:
    """Joules below ``threshold_j``, watt-hours above it."""
    if joules is None:
        return missing
    return f"{joules / J_PER_WH:{digits}} Wh" if joules >= threshold_j else f"{joules:{digits}} J"


def provenance(record: Any) -> list[str]:
    """How a record's figures were obtained, in words a reader can check (a ``CellRecord``)."""
    labels = ["measured"]
    if record.run is not None and record.run.method == "extrapolated":
        labels.append("time per run extrapolated")
    if record.energy_method == "estimate-tdp":
        labels.append("energy estimated")
    elif record.energy_method:
        labels.append(f"energy measured ({record.energy_method})")
    if record.data_source == "synthetic":
        labels.append("synthetic data")
    if record.weights_source == "random-init":
        labels.append("random weights")
    if not record.valid_run:
        labels.append("NOT A VALID RUN (loss did not fall)")
    elif record.quality is not None and record.quality.verdict == "inconclusive":
        labels.append("loss trend inconclusive (too few steps to judge)")
    return labels
