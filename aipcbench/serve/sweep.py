"""Load levels, one after another, until the answer is known.

Automatic concurrency sweep: 1, 2, 4, ... up to ``max_concurrency``, stopping after the first
level that breaks the latency target once a level kept it (what vLLM's SLA sweep searches
for; when even one user breaks it, the curve goes on), or whose output
tokens/s rose less than ``SATURATION_GAIN`` over the best level before it (the server is
saturated: more users only queue), or where most requests failed. Explicit levels (a list of
concurrencies or Poisson rates) all run. Every level is handed to ``on_level`` as soon as it
ends, so a results file holds every finished level whatever stops the sweep later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aipcbench.results.serving import LatencyTarget, ServingLevel
from aipcbench.serve.load import Concurrency, Poisson, Profile

SATURATION_GAIN = 0.10  # a level must add 10 % output tokens/s to count as still rising
MAX_FAILED_FRACTION = 0.5


@dataclass(frozen=True)
class SweepPlan:
    concurrencies: tuple[int, ...] = ()  # explicit levels; empty = automatic 1, 2, 4, ...
    rates_per_s: tuple[float, ...] = ()  # Poisson levels instead of concurrency
    max_concurrency: int = 16
    requests: int = 16  # measured requests per level (at least 2 per user)
    warmup: int | None = None  # per level; default: one per user (the ramp-up)
    seed: int = 0

    @property
    def automatic(self) -> bool:
        return not self.concurrencies and not self.rates_per_s

    def profiles(self) -> list[Profile]:
        if self.rates_per_s:
            return [Poisson(rate, self.max_concurrency, self.seed) for rate in self.rates_per_s]
        levels = self.concurrencies or _doubling(self.max_concurrency)
        return [Concurrency(n) for n in levels]

    def requests_for(self, profile: Profile) -> tuple[int, int]:
        """(measured, warm-up) requests for a level."""
        users = profile.users if isinstance(profile, Concurrency) else 1
        warmup = self.warmup if self.warmup is not None else users
        return max(self.requests, 2 * users), warmup


def _doubling(limit: int) -> tuple[int, ...]:
    levels, n = [], 1
    while n < limit:
        levels.append(n)
        n *= 2
    return (*levels, limit)


def stop_reason(
    level: ServingLevel, best_before: ServingLevel | None, target: LatencyTarget, met_before: bool = True
) -> str:
    """Why an automatic sweep ends after ``level`` ("" to go on). A broken target ends it only
    once an earlier level kept it (the answer is then known); when none could, the sweep goes on
    to show the curve until throughput stops rising."""
    total = level.requests_ok + level.requests_failed
    if total and level.requests_failed / total > MAX_FAILED_FRACTION:
        return f"{level.requests_failed} of {total} requests failed at {level.label}"
    has_target = target.ttft_p95_s is not None or target.tpot_p95_s is not None
    if level.meets_target is False and has_target and met_before:
        return f"the latency target ({target.describe()}) broke at {level.label}"
    if best_before is not None and level.output_tokens_per_s < best_before.output_tokens_per_s * (
        1 + SATURATION_GAIN
    ):
        gain = (
            level.output_tokens_per_s / best_before.output_tokens_per_s - 1
            if best_before.output_tokens_per_s
            else 0
        )
        return f"throughput stopped rising at {level.label} ({gain:+.0%} over {best_before.label})"
    return ""


def run_sweep(
    plan: SweepPlan,
    target: LatencyTarget,
    run_one: Callable[[Profile, int, int], ServingLevel | None],
    on_level: Callable[[ServingLevel], None],
    server_alive: Callable[[], bool] = lambda: True,
) -> str:
    """Run the levels; return why the sweep ended. ``run_one(profile, measured, warmup)``
    returns None when the level was cut short by a signal (the sweep then ends)."""
    best: ServingLevel | None = None
    met = False
    profiles = plan.profiles()
    for number, profile in enumerate(profiles):
        measured, warmup = plan.requests_for(profile)
        level = run_one(profile, measured, warmup)
        if level is None:
            return "interrupted"
        on_level(level)
        if not server_alive():
            return f"the server exited during {level.label}"
        if plan.automatic:
            reason = stop_reason(level, best, target, met)
            if reason:
                return reason
        met = met or bool(level.meets_target)
        if level.requests_ok and (best is None or level.output_tokens_per_s > best.output_tokens_per_s):
            best = level
        if number == len(profiles) - 1:
            break
    return (
        "every level ran"
        if not plan.automatic
        else f"reached the highest concurrency ({plan.max_concurrency})"
    )
