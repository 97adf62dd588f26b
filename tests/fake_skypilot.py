"""A fake of SkyPilot's Python SDK (the calls aipcbench makes, with skypilot 0.14.1's
signatures) that the tests control: clusters come and go, failures and interrupts happen where
a test asks, and a fake ``rsync`` copies the 'remote' results from a folder."""

from __future__ import annotations

import os
import stat
import time
import types
from pathlib import Path


class FakeResources:
    def __init__(self, price: float) -> None:
        self.cloud, self.region, self.instance_type, self.use_spot = "AWS", "us-east-1", "p5.4xlarge", False
        self.price = price

    def get_cost(self, seconds: float) -> float:
        return self.price * seconds / 3600


class FakeSky:
    """Module-like: ``sky`` and ``sky.client.sdk`` at once."""

    __version__ = "0.14.1-fake"

    def __init__(
        self,
        remote: Path,
        *,
        fail_at: str = "",
        exit_code: int = 0,
        price: float = 4.0,
        wait_s: float = 0.0,
        enabled: tuple[str, ...] = ("aws",),
    ) -> None:
        self.remote, self.fail_at, self.exit_code, self.price = remote, fail_at, exit_code, price
        self.wait_s, self.enabled = wait_s, enabled
        self.clusters: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.down_failures = 1 if fail_at == "down-once" else 0
        self.Task = types.SimpleNamespace(from_yaml_config=self._task)

    # -- the SDK -------------------------------------------------------------------------
    def _task(self, config):
        assert "resources" in config and "run" in config
        return ("task", config)

    def get(self, request):
        kind, value = request
        if isinstance(value, Exception):
            raise value
        return value

    def stream_and_get(self, request):
        return self.get(request)

    def enabled_clouds(self):
        return ("enabled", list(self.enabled))

    def launch(self, task, cluster_name=None, idle_minutes_to_autostop=None, down=False, **kwargs):
        self.calls.append(("launch", cluster_name))
        assert idle_minutes_to_autostop and down, "the second net: autodown must be asked for"
        self.clusters[cluster_name] = "UP"
        if self.fail_at == "launch":  # provisioning or set-up failed: the cluster may exist
            return ("launch", RuntimeError("ResourcesUnavailableError: setup failed"))
        return ("launch", (1, types.SimpleNamespace(launched_resources=FakeResources(self.price))))

    def tail_logs(self, cluster_name, job_id, follow, tail=0, output_stream=None):
        self.calls.append(("wait", cluster_name))
        if self.wait_s:
            time.sleep(self.wait_s)
        if self.fail_at == "wait":
            raise ConnectionError("lost connection to the API server")
        if self.fail_at == "sigint":
            raise KeyboardInterrupt
        if self.fail_at == "sigterm":
            from aipcbench.errors import Interrupted

            raise Interrupted("interrupted", "SIGTERM")
        return self.exit_code

    def down(self, cluster_name, purge=False):
        self.calls.append(("down", cluster_name))
        if self.down_failures:
            self.down_failures -= 1
            return ("down", ConnectionError("transient"))
        self.clusters.pop(cluster_name, None)
        return ("down", None)

    def status(self, cluster_names=None, refresh=None, all_users=False):
        names = [n for n in (cluster_names or self.clusters) if n in self.clusters]
        return ("status", [types.SimpleNamespace(name=n) for n in names])


def fake_rsync(bin_dir: Path, remote: Path, fail: bool = False) -> str:
    """An ``rsync`` on PATH that copies REMOTE/<remote dir>/ into the destination."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "rsync"
    body = "exit 23" if fail else f'src="${{2#*sky_workdir/}}"; mkdir -p "$3"; cp -r "{remote}/$src". "$3"'
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{bin_dir}:{os.environ['PATH']}"  # the PATH to set
