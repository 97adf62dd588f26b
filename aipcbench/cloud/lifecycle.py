"""One cluster's life: launch -> wait -> fetch -> down, with down on every path.

``down`` runs in a ``finally``: after success, a failed set-up or run, a lost connection,
Ctrl-C, SIGTERM or the time limit (SIGALRM), with interrupts held off while it runs and three
attempts. What was fetched is brought home whatever happens after the fetch.
"""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from aipcbench.cloud import results as cloud_results
from aipcbench.cloud.budget import AUTOSTOP_IDLE_MIN, Budget
from aipcbench.cloud.skypilot_api import SkyPilot
from aipcbench.cloud.task import REMOTE_RESULTS, task_config
from aipcbench.config import CloudConfig
from aipcbench.errors import AipcbenchError, Interrupted, exception_line
from aipcbench.report.formatters import duration, safe_text
from aipcbench.units import SECONDS_PER_HOUR

DOWN_ATTEMPTS = 3


def say(message: str) -> None:
    print(f"aipcbench: {safe_text(message)}", file=sys.stderr, flush=True)


@contextmanager
def interrupts_held():
    """Teardown must finish: Ctrl-C, SIGTERM and SIGHUP wait until it has."""
    names = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in names}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deadline(seconds: float):
    """The hard time limit: SIGALRM stops the launch or the wait, and teardown follows."""

    def expired(signum, frame):
        raise Interrupted(f"time limit of {duration(seconds)} reached", "time-limit")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def tear_down(api: SkyPilot, cluster: str) -> bool:
    with interrupts_held():
        for attempt in range(1, DOWN_ATTEMPTS + 1):
            try:
                api.down(cluster)
                say(f"{cluster}: torn down")
                return True
            except Exception as exc:
                say(f"{cluster}: teardown attempt {attempt} failed: {exception_line(exc)}")
                time.sleep(min(2**attempt, 10) if attempt < DOWN_ATTEMPTS else 0)
    return False


def measure_one(
    api: SkyPilot, plan: Budget, config: CloudConfig, cluster: str, clock=time.monotonic
) -> tuple[list[Path], float]:
    """One request, launch to down; the results files brought home and what it cost at most
    (the provisioned price x launch-to-down time; the budgeted cap when no price came back)."""
    task = task_config(plan, config.suite, config.spot, config.clouds)
    started = clock()
    timings: dict[str, float] = {"launched_at_unix_s": time.time()}
    offer, fetched, brought = None, [], []
    staging = config.results_dir / "cloud" / f".incoming-{cluster}"
    try:
        with deadline(plan.time_limit_s):
            say(f"{plan.request.label}: launching {cluster} (provisioning and set-up take minutes)")
            job_id, offer = api.launch(task, cluster, AUTOSTOP_IDLE_MIN)
            timings["provision_and_setup_s"] = clock() - started
            say(f"{plan.request.label}: {offer.cloud} {offer.instance_type} ({offer.region}): running")
            exit_code = api.wait(cluster, job_id)
            timings["suite_s"] = clock() - started - timings["provision_and_setup_s"]
            if exit_code not in (0, 1):  # 1: some cells failed, the results are still complete
                say(f"{plan.request.label}: the suite exited {exit_code}; fetching what it wrote")
            fetched = api.fetch(cluster, REMOTE_RESULTS, staging)
    finally:
        down = tear_down(api, cluster)
        timings["billed_s_upper_bound"] = clock() - started
        for path in fetched:  # what was fetched is kept whatever happened after
            facts = cloud_results.cloud_facts(plan.request.label, cluster, offer, timings, api.version)
            facts["torn_down"] = down
            try:
                brought.append(cloud_results.bring_home(path, config.results_dir / "cloud", facts))
                path.unlink(missing_ok=True)
            except (AipcbenchError, OSError) as exc:  # left where it is, said, never lost
                say(f"{plan.request.label}: {path} kept as fetched: {exception_line(exc)}")
        if staging.is_dir():
            if any(staging.iterdir()):
                say(f"{plan.request.label}: files fetched but not brought home stay in {staging}")
            else:
                staging.rmdir()
    if not fetched:
        say(f"{plan.request.label}: no results file came back")
    price = offer.usd_per_hour if offer and offer.usd_per_hour else plan.usd_per_hour_cap
    return brought, price * timings["billed_s_upper_bound"] / SECONDS_PER_HOUR
