"""The host's memory a new process can have now: what a language-model cell (``workloads``) and a
CPU server (``serve.memory_check``) are checked against before they load anything, from one
reading of the kernel's figure."""

from __future__ import annotations

from pathlib import Path


def available_host_bytes(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """The kernel's MemAvailable (page cache it can drop included), or None where there is no
    /proc/meminfo (macOS) or it cannot be read."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
