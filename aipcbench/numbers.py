"""How amounts read in words, written once for every part: money and SI prefixes.

Below ``report``, so that the cost part's sentences ("Buy the ...: $105/month") and the report's
tables format a dollar the same way; ``report.formatters`` re-exports both.
"""

from __future__ import annotations

import math

SI_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def usd(value: float | None) -> str:
    """Money as a founder reads it: whole dollars from $100, cents from $1; below a dollar two
    significant digits, at least to the cent and at most to a hundredth of a cent ($0.12,
    $0.041, $0.0012), never in scientific notation; "< $0.0001" below that."""
    if value is None:
        return "-"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.0001:
        decimals = min(4, max(2, 1 - math.floor(math.log10(value))))
        return f"${value:.{decimals}f}"
    return "$0" if value <= 0 else "< $0.0001"


def si(value: float | None, unit: str = "") -> str:
    """3 significant digits with an SI prefix: ``1.23 GFLOP``, ``450 MB/s``."""
    if value is None:
        return "\u2013"
    for scale, prefix in SI_PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".strip()
