"""What a result was measured on: enough to tell two machines, or two software stacks, apart."""

from __future__ import annotations

import datetime as dt
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aipcbench
from aipcbench.devices.detect import Inventory


def _git_state(repo: Path) -> dict[str, Any]:
    """Commit and dirty flag of the checkout aipcbench runs from, if it is one."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        return {"commit": commit, "dirty": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _torch_versions() -> dict[str, Any]:
    try:
        import torch
    except Exception:
        return {"torch": None, "cuda": None, "cudnn": None}
    cudnn = None
    try:
        if torch.backends.cudnn.is_available():
            cudnn = torch.backends.cudnn.version()
    except Exception:
        cudnn = None
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": cudnn,
        "threads": torch.get_num_threads(),
    }


def capture_environment(inventory: Inventory, argv: list[str]) -> dict[str, Any]:
    """A plain-dict description of host, devices and software, stored once per results file."""
    return {
        "host": socket.gethostname(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "aipcbench": aipcbench.__version__,
        "git": _git_state(Path(__file__).resolve().parent.parent),
        "versions": _torch_versions(),
        "devices": [device.to_dict() for device in inventory.devices],
        "detection_notes": list(inventory.notes),
        "command": argv,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
