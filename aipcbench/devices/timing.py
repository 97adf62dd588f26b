"""The only code that reads clocks around measured work: steps, probes and warm-ups.

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

from aipcbench.results.record import TimingPolicy

clock = time.perf_counter  # the clock every step time is read from


class Window(Protocol):
    """Something read at the boundaries of the timed window (an energy counter, say);
    ``stop`` returns its complete reading."""

    def start(self) -> None: ...

    def stop(self) -> Any: ...


@dataclass(frozen=True)
class Measurement:
    """One complete timed window; built only once the window has closed."""

    samples_s: tuple[float, ...]
    warmup_samples_s: tuple[float, ...]
    window_s: float
    stopped_by: str  # "min-steps-and-time", "max-time" or "max-steps"
    window_readings: tuple[Any, ...] = ()  # what each window's ``stop`` returned, in order


def measure(
    step: Callable[[], Any],
    sync: Callable[[], None],
    policy: TimingPolicy,
    clock: Callable[[], float] = clock,
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
    readings = tuple(window.stop() for window in windows)
    return Measurement(
        samples_s=tuple(samples),
        warmup_samples_s=tuple(warmup),
        window_s=previous - window_start,
        stopped_by=stopped_by,
        window_readings=readings,
    )


def time_call(fn: Callable[[], Any], sync: Callable[[], None], clock: Callable[[], float] = clock) -> float:
    """Seconds one call of ``fn`` takes, the device synchronised before both clock reads."""
    sync()
    begin = clock()
    fn()
    sync()
    return clock() - begin


def repeat_for(
    fn: Callable[[], Any],
    sync: Callable[[], None],
    seconds: float,
    min_repeats: int = 3,
    clock: Callable[[], float] = clock,
) -> list[float]:
    """Per-call seconds of ``fn`` repeated for ``seconds`` (and at least ``min_repeats`` times):
    the loop of the device probes (GEMM peak, read bandwidth)."""
    samples: list[float] = []
    deadline = clock() + seconds
    while clock() < deadline or len(samples) < min_repeats:
        samples.append(time_call(fn, sync, clock))
    return samples


def best_rate(
    loop: Callable[[int], Any],
    iterations: int,
    work_per_iteration: float,
    seconds: float,
    clock: Callable[[], float] = clock,
) -> float:
    """Best work/s of repeated ``loop(iterations)`` calls on this thread, after one call that
    wakes the core up to its working clock. Best, not median: interruptions only ever make a
    register-only loop look slower (the CPU clock and issue-rate probes)."""
    loop(iterations // 2)
    best = 0.0
    deadline = clock() + seconds
    while clock() < deadline:
        begin = clock()
        loop(iterations)
        best = max(best, iterations * work_per_iteration / (clock() - begin))
    return best
