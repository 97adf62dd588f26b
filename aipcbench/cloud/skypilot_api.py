"""The one module that talks to SkyPilot, through its Python SDK (``pip install
'aipcbench[cloud]'``; checked against skypilot 0.14.1's signatures).

SDK calls return request ids: ``sky.get`` waits for one, ``sky.stream_and_get`` waits while
streaming its logs. Results come back with ``rsync`` over the SSH alias SkyPilot writes for
every cluster (its documented way to copy files off a cluster).
"""

from __future__ import annotations

import copy
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.errors import UserInputError
from aipcbench.units import SECONDS_PER_HOUR

WORKDIR = "~/sky_workdir"  # where SkyPilot syncs a task's workdir on the cluster


@dataclass(frozen=True)
class Provisioned:
    """The offer SkyPilot actually launched, as it reports it."""

    cloud: str
    region: str
    instance_type: str
    spot: bool
    usd_per_hour: float | None


def provisioned(handle: Any) -> Provisioned:
    resources = getattr(handle, "launched_resources", None)
    try:
        price = float(resources.get_cost(SECONDS_PER_HOUR)) if resources is not None else None
    except Exception:  # a cloud without a price in SkyPilot's catalog
        price = None
    return Provisioned(
        cloud=str(getattr(resources, "cloud", "") or ""),
        region=str(getattr(resources, "region", "") or ""),
        instance_type=str(getattr(resources, "instance_type", "") or ""),
        spot=bool(getattr(resources, "use_spot", False)),
        usd_per_hour=price,
    )


class SkyPilot:
    """launch -> wait -> fetch -> down, and what still exists."""

    def __init__(self, sky: Any, sdk: Any) -> None:
        self.sky, self.sdk = sky, sdk

    @property
    def version(self) -> str:
        return str(getattr(self.sky, "__version__", "?"))

    def enabled_clouds(self) -> list[str]:
        return [str(c).lower() for c in self.sdk.get(self.sdk.enabled_clouds())]

    def validate(self, config: dict) -> None:
        """SkyPilot's own task parser (schema and resources), offline."""
        self.sky.Task.from_yaml_config(copy.deepcopy(config))

    def launch(self, config: dict, cluster: str, idle_minutes: int) -> tuple[int | None, Provisioned]:
        task = self.sky.Task.from_yaml_config(copy.deepcopy(config))
        request = self.sky.launch(
            task, cluster_name=cluster, idle_minutes_to_autostop=idle_minutes, down=True
        )
        job_id, handle = self.sky.stream_and_get(request)
        return job_id, provisioned(handle)

    def wait(self, cluster: str, job_id: int | None) -> int:
        """Follow the job's logs to its end; its exit code."""
        return int(self.sky.tail_logs(cluster, job_id, follow=True) or 0)

    def fetch(self, cluster: str, remote_dir: str, local_dir: Path) -> list[Path]:
        local_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["rsync", "-a", f"{cluster}:{WORKDIR}/{remote_dir}/", f"{local_dir}/"],
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return sorted(local_dir.glob("*.json"))

    def down(self, cluster: str) -> None:
        self.sky.get(self.sky.down(cluster))

    def existing(self, names: list[str]) -> list[str]:
        """Which of these clusters SkyPilot still knows (any state but terminated)."""
        if not names:
            return []
        records = self.sky.get(self.sky.status(cluster_names=names))
        return [str(getattr(r, "name", None) or r["name"]) for r in records]


def load_skypilot() -> SkyPilot:
    """SkyPilot's SDK, or one line saying how to get it."""
    try:
        import sky
        from sky.client import sdk
    except ImportError:
        raise UserInputError(
            "cloud: SkyPilot is not installed: pip install 'aipcbench[cloud]', then `sky check`"
        ) from None
    return SkyPilot(sky, sdk)
