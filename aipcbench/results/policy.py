"""The timing policy a cell was measured under: how long to warm up, how long to time.

Part of every record (``timing.policy``) and of the run's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimingPolicy:
    """How long to warm up and how long to time (the stop rule of ``devices.timing.measure``)."""

    warmup_steps: int
    min_steps: int
    min_time_s: float
    max_time_s: float
    max_steps: int = 20_000  # bounds the samples kept for micro-second steps

    def __post_init__(self) -> None:
        if self.warmup_steps < 0:
            raise ValueError(f"warm-up steps must be >= 0, got {self.warmup_steps}")
        if self.min_steps < 1:
            raise ValueError(f"minimum steps must be >= 1, got {self.min_steps}")
        if self.min_time_s < 0:
            raise ValueError(f"minimum time must be >= 0 s, got {self.min_time_s}")
        if self.max_time_s <= 0 or self.max_time_s < self.min_time_s:
            raise ValueError(f"maximum time must be > 0 s and >= the minimum time, got {self.max_time_s}")
        if self.max_steps < self.min_steps:
            raise ValueError(f"maximum steps must be >= minimum steps, got {self.max_steps}")
