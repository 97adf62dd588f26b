"""Shared fixtures: a CLI runner in-process, and the environment the child workers inherit."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent
DATA = TESTS_DIR / "data"


@pytest.fixture
def plugin_env(monkeypatch):
    """Make tests/fault_workloads.py importable here and in every child worker."""
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    paths = [str(TESTS_DIR), str(REPO), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    return monkeypatch


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from aipcbench.cli import main

    def run(*argv: str):
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


def default_sigint() -> None:
    """For subprocesses the tests start and then interrupt: SIGINT back to its default, so the
    child's Python raises KeyboardInterrupt even when the test run inherited SIGINT as ignored
    (a script's background job, some CI runners)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
