"""Summary statistics of per-step samples.

Pure functions over plain floats (no numpy, no torch) so the numbers can be pinned to textbook
values in tests and recomputed by the report without the measuring stack.

Conventions, chosen to match what most readers compute by hand:
- ``stdev`` is the sample standard deviation (n - 1 in the denominator), 0 for n == 1.
- Percentiles use linear interpolation between closest ranks (numpy's default, method 7 of
  Hyndman & Fan), so ``p5``/``p95``/``q1``/``q3`` agree with ``numpy.percentile``.
- ``cv`` is stdev / mean, the spread relative to the typical value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, linear interpolation."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} outside 0..100")
    position = (len(sorted_values) - 1) * q / 100.0
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction


@dataclass(frozen=True)
class Summary:
    """Location and spread of a set of samples (seconds, or any unit the caller uses)."""

    n: int
    mean: float
    median: float
    stdev: float
    minimum: float
    maximum: float
    p5: float
    p95: float
    q1: float
    q3: float
    iqr: float
    cv: float

    @classmethod
    def from_samples(cls, samples: list[float]) -> Summary:
        if not samples:
            raise ValueError("cannot summarise zero samples")
        values = sorted(float(v) for v in samples)
        if any(math.isnan(v) or math.isinf(v) for v in values):
            raise ValueError("samples contain NaN or infinity")
        n = len(values)
        mean = math.fsum(values) / n
        variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        stdev = math.sqrt(variance)
        q1 = percentile(values, 25)
        q3 = percentile(values, 75)
        return cls(
            n=n,
            mean=mean,
            median=percentile(values, 50),
            stdev=stdev,
            minimum=values[0],
            maximum=values[-1],
            p5=percentile(values, 5),
            p95=percentile(values, 95),
            q1=q1,
            q3=q3,
            iqr=q3 - q1,
            cv=stdev / mean if mean > 0 else 0.0,
        )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
