"""``aipcbench report --pdf FILE``: the page printed to PDF by the system's Chromium, headless,
so a founder can attach it to an e-mail; the page's print stylesheet decides what is on paper
(the answer first, every table whole, interactive controls hidden).

Chromium's own ``--print-to-pdf`` is used (no Playwright, no browser download): it loads the
file, lets the page's scripts draw the charts (``--virtual-time-budget``), and prints. It runs
in its own process group and is killed with it after ``timeout_s``, so nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from aipcbench.errors import StorageError, UserInputError
from aipcbench.report.browser import CHROMIUM_ARGS, chromium_path

TIMEOUT_S = 120.0
SCRIPT_BUDGET_MS = 20_000  # virtual time the page's scripts get to draw every chart


def print_to_pdf(page: Path, pdf: Path, timeout_s: float = TIMEOUT_S) -> Path:
    """Print ``page`` to ``pdf`` (written beside, then renamed: never half a file)."""
    browser = chromium_path()
    if browser is None:
        raise UserInputError(
            "--pdf needs Chromium (apt-get install chromium); or open the page and print it to PDF"
        )
    partial = pdf.with_name(f".{pdf.name}.partial")
    command = [
        browser,
        "--headless",
        *CHROMIUM_ARGS,
        "--no-pdf-header-footer",
        f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
        f"--print-to-pdf={partial}",
        page.resolve().as_uri(),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise StorageError(f"--pdf: Chromium did not print the page in {timeout_s:.0f} s") from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            partial.unlink(missing_ok=True)  # what a killed print left
    try:
        with open(partial, "rb") as printed:
            if printed.read(5) != b"%PDF-":
                raise StorageError(f"--pdf: Chromium did not write a PDF (exit code {process.returncode})")
        os.replace(partial, pdf)
    except FileNotFoundError:
        raise StorageError(f"--pdf: Chromium did not write a PDF (exit code {process.returncode})") from None
    finally:
        partial.unlink(missing_ok=True)
    return pdf
