"""Runs the cells of a suite, each in its own child process, and records every outcome.

The parent never imports a workload: it starts ``python -m aipcbench.worker`` in a new process
session per cell, waits with a timeout, and turns whatever happened into a record:

- the worker wrote a record -> that record (``ok``, ``failed``, ``oom`` or ``skipped``);
- the process hung past ``--timeout``  -> ``timeout`` (its whole process group is killed);
- it died by a signal                  -> ``killed`` (SIGKILL: often the kernel's OOM killer)
                                          or ``failed`` (SIGSEGV and friends), with the signal;
- it exited without a record           -> ``failed`` with the last line it printed.

The results file is rewritten after every cell, so an interrupt keeps what finished.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aipcbench.config import Cell, RunConfig
from aipcbench.errors import Interrupted
from aipcbench.progress import Progress
from aipcbench.results import ResultsWriter

POLL_S = 0.1


def plan_cells(config: RunConfig, sizes_of: dict[str, tuple[str, ...]]) -> list[Cell]:
    """devices x workloads (x sizes) x dtypes, in that nesting order."""
    cells = []
    for device in config.devices:
        for name, size in config.workloads:
            for chosen in (size,) if size else sizes_of[name]:
                for dtype in config.dtypes:
                    cells.append(Cell(name, chosen, device, dtype, config.compile))
    return cells


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group, so no grandchild outlives the cell."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
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


def _signal_record(base: dict[str, Any], returncode: int, log: Path) -> dict[str, Any]:
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGKILL:
        return {
            **base,
            "status": "killed",
            "reason": "killed by SIGKILL (the kernel's out-of-memory killer does this)",
        }
    detail = _last_line(log)
    return {**base, "status": "failed", "reason": f"crashed with {name}" + (f": {detail}" if detail else "")}


def run_cell(cell: Cell, config: RunConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Measure one cell in a child process; always returns a record, never raises on its faults.

    Raises ``Interrupted`` (after killing the child) if the user interrupts.
    """
    base = {**cell.identity(), "status": "failed", "reason": ""}
    with tempfile.TemporaryDirectory(prefix="aipcbench-cell-") as tmp:
        tmp_path = Path(tmp)
        spec_path, record_path, log_path = (tmp_path / n for n in ("spec.json", "record.json", "log"))
        spec_path.write_text(
            json.dumps(
                {
                    "cell": asdict(cell),
                    "policy": asdict(config.policy),
                    "quick": config.quick,
                    "data_dir": str(config.data_dir) if config.data_dir else None,
                    "plugins": list(config.plugins),
                    "seed": config.seed,
                    "options": config.options,
                }
            )
        )
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "aipcbench.worker", str(spec_path), str(record_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                while process.poll() is None:
                    if time.monotonic() - started > config.timeout_s:
                        _kill_group(process)
                        return {
                            **base,
                            "status": "timeout",
                            "wall_s": time.monotonic() - started,
                            "reason": f"no result within --timeout {config.timeout_s:g} s",
                        }
                    if progress is not None:
                        progress.tick()
                    time.sleep(POLL_S)
            except KeyboardInterrupt:
                _kill_group(process)
                raise Interrupted("interrupted") from None
            finally:
                _kill_group(process)  # grandchildren of a finished worker, if any
        if record_path.exists():
            try:
                return json.loads(record_path.read_text())
            except ValueError:
                pass
        base["wall_s"] = time.monotonic() - started
        if process.returncode < 0:
            return _signal_record(base, process.returncode, log_path)
        detail = _last_line(log_path) or "no output"
        return {**base, "reason": f"worker exited with code {process.returncode}: {detail}"}


def run_suite(
    cells: Iterable[Cell], config: RunConfig, writer: ResultsWriter, progress: Progress
) -> list[dict[str, Any]]:
    """Run every cell in order, adding each record to the results file as soon as it exists."""
    records = []
    for cell in cells:
        progress.start(cell.label)
        record = run_cell(cell, config, progress)
        writer.add(record)
        records.append(record)
        progress.finish(record["status"], record.get("reason", ""))
    return records
