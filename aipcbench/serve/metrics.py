"""A level's figures, computed once from its per-request results (definitions in
``aipcbench.results.serving``). Pure: tested to hand-computed numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aipcbench.results.serving import LatencyStats, LatencyTarget, RequestSample, ServingLevel
from aipcbench.run.stats import percentile
from aipcbench.serve.load import Concurrency, LevelRun
from aipcbench.serve.stream_request import RequestResult

MAX_REASONS = 5


def latency_stats(values: list[float]) -> LatencyStats | None:
    if not values:
        return None
    ordered = sorted(values)
    return LatencyStats(
        n=len(ordered),
        mean_s=math.fsum(ordered) / len(ordered),
        p50_s=percentile(ordered, 50),
        p90_s=percentile(ordered, 90),
        p95_s=percentile(ordered, 95),
        p99_s=percentile(ordered, 99),
        max_s=ordered[-1],
    )


def meets(result: RequestResult, target: LatencyTarget) -> bool:
    """One request within the target (goodput counts these)."""
    if not result.ok:
        return False
    if target.ttft_p95_s is not None and (result.ttft_s is None or result.ttft_s > target.ttft_p95_s):
        return False
    tpot = result.tpot_s
    return target.tpot_p95_s is None or (tpot is not None and tpot <= target.tpot_p95_s)


def level_meets(ttft: LatencyStats | None, tpot: LatencyStats | None, target: LatencyTarget) -> bool:
    """The level keeps the target: p95 TTFT (and p95 TPOT) at or under it."""
    if ttft is None:
        return False
    if target.ttft_p95_s is not None and ttft.p95_s > target.ttft_p95_s:
        return False
    return target.tpot_p95_s is None or (tpot is not None and tpot.p95_s <= target.tpot_p95_s)


@dataclass(frozen=True)
class Extras:
    """What the server's probes measured over the level (memory, energy), if anything."""

    peak_rss_bytes: int | None = None
    gpu_memory_bytes: int | None = None
    energy_j: float | None = None
    energy_method: str | None = None
    energy_note: str = ""


def summarise(run: LevelRun, target: LatencyTarget, extras: Extras = Extras()) -> ServingLevel:
    ok = [r for r in run.results if r.ok]
    failed = [r for r in run.results if not r.ok]
    ends = [r.sent_s + r.e2e_s for r in ok if r.e2e_s is not None]
    window = (max(ends) - min(r.sent_s for r in ok)) if ok else 0.0
    output = sum(r.output_tokens for r in ok)
    inputs = sum(r.input_tokens or 0 for r in ok)
    ttft = latency_stats([r.ttft_s for r in ok if r.ttft_s is not None])
    tpot_values = [t for t in (r.tpot_s for r in ok) if t is not None]
    tpot = latency_stats(tpot_values)
    per_user = percentile(sorted(1.0 / t for t in tpot_values if t > 0), 50) if tpot_values else None
    reasons = list(dict.fromkeys(r.reason for r in failed))[:MAX_REASONS]
    rate = (lambda n: n / window) if window > 0 else (lambda n: 0.0)
    counted = {r.tokens_counted_by for r in ok}
    return ServingLevel(
        profile="concurrency" if isinstance(run.profile, Concurrency) else "poisson",
        concurrency=run.profile.users if isinstance(run.profile, Concurrency) else None,
        rate_per_s=None if isinstance(run.profile, Concurrency) else run.profile.rate_per_s,
        requests_ok=len(ok),
        requests_failed=len(failed),
        window_s=window,
        output_tokens=output,
        input_tokens=inputs,
        tokens_counted_by="usage" if counted == {"usage"} else ("events" if counted else ""),
        output_tokens_per_s=rate(output),
        input_tokens_per_s=rate(inputs),
        requests_per_s=rate(len(ok)),
        ttft=ttft,
        tpot=tpot,
        itl=latency_stats([gap for r in ok for gap in r.token_gaps_s]),
        e2e=latency_stats([r.e2e_s for r in ok if r.e2e_s is not None]),
        output_tokens_per_s_per_user=per_user,
        goodput_requests_per_s=rate(sum(meets(r, target) for r in ok)) if ok else None,
        meets_target=level_meets(ttft, tpot, target) if ok else False,
        failure_reasons=tuple(reasons),
        server_peak_rss_bytes=extras.peak_rss_bytes,
        server_gpu_memory_bytes=extras.gpu_memory_bytes,
        energy_j=extras.energy_j,
        energy_method=extras.energy_method,
        energy_note=extras.energy_note,
        generator_cpu_fraction=run.generator_cpu_s / run.wall_s if run.wall_s > 0 else None,
        max_send_lag_s=run.max_send_lag_s if not isinstance(run.profile, Concurrency) else None,
        samples=tuple(
            RequestSample(r.ok, r.sent_s, r.ttft_s, r.e2e_s, r.output_tokens, r.input_tokens, r.reason)
            for r in run.results
        ),
    )
