"""Load profiles: when the next request starts. They only schedule; ``stream_request`` sends
and times (guidellm's split of profiles and backend).

- ``Concurrency(n)``: a closed loop, n requests in flight at all times (each of n users sends its
  next request when its last answer ends): what vLLM's ``bench serve --max-concurrency`` and
  guidellm's ``concurrent`` profile do.
- ``Poisson(rate)``: an open loop, requests arrive at random at a mean rate whatever the server
  does (``--request-rate``), at most ``max_in_flight`` at once; a request that waited for a free
  slot is sent late, and the lag is recorded.

The first ``warmup`` requests of a level are sent and answered but excluded from its figures
(they fill caches and, for a closed loop, ramp up to n in flight). The load generator's own CPU
time over the level is recorded: on a small machine it competes with a CPU server for cores.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from aipcbench.errors import Interrupted
from aipcbench.serve.http import Pool
from aipcbench.serve.stream_request import Prompt, RequestResult, RequestSpec, send


@dataclass(frozen=True)
class Concurrency:
    users: int

    @property
    def label(self) -> str:
        return f"concurrency {self.users}"

    @property
    def in_flight(self) -> int:
        return self.users


@dataclass(frozen=True)
class Poisson:
    rate_per_s: float
    max_in_flight: int = 256
    seed: int = 0

    @property
    def label(self) -> str:
        return f"Poisson {self.rate_per_s:g} req/s"

    @property
    def in_flight(self) -> int:
        return self.max_in_flight


Profile = Concurrency | Poisson


@dataclass(frozen=True)
class LevelRun:
    """What one level sent: measured results in send order, the warm-up ones apart."""

    profile: Profile
    results: tuple[RequestResult, ...]
    warmup: tuple[RequestResult, ...]
    generator_cpu_s: float
    wall_s: float
    ended_by: str = ""  # the signal that cut the level short, if one did
    max_send_lag_s: float = 0.0  # Poisson: the longest a request waited for a free slot


async def _closed_loop(profile: Concurrency, total: int, sender) -> dict[int, RequestResult]:
    results: dict[int, RequestResult] = {}
    counter = iter(range(total))

    async def user() -> None:
        for index in counter:
            results[index] = await sender(index)

    await asyncio.gather(*(user() for _ in range(profile.users)))
    return results


async def _open_loop(profile: Poisson, total: int, sender, lags: list[float]) -> dict[int, RequestResult]:
    results: dict[int, RequestResult] = {}
    slots = asyncio.Semaphore(profile.max_in_flight)
    rng = random.Random(profile.seed)
    start = time.perf_counter()

    async def one(index: int, due: float) -> None:
        async with slots:
            lags.append(max(time.perf_counter() - due, 0.0))
            results[index] = await sender(index)

    tasks, due = [], start
    for index in range(total):
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
        due += rng.expovariate(profile.rate_per_s)
    await asyncio.gather(*tasks)
    return results


def run_level(
    profile: Profile,
    spec: RequestSpec,
    prompt_for: Callable[[int], Prompt],
    requests: int,
    warmup: int,
    cpu_time: Callable[[], float] = time.process_time,
) -> LevelRun:
    """Send ``warmup + requests`` requests under ``profile`` and wait for every answer (each
    request is bounded by ``spec.timeout_s``). Ctrl-C or SIGTERM ends the level early: what
    was answered is kept and ``ended_by`` names the signal."""
    total = warmup + requests
    lags: list[float] = []
    results: dict[int, RequestResult] = {}

    async def level() -> None:
        pool = Pool(spec.endpoint)
        level_start = time.perf_counter()

        async def sender(index: int) -> RequestResult:
            return await send(pool, spec, prompt_for(index), level_start)

        try:
            if isinstance(profile, Concurrency):
                results.update(await _closed_loop(profile, total, sender))
            else:
                results.update(await _open_loop(profile, total, sender, lags))
        finally:
            pool.close()

    cpu_before, wall_before = cpu_time(), time.perf_counter()
    ended_by = ""
    try:
        asyncio.run(level())
    except KeyboardInterrupt:
        ended_by = "SIGINT"
    except Interrupted as exc:
        ended_by = exc.ended_by
    measured = sorted((r for i, r in results.items() if i >= warmup), key=lambda r: r.sent_s)
    return LevelRun(
        profile,
        tuple(measured),
        tuple(results[i] for i in sorted(results) if i < warmup),
        generator_cpu_s=cpu_time() - cpu_before,
        wall_s=time.perf_counter() - wall_before,
        ended_by=ended_by,
        max_send_lag_s=max(lags, default=0.0),
    )
