"""The SkyPilot task for one request: the user's checkout as the workdir, the README's set-up,
the suite under a hard time limit, SkyPilot's autodown as the second net, and a price cap.

``aipcbench cloud task`` writes it as YAML for users who launch it themselves; ``cloud run``
hands the same dictionary to SkyPilot's Python API.
"""

from __future__ import annotations

import yaml

from aipcbench.cloud.budget import AUTOSTOP_IDLE_MIN, Budget

REMOTE_RESULTS = "results/cloud-remote"  # on the cluster, under the synced workdir


def run_command(suite: str, limit_s: float) -> str:
    """The suite, killed (SIGINT first: finished cells are kept) at the time limit."""
    return (
        f"timeout --signal=INT --kill-after=60 {int(limit_s)} "
        f".venv/bin/aipcbench run --{suite} --devices cuda:0 --results-dir {REMOTE_RESULTS} --no-report"
    )


def task_config(budget: Budget, suite: str, spot: bool, clouds: tuple[str, ...]) -> dict:
    """A task dictionary in SkyPilot's schema (tested against it)."""
    resources: dict = {
        "accelerators": budget.request.label,
        "use_spot": spot,
        "max_hourly_cost": round(budget.usd_per_hour_cap, 4),
        "autostop": {"idle_minutes": AUTOSTOP_IDLE_MIN, "down": True},
    }
    if len(clouds) == 1:
        resources["infra"] = clouds[0]
    elif clouds:
        resources = {**resources, "any_of": [{"infra": cloud} for cloud in clouds]}
    return {
        "name": f"aipcbench-{budget.request.skypilot_name.lower()}-{budget.request.count}",
        "workdir": ".",
        "resources": resources,
        # The README's set-up: .venv, a CUDA torch when the image has one, aipcbench itself
        "setup": "bash -c 'source scripts/setup-env.sh'",
        "run": run_command(suite, budget.time_limit_s),
    }


def task_yaml(config: dict) -> str:
    header = (
        "# aipcbench cloud task: launch with `sky launch -c NAME THIS.yaml --down`, then copy\n"
        f"# ~/sky_workdir/{REMOTE_RESULTS}/*.json back into results/cloud/ and run aipcbench cost.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False)
