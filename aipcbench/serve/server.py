"""One server process: started on a free port, polled until ready, and ended with its whole
process group on every exit path.

- Start: the command runs as the leader of a new session (a terminal's Ctrl-C reaches only
  aipcbench, which then stops the server itself), its output going to a log file kept beside
  the results.
- Ready: ``GET <health path>`` answering 200, polled until a deadline; a server that exits first
  fails at once with the last lines of its log, one that never answers fails at the deadline.
- Stop: SIGTERM to the group, a grace period, SIGKILL to whatever of the group is left.
- A killed aipcbench (SIGKILL, a closed SSH session) cannot run its ``finally``: a watchdog
  process without imports holds a pipe from aipcbench and kills the group when the pipe closes
  without the word that the server was already stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aipcbench.serve.http import Connection, Endpoint, HttpError
from aipcbench.serve.procfs import group_members

WATCHDOG = (
    "import os, signal, sys\n"
    "said = sys.stdin.buffer.read()\n"
    "if said != b'stopped':\n"
    "    try:\n"
    "        os.killpg(int(sys.argv[1]), signal.SIGKILL)\n"
    "    except OSError:\n"
    "        pass\n"
)
LOG_TAIL_LINES = 3


class ServerError(Exception):
    """The server could not be started or did not become ready; ``str`` is one line."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the server may still lose a race for it: then it exits
    and the error names the port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - 8192))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-400:]


@dataclass
class ServerProcess:
    command: tuple[str, ...]
    port: int
    log_path: Path
    health_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None
    watchdog: subprocess.Popen | None = None
    ready_after_s: float | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("http", self.host, self.port, "/v1")

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            try:
                self.process = subprocess.Popen(
                    self.command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env={**os.environ, **self.env},
                )
            except OSError as exc:
                raise ServerError(f"cannot start {self.command[0]}: {exc.strerror or exc}") from None
        try:
            self.watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", WATCHDOG, str(self.process.pid)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            self.watchdog = None  # then only the normal stop below ends the server
        return self

    def wait_ready(self, deadline_s: float, poll_s: float = 0.25) -> float:
        """Seconds from start to ready; ServerError if it exits or the deadline passes."""
        started = time.monotonic()
        while True:
            code = self.process.poll() if self.process else 1
            if code is not None:
                tail = log_tail(self.log_path)
                raise ServerError(
                    f"{Path(self.command[0]).name} exited with code {code} before it was ready"
                    + (f": {tail}" if tail else "")
                    + f" (log: {self.log_path})"
                )
            if health_ok(self.endpoint, self.health_path):
                self.ready_after_s = time.monotonic() - started
                return self.ready_after_s
            if time.monotonic() - started > deadline_s:
                raise ServerError(
                    f"{Path(self.command[0]).name} was not ready after {deadline_s:g} s "
                    f"(GET {self.health_path} on port {self.port}; log: {self.log_path})"
                )
            time.sleep(poll_s)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        """End the whole group: SIGTERM, then SIGKILL after ``grace_s``. Safe to call twice."""
        if self.process is None:
            return
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except OSError:
            pass
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + grace_s
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)  # helpers (an engine's model process) finishing their own exit
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.watchdog is not None and self.watchdog.stdin is not None:
            try:
                self.watchdog.stdin.write(b"stopped")
                self.watchdog.stdin.close()
                self.watchdog.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.watchdog = None


def health_ok(endpoint: Endpoint, path: str, timeout_s: float = 2.0) -> bool:
    """True when GET ``path`` answers 200 (a redirect is not followed and is not ready)."""

    async def probe() -> bool:
        connection = await Connection.open(endpoint, timeout_s)
        try:
            response = await connection.send("GET", path, {"Connection": "close"}, b"", timeout_s)
            return response.status == 200
        finally:
            connection.close()

    try:
        return asyncio.run(probe())
    except HttpError:
        return False
