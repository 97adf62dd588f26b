"""The host's memory from the kernel's /proc/meminfo, read in one place: what a language-model
cell (``workloads``) and a CPU server (``serve.memory_check``) are checked against before they
load anything (MemAvailable), and the CPU device's size (MemTotal, ``devices.detect``)."""

from __future__ import annotations

from pathlib import Path

MEMINFO = Path("/proc/meminfo")


def meminfo_bytes(field: str, meminfo: Path = MEMINFO) -> int | None:
    """One field of /proc/meminfo in bytes, or None where there is no such file (macOS) or it
    cannot be read."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_host_bytes(meminfo: Path = MEMINFO) -> float | None:
    """The kernel's MemAvailable: what a new process can have now, page cache it can drop
    included."""
    value = meminfo_bytes("MemAvailable", meminfo)
    return float(value) if value is not None else None
