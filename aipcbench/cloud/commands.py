"""``aipcbench cloud run|task|estimate``: measured runs on rented GPUs that never outlive the
command that started them.

Per request, one cluster (``lifecycle``): SkyPilot provisions it, syncs this checkout and
runs the README's set-up, the suite runs, its results file comes back, and the cluster is torn
down on every path. SkyPilot's autodown is the second net; the last line lists every cluster
aipcbench started that SkyPilot still knows. ``--max-usd`` caps the whole command: each
request is bounded by what the earlier ones left.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from aipcbench.catalog import load_catalog
from aipcbench.cloud.accelerators import parse_requests
from aipcbench.cloud.budget import AUTOSTOP_IDLE_MIN, Budget, plan_budget
from aipcbench.cloud.lifecycle import measure_one, say
from aipcbench.cloud.skypilot_api import SkyPilot, load_skypilot
from aipcbench.cloud.task import task_config, task_yaml
from aipcbench.config import CloudConfig
from aipcbench.errors import AipcbenchError, Interrupted, StorageError, UserInputError, exception_line
from aipcbench.files import check_output_path
from aipcbench.report.formatters import duration, safe_text, usd
from aipcbench.results.atomic import write_text_atomic


def budgets(config: CloudConfig) -> list[Budget]:
    """Every request's bounds at an equal share of ``--max-usd`` (the whole command's cap)."""
    catalog = load_catalog(config.catalog_files)
    requests = parse_requests(config.accelerators, catalog)
    share = config.max_usd / len(requests)
    return [plan_budget(r, catalog, config.suite, config.spot, share, config.clouds) for r in requests]


def estimate_lines(plans: list[Budget], config: CloudConfig) -> list[str]:
    kind = "spot" if config.spot else "on-demand"
    lines = []
    for plan in plans:
        lines.append(
            f"{plan.request.label}: {len(plan.offers)} catalog offers, {usd(plan.usd_per_hour_low)}-"
            f"{usd(plan.usd_per_hour_cap)}/h {kind}; time limit {duration(plan.time_limit_s)} "
            f"+ {AUTOSTOP_IDLE_MIN} min autodown; at most {usd(plan.at_most_usd)}"
        )
    total = sum(p.at_most_usd for p in plans)
    lines.append(f"at most {usd(total)} in all (--max-usd {config.max_usd:g} for the whole command)")
    return lines


def estimate_command(config: CloudConfig) -> int:
    print("\n".join(safe_text(line) for line in estimate_lines(budgets(config), config)))
    return 0


def task_command(config: CloudConfig) -> int:
    plans = budgets(config)
    for plan in plans:
        text = task_yaml(task_config(plan, config.suite, config.spot, config.clouds))
        if config.out is None:
            print(text)
            continue
        out = (
            config.out
            if len(plans) == 1
            else config.out.with_name(f"{plan.request.skypilot_name}-{config.out.name}")
        )
        try:
            write_text_atomic(check_output_path(out, "--out", config.catalog_files), text)
        except OSError as exc:
            raise StorageError(f"cannot write the task '{out}': {exc.strerror or exc}") from None
        say(f"task for {plan.request.label} written to {out}")
    return 0


def confirmed(plans: list[Budget], config: CloudConfig, ask: Callable[[str], str]) -> bool:
    if config.yes:
        return True
    if not sys.stdin.isatty():
        raise UserInputError("cloud run: not a terminal to confirm in; pass --yes to launch")
    total = sum(p.at_most_usd for p in plans)
    try:
        answer = ask(f"Launch {len(plans)} cluster(s), at most {usd(total)} in all? [y/N] ")
    except EOFError:  # Ctrl-D: no
        return False
    return answer.strip().lower() in ("y", "yes")


def run_command(
    config: CloudConfig, connect: Callable[[], SkyPilot] | None = None, ask: Callable[[str], str] = input
) -> int:
    if not Path("scripts/setup-env.sh").is_file():
        raise UserInputError(
            "cloud run: run it from the aipcbench checkout (the task syncs the current folder and runs "
            "its scripts/setup-env.sh, not found here)"
        )
    catalog = load_catalog(config.catalog_files)
    plans = budgets(config)  # every request checked, and affordable at an equal share
    for line in estimate_lines(plans, config):
        say(line)
    api = (connect or load_skypilot)()
    if not api.enabled_clouds():
        raise UserInputError("cloud run: SkyPilot has no cloud enabled: run `sky check` and set one up")
    if not confirmed(plans, config, ask):
        say("nothing launched")
        return 0
    started: list[str] = []
    failures, remaining = 0, config.max_usd
    try:
        for index, request in enumerate(plan.request for plan in plans):
            try:  # what is left of the budget, shared among the requests not yet run
                share = remaining / (len(plans) - index)
                plan = plan_budget(request, catalog, config.suite, config.spot, share, config.clouds)
            except UserInputError as exc:
                failures += 1
                say(f"{request.label}: not launched: {exc}")
                continue
            cluster = f"aipcbench-{request.skypilot_name.lower()}-{uuid.uuid4().hex[:6]}"
            started.append(cluster)
            try:
                brought, spent = measure_one(api, plan, config, cluster)
                remaining -= spent
                for path in brought:
                    say(f"{request.label}: results in {path} (at most {usd(spent)} spent)")
            except Interrupted as exc:
                if exc.ended_by != "time-limit":
                    raise
                failures += 1
                remaining -= plan.at_most_usd
                say(f"{request.label}: {exc}")
            except AipcbenchError:
                raise
            except Exception as exc:  # SkyPilot's own errors: this request failed, the next goes on
                failures += 1
                remaining -= plan.at_most_usd
                say(f"{request.label}: failed: {exception_line(exc)}")
    finally:
        left = _still_there(api, started)
        say(
            f"clusters aipcbench started that still exist: {', '.join(left)} (sky down {' '.join(left)})"
            if left
            else f"no cluster left running ({len(started)} started, all torn down; checked with sky status)"
        )
    return 1 if failures else 0


def _still_there(api: SkyPilot, names: list[str]) -> list[str]:
    try:
        return api.existing(names)
    except Exception as exc:
        say(f"could not ask SkyPilot which clusters exist: {exception_line(exc)}")
        return list(names)
