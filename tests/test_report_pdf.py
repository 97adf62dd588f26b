"""``aipcbench report --pdf``: the page printed by the system's Chromium (report.pdf), and its
failure paths (no Chromium, a Chromium that hangs or writes no PDF) as one line each, the HTML
page kept and no process left behind."""

from __future__ import annotations

import os
import re
import time

import pytest

from aipcbench.report import pdf as pdf_module
from aipcbench.report.browser import chromium_path
from tests.conftest import DATA

RESULTS = str(DATA / "results-v3.json")


def _pages(path) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_page_prints_to_a_pdf_with_the_raw_tables_left_in_the_page(cli, tmp_path):
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    code, stdout, err = cli(
        "report", RESULTS, "--preset", "rtx4090-workstation", "--out", str(out), "--pdf", str(pdf)
    )
    assert code == 0, err
    assert f"pdf: {pdf}" in stdout and pdf.read_bytes().startswith(b"%PDF-")
    pages = _pages(pdf)
    # the answer, the tables and nine charts need several sheets; every record's 14 columns and
    # each workload's offers opened would need 60 or more (they stay in the HTML page)
    assert 3 <= pages <= 40, pages
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.pdf"]  # no partial file


def test_without_chromium_the_pdf_is_one_line_and_the_page_is_kept(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_module, "chromium_path", lambda: None)
    out = tmp_path / "r.html"
    code, _, err = cli("report", RESULTS, "--out", str(out), "--pdf", str(tmp_path / "r.pdf"))
    assert code == 2 and "--pdf needs Chromium" in err and err.count("\n") == 1
    assert out.stat().st_size > 100_000 and not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(
    "script, message",
    [
        (
            'echo half > "${target#--print-to-pdf=}"; sleep 600',
            "did not print the page in 1 s",
        ),  # half a file
        ('echo not a pdf > "${target#--print-to-pdf=}"', "did not write a PDF"),  # junk as the PDF
        ("exit 3", "did not write a PDF (exit code 3)"),
    ],
)
def test_a_chromium_that_hangs_or_writes_no_pdf_is_one_line_and_killed(
    cli, tmp_path, monkeypatch, script, message
):
    """A fake Chromium: the command line is the real one; what it does is the failure."""
    fake = tmp_path / "chromium"
    # $target: the --print-to-pdf=FILE argument the fake was given
    fake.write_text(
        '#!/bin/bash\nfor a in "$@"; do case $a in --print-to-pdf=*) target=$a;; esac; done\n'
        f"echo $$ > {tmp_path}/pid\n{script}\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(pdf_module, "chromium_path", lambda: str(fake))
    monkeypatch.setattr(pdf_module.print_to_pdf, "__defaults__", (1.0,))
    pdf = tmp_path / "r.pdf"
    code, _, err = cli("report", RESULTS, "--out", str(tmp_path / "r.html"), "--pdf", str(pdf))
    assert code != 0 and message in err and err.count("\n") == 1, err
    assert not pdf.exists() and not list(tmp_path.glob(".*partial"))
    pid = int((tmp_path / "pid").read_text())
    for _ in range(50):  # the fake's process group was killed and reaped
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the fake Chromium is still running")
