"""The hostile sweep (scripts/hostile_sweep.py) over the inputs a founder writes by hand: every
plan table's keys, every machine-profile key, numeric flags, output paths and model folders,
each with wrong types, absurd and non-finite numbers, deep nesting, escapes and formulas. Every
case must end in an answer or one error line, with no input changed and nothing left running
(about 30 s; the catalog and results families run in the script itself)."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import DATA

sys.path.insert(0, str(DATA.parents[1] / "scripts"))
import hostile_sweep  # noqa: E402


@pytest.mark.parametrize("family", ["plan", "machine", "flags", "outputs", "model folders"])
def test_every_hostile_case_ends_in_an_answer_or_one_line(family, tmp_path):
    findings = []
    cases = 0
    for label, argv, inputs in hostile_sweep.FAMILIES[family](tmp_path):
        cases += 1
        findings += [f"{label}: {rule}" for rule in hostile_sweep.run_case(argv, inputs)]
    assert cases >= 5 and findings == []
