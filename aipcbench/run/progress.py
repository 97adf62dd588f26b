"""Progress on stderr: the current cell, its elapsed time and an ETA for the suite.

On a terminal the line is redrawn in place; elsewhere (CI logs, pipes) one line is printed per
cell start and finish, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, clock=time.monotonic):
        self.total = total
        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.current = ""
        self.cell_started = self.started
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()

    def eta_s(self) -> float | None:
        """Mean time of finished cells times the cells left (None before the first finishes)."""
        if self.done == 0:
            return None
        per_cell = (self.cell_started - self.started) / self.done
        return per_cell * (self.total - self.done) - (self.clock() - self.cell_started)

    def _line(self) -> str:
        eta = self.eta_s()
        eta_text = f"ETA {format_duration(eta)}" if eta is not None else "ETA --:--"
        bar_width = 20
        filled = int(bar_width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (bar_width - filled)
        elapsed = format_duration(self.clock() - self.cell_started)
        return f"[{bar}] {self.done + 1}/{self.total} {self.current} {elapsed} {eta_text}"

    def start(self, label: str) -> None:
        self.current = label
        self.cell_started = self.clock()
        if not self.interactive:
            print(f"[{self.done + 1}/{self.total}] {label} ...", file=self.stream, flush=True)
        self.tick()

    def tick(self) -> None:
        if self.interactive:
            print("\r\033[K" + self._line(), end="", file=self.stream, flush=True)

    def finish(self, status: str, detail: str = "") -> None:
        took = format_duration(self.clock() - self.cell_started)
        self.done += 1
        self.cell_started = self.clock()
        prefix = "\r\033[K" if self.interactive else ""
        text = f"{prefix}[{self.done}/{self.total}] {self.current}: {status} in {took}"
        print(text + (f" ({detail})" if detail else ""), file=self.stream, flush=True)
