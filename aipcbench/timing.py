"""The only code that reads clocks around workload steps.

``measure`` owns the loop and the clock (the pytest-benchmark pattern): the workload hands over a
callable that does one step, the harness decides how many steps to run and when to read the
clock. Rules that keep the numbers honest:

- warm-up steps run first and are kept apart from the timed samples (they include one-off costs:
  allocator growth, kernel selection, lazy initialisation);
- the device is synchronised before every clock read, because GPU (and MPS/XPU) work is queued
  asynchronously and a clock read without a sync measures the launch, not the work;
- timing stops only when *both* a minimum number of steps and a minimum time are reached (too
  few samples give no spread; too short a window is dominated by timer resolution and sensor
  update periods), with a hard cap on time for steps that are slower than expected;
- consecutive clock reads bracket consecutive steps, so one read per step suffices and the loop
  bookkeeping (an append and two comparisons) is the harness's whole overhead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aipcbench.errors import UserInputError


class Window(Protocol):
    """Something read at the boundaries of the timed window (an energy counter, say)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class TimingPolicy:
    """How long to warm up and how long to time."""

    warmup_steps: int
    min_steps: int
    min_time_s: float
    max_time_s: float
    max_steps: int = 20_000  # bounds the samples kept for micro-second steps

    def __post_init__(self) -> None:
        if self.warmup_steps < 0:
            raise UserInputError(f"warm-up steps must be >= 0, got {self.warmup_steps}")
        if self.min_steps < 1:
            raise UserInputError(f"minimum steps must be >= 1, got {self.min_steps}")
        if self.min_time_s < 0:
            raise UserInputError(f"minimum time must be >= 0 s, got {self.min_time_s}")
        if self.max_time_s <= 0 or self.max_time_s < self.min_time_s:
            raise UserInputError(f"maximum time must be > 0 s and >= the minimum time, got {self.max_time_s}")
        if self.max_steps < self.min_steps:
            raise UserInputError(f"maximum steps must be >= minimum steps, got {self.max_steps}")


QUICK_POLICY = TimingPolicy(warmup_steps=2, min_steps=5, min_time_s=2.0, max_time_s=6.0)
FULL_POLICY = TimingPolicy(
    warmup_steps=10, min_steps=30, min_time_s=10.0, max_time_s=120.0, max_steps=200_000
)


@dataclass(frozen=True)
class Measurement:
    """One complete timed window; built only once the window has closed."""

    samples_s: tuple[float, ...]
    warmup_samples_s: tuple[float, ...]
    window_s: float
    stopped_by: str  # "min-steps-and-time", "max-time" or "max-steps"


def measure(
    step: Callable[[], Any],
    sync: Callable[[], None],
    policy: TimingPolicy,
    clock: Callable[[], float] = time.perf_counter,
    windows: Sequence[Window] = (),
    after_warmup: Callable[[], None] | None = None,
) -> Measurement:
    """Warm up, then time ``step`` until the policy's stop rule is met.

    ``sync`` must block until all work queued on the device is done. ``windows`` are started
    after the warm-up (device idle) and stopped after the last timed step's sync.
    ``after_warmup`` runs between warm-up and the timed window (reading a loss, say).
    """
    warmup: list[float] = []
    for _ in range(policy.warmup_steps):
        sync()
        begin = clock()
        step()
        sync()
        warmup.append(clock() - begin)

    if after_warmup is not None:
        after_warmup()
    for window in windows:
        window.start()
    samples: list[float] = []
    sync()
    window_start = previous = clock()
    while True:
        step()
        sync()
        now = clock()
        samples.append(now - previous)
        previous = now
        elapsed = now - window_start
        if elapsed >= policy.max_time_s:
            stopped_by = "max-time"
            break
        if len(samples) >= policy.min_steps and elapsed >= policy.min_time_s:
            stopped_by = "min-steps-and-time"
            break
        if len(samples) >= policy.max_steps:
            stopped_by = "max-steps"
            break
    for window in windows:
        window.stop()
    return Measurement(
        samples_s=tuple(samples),
        warmup_samples_s=tuple(warmup),
        window_s=previous - window_start,
        stopped_by=stopped_by,
    )
