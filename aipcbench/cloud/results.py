"""A cloud run's results file, brought home: what was provisioned and what it took, stamped
into the results document's ``environment.cloud`` and written atomically to results/cloud/.

The results themselves are untouched: their GPU's name makes ``cost``, the report and the
estimator's calibration count them as *measured* for that accelerator, like any results file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aipcbench.cloud.skypilot_api import Provisioned
from aipcbench.errors import DataError
from aipcbench.files import MAX_RESULTS_BYTES, UnreadableFile, read_text
from aipcbench.results.atomic import write_text_atomic


def cloud_facts(
    request: str, cluster: str, offer: Provisioned | None, timings: dict[str, float], skypilot: str
) -> dict[str, Any]:
    return {
        "request": request,
        "cluster": cluster,
        **(asdict(offer) if offer else {}),
        **timings,
        "launched_with": f"aipcbench cloud run (skypilot {skypilot})",
    }


def launch_to_suite_start_s(environment: dict[str, Any], launched_at: float | None) -> float | None:
    """Seconds from the launch request (this machine's clock) to the suite's start (the
    cluster's clock, ``environment.started_at``): provisioning, set-up and start-up; the first
    step follows after the first cell's own set-up. Clock skew between the two (NTP: well under
    a second) is in it."""
    started = environment.get("started_at")
    if launched_at is None or not isinstance(started, str):
        return None
    try:
        seconds = dt.datetime.fromisoformat(started).timestamp() - launched_at
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def bring_home(fetched: Path, destination_dir: Path, facts: dict[str, Any]) -> Path:
    """Copy one fetched results file to ``destination_dir`` with ``environment.cloud`` set."""
    try:
        data = json.loads(read_text(fetched, MAX_RESULTS_BYTES))
    except (UnreadableFile, ValueError) as exc:
        raise DataError(f"{fetched}: fetched results unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{fetched}: fetched results are not a results document")
    environment = data.get("environment") if isinstance(data.get("environment"), dict) else {}
    start = launch_to_suite_start_s(environment, facts.get("launched_at_unix_s"))
    data["environment"] = {**environment, "cloud": {**facts, "launch_to_suite_start_s": start}}
    destination_dir.mkdir(parents=True, exist_ok=True)
    target = destination_dir / fetched.name
    write_text_atomic(target, json.dumps(data, indent=1))
    return target
