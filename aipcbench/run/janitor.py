"""Temporary cell folders that never outlive the run, however it ends.

Each cell gets a folder (its spec, its record, its log) under one folder per ``aipcbench``
process. A tiny watchdog process (no torch: a few milliseconds to start) holds the read end of
a pipe whose write end only that process holds; when the process exits, normally or by SIGKILL,
the pipe closes and the watchdog removes the folder. A cell's own folder is removed as soon as
the cell is recorded.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Runs in the watchdog: wait for end-of-file on stdin (the run is gone), then remove the folder.
WATCHDOG = "import shutil, sys\nsys.stdin.buffer.read()\nshutil.rmtree(sys.argv[1], ignore_errors=True)\n"

_root: Path | None = None
_watchdog: subprocess.Popen | None = None


def run_folder() -> Path:
    """This process's folder for cell folders, created (with its watchdog) on first use."""
    global _root, _watchdog
    if _root is None or not _root.is_dir():
        _root = Path(tempfile.mkdtemp(prefix=f"aipcbench-run-{os.getpid()}-"))
        try:
            _watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", WATCHDOG, str(_root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C or a killed process group does not stop it early
            )
        except OSError:
            _watchdog = None  # then only the normal exit below cleans up
        atexit.register(_clean_up)
    return _root


def _clean_up() -> None:
    if _watchdog is not None and _watchdog.stdin is not None:
        _watchdog.stdin.close()  # the watchdog removes the folder and exits
    elif _root is not None:
        shutil.rmtree(_root, ignore_errors=True)


def cell_folder() -> tempfile.TemporaryDirectory:
    """A folder for one cell, removed when the cell is recorded (``with cell_folder() as tmp``)."""
    return tempfile.TemporaryDirectory(prefix="cell-", dir=run_folder())
