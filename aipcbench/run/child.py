"""Where a cell's process is started, watched and stopped; what it left becomes an outcome.

The parent never runs a workload: each cell runs in a process of its own, in a new session (a
fork of the fork server that has already imported torch, see ``run.forkserver``; or
``python -m aipcbench.run.worker`` under torchrun for data-parallel cells). The parent waits
with a timeout and turns whatever happened into an outcome:

- the worker wrote a record -> that record (``ok``, ``failed``, ``oom`` or ``skipped``);
- the process hung past ``--timeout``  -> ``timeout`` (its whole process tree is killed);
- it died by a signal                  -> ``killed`` (SIGKILL: often the kernel's OOM killer)
                                          or ``failed`` (SIGSEGV and friends), with the signal;
- it exited without a record           -> ``failed`` with the last line it printed.

Every process started here dies with the parent (``run.lifeline``), and the temporary folder
of a cell is removed whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.errors import Interrupted
from aipcbench.run import forkserver
from aipcbench.run.janitor import cell_folder
from aipcbench.run.lifeline import die_with_parent
from aipcbench.run.progress import Progress

POLL_S = 0.1


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc walk; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _kill_group(process: subprocess.Popen | forkserver.ForkedChild) -> None:
    """SIGKILL the child, its process group and every descendant, so nothing outlives the cell.

    torchrun starts each rank in a session of its own, so the group alone is not enough; a
    forked child may not have made its own group yet, so it is killed by pid as well.
    """
    victims = _descendants(process.pid)
    own_group = os.getpgrp()
    for kill, target in ((os.killpg, process.pid), (os.kill, process.pid)):
        try:
            if process.poll() is None:
                kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pid in victims:
        try:
            group = os.getpgid(pid)
            if group != own_group:
                os.killpg(group, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else ""


def _rank_failure(result_path: Path, log_path: Path) -> str:
    """Which data-parallel rank failed first and why.

    torchrun's "Root Cause" names the first rank to fail (the others then fail on closed
    connections); that rank's own error file, if it wrote one, says why in its own words.
    """
    errors = {}
    for error_file in result_path.parent.glob(result_path.name + ".rank*.err"):
        errors[error_file.name.rsplit(".rank", 1)[1].split(".")[0]] = error_file.read_text(errors="replace")[
            :250
        ]
    try:
        log = log_path.read_text(errors="replace")
    except OSError:
        log = ""
    root = log[log.find("Root Cause") :] if "Root Cause" in log else ""
    match = re.search(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", root, re.S)
    if match is not None:
        rank, code = match.group(1), int(match.group(2))
        if rank in errors:
            return f"rank {rank} failed: {errors[rank]}"
        if code < 0 and -code in {s.value for s in signal.Signals}:
            return f"rank {rank} failed: killed by {signal.Signals(-code).name}"
        return f"rank {rank} failed: exit code {code}"
    if errors:
        rank = sorted(errors)[0]
        return f"rank {rank} failed: {errors[rank]}"
    return ""


def _signal_outcome(returncode: int, log: Path) -> tuple[str, str]:
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGKILL:
        return "killed", "killed by SIGKILL (the kernel's out-of-memory killer does this)"
    detail = _last_line(log)
    return "failed", f"crashed with {name}" + (f": {detail}" if detail else "")


@dataclass(frozen=True)
class ChildOutcome:
    """What a worker process left: its JSON result, or why there is none."""

    result: dict[str, Any] | None
    status: str  # ok | failed | killed | timeout
    reason: str
    wall_s: float


def worker_command(spec: dict[str, Any], spec_path: Path, result_path: Path) -> list[str]:
    """``python -m aipcbench.run.worker``, or the same module under torchrun for N ranks."""
    worker = ["-m", "aipcbench.run.worker", str(spec_path), str(result_path)]
    nproc = spec.get("cell", {}).get("nproc", 0)
    if not nproc:
        return [sys.executable, *worker]
    launch = list(spec.get("torchrun_args") or ["--standalone"])
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        *launch,
        f"--nproc-per-node={nproc}",
        "--max-restarts=0",
        *worker,
    ]


def run_child(spec: dict[str, Any], timeout_s: float, progress: Progress | None = None) -> ChildOutcome:
    """Run the worker on ``spec`` in its own process session.

    Never raises for the child's faults; raises ``Interrupted`` (after killing the child's
    whole process group) if the user interrupts.
    """
    with cell_folder() as tmp:
        tmp_path = Path(tmp)
        spec_path, result_path, log_path = (tmp_path / n for n in ("spec.json", "out.json", "log"))
        spec_path.write_text(json.dumps(spec))
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = None
            if forkserver.available() and not spec.get("cell", {}).get("nproc"):
                process = forkserver.start([str(spec_path), str(result_path)], log_path)
            if process is None:
                process = subprocess.Popen(
                    worker_command(spec, spec_path, result_path),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=die_with_parent,  # torchrun too; its ranks die with it
                )
            try:
                while process.poll() is None:
                    if time.monotonic() - started > timeout_s:
                        _kill_group(process)
                        return ChildOutcome(
                            None,
                            "timeout",
                            f"no result within --timeout {timeout_s:g} s",
                            time.monotonic() - started,
                        )
                    if progress is not None:
                        progress.tick()
                    time.sleep(POLL_S)
            except KeyboardInterrupt:
                _kill_group(process)
                raise Interrupted("interrupted") from None
            finally:
                _kill_group(process)  # grandchildren of a finished worker, if any
        wall = time.monotonic() - started
        if result_path.exists():
            try:
                return ChildOutcome(json.loads(result_path.read_text()), "ok", "", wall)
            except ValueError:
                pass
        rank_failure = _rank_failure(result_path, log_path)
        if rank_failure:
            return ChildOutcome(None, "failed", rank_failure, wall)
        if process.returncode < 0:
            status, reason = _signal_outcome(process.returncode, log_path)
            return ChildOutcome(None, status, reason, wall)
        detail = _last_line(log_path) or "no output"
        return ChildOutcome(None, "failed", f"worker exited with code {process.returncode}: {detail}", wall)
