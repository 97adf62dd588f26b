"""What a server's process group uses, read from /proc: its members, their memory and CPU time.

A server is started as the leader of a process group of its own, and engines start helpers
(transformers serve's model process and resource tracker, vLLM's engine core), so every figure
is summed over the group, not read from the leader alone. Linux only; elsewhere the figures are
None and the record says so. ``root`` is injectable so the tests can give a fake /proc.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(text: str) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    return text[text.rfind(")") + 2 :].split()


def group_members(pgid: int, root: Path = PROC) -> list[int]:
    """PIDs of the live processes in process group ``pgid`` (zombies excluded)."""
    members = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields((entry / "stat").read_text())
        except (OSError, ValueError):
            continue  # the process ended while we looked
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            members.append(int(entry.name))
    return sorted(members)


def group_rss_bytes(pgid: int, root: Path = PROC) -> int | None:
    """Resident memory summed over the group (shared pages counted in each process, as ``ps``
    does: an upper bound when processes share memory)."""
    if not root.is_dir():
        return None
    total = 0
    for pid in group_members(pgid, root):
        try:
            resident_pages = int((root / str(pid) / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        total += resident_pages * PAGE_BYTES
    return total


def group_cpu_s(pgid: int, root: Path = PROC) -> float:
    """User + system CPU seconds of the group's live processes."""
    ticks = 0
    for pid in group_members(pgid, root):
        try:
            fields = _stat_fields((root / str(pid) / "stat").read_text())
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return ticks / TICKS_PER_S


class PeakSampler:
    """Samples a group's RSS in a thread while a level runs; ``stop`` returns the peak."""

    def __init__(self, pgid: int, interval_s: float = 0.25, root: Path = PROC):
        self.pgid, self.interval_s, self.root = pgid, interval_s, root
        self.peak: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        rss = group_rss_bytes(self.pgid, self.root)
        if rss is not None and (self.peak is None or rss > self.peak):
            self.peak = rss

    def _run(self) -> None:
        while not self._done.wait(self.interval_s):
            self._sample()

    def start(self) -> PeakSampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> int | None:
        self._done.set()
        self._thread.join(timeout=5)
        self._sample()
        return self.peak
