"""Cells start as forks of a server that has already imported torch.

Why: a fresh Python process spends about 1.5 s importing torch, 1 s more importing
torch._dynamo (every optimizer's constructor does) and up to 2.5 s importing transformers'
GPT-2 before a cell does any work; in the quick suite that was a third of the wall time.
multiprocessing's fork server imports those once (``aipcbench.run.preload``), then forks one
child per cell. The child is still a process of its own: its own session, killed with its
whole tree on a timeout, and a crash or an OOM kill costs that cell only.

The server was started with the environment and working directory of the moment it started;
each child takes the caller's current ones instead. Data-parallel cells still start under
torchrun (``aipcbench.run.child``). ``AIPCBENCH_NO_FORKSERVER=1`` falls back to one fresh
``python -m aipcbench.run.worker`` per cell.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

from aipcbench.run.lifeline import die_with_parent

_context = None
_failed = False  # the server could not start here (no AF_UNIX sockets, say): don't retry per cell


def available() -> bool:
    return (
        not _failed
        and "forkserver" in multiprocessing.get_all_start_methods()
        and not os.environ.get("AIPCBENCH_NO_FORKSERVER")
    )


def _server():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["aipcbench.run.preload"])
    return _context


def _ensure_server() -> bool:
    """Start the server if it is not running, with SIGINT ignored from its first instruction:
    a Ctrl-C during its imports (torch, transformers) must not print a traceback from it, and
    a cell forked from it must not die of a Ctrl-C in the instant before it leaves the
    terminal's process group. The parent alone handles Ctrl-C, and stops the cells itself."""
    global _failed
    from multiprocessing import forkserver as mp_forkserver

    _server()
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        mp_forkserver.ensure_running()
    except (OSError, EOFError, RuntimeError):
        _failed = True
        return False
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return True


def start_early() -> None:
    """Start the server (and its imports) now, in parallel with the caller's own start-up,
    instead of at the first cell."""
    if available():
        _ensure_server()


class ForkedChild:
    """The part of ``subprocess.Popen``'s interface the runner uses, for a forked process."""

    def __init__(self, process) -> None:
        self._process = process
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:  # negative: killed by that signal, as with Popen
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("aipcbench cell", timeout or 0)
        return self._process.exitcode


def start(argv: list[str], log_path: Path) -> ForkedChild | None:
    """Fork a child that runs ``aipcbench.run.worker.main(argv)``, its output going to ``log_path``;
    None if the server cannot be reached (the caller then starts a fresh interpreter)."""
    global _failed
    if not _ensure_server():
        return None
    process = _server().Process(
        target=_child_main, args=(argv, str(log_path), dict(os.environ), os.getcwd()), name="aipcbench-cell"
    )
    try:
        process.start()
    except (OSError, EOFError, RuntimeError):
        _failed = True
        return None
    return ForkedChild(process)


def _release_server() -> None:
    """Close this child's copy of the pipe that keeps the server alive.

    multiprocessing hands every forked child the write end of the server's "alive" pipe (so a
    child could start processes of its own through the same server). A cell never does, and
    while it holds that end the server cannot see its owner die: killed with SIGKILL, the
    ``aipcbench`` process would leave the server, and so the cell, running."""
    from multiprocessing import forkserver as mp_forkserver

    fd = getattr(mp_forkserver._forkserver, "_forkserver_alive_fd", None)
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
        mp_forkserver._forkserver._forkserver_alive_fd = None


def _child_main(argv: list[str], log_path: str, environ: dict[str, str], cwd: str) -> None:
    _release_server()
    die_with_parent()  # the server; it exits as soon as the aipcbench process that owns it is gone
    os.setsid()  # its own session: the runner kills the group; a terminal's Ctrl-C does not reach it
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    try:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:  # the cell's folder is gone: the parent gave up on this cell before it began
        os._exit(1)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    from aipcbench.run import worker

    code = worker.main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
