"""Hostile inputs, closed terminals and killed parents, one family per class of failure.

Each test covers a family (every kind of output path, every kind of unreadable file, every
plain output format...), not one example: the fix is general, so the test is too.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from aipcbench import results
from tests.conftest import DATA, REPO, default_sigint

GOOD = DATA / "results-v2.json"
FAST = ["--warmup", "0", "--min-steps", "2", "--min-time", "0", "--max-time", "0.5"]
CONTROL = ("\x1b", "\x07", "\x00", "\r", "\x9b")


# ---------------------------------------------------------------- outputs never destroy anything


@pytest.mark.parametrize("kind", ["an input", "a symlink to an input", "a device", "a FIFO", "a directory"])
def test_report_out_refuses_anything_but_a_regular_new_or_output_file(cli, tmp_path, kind):
    source = tmp_path / "run-x.json"
    source.write_bytes(GOOD.read_bytes())
    before = source.read_bytes()
    if kind == "an input":
        out = source
    elif kind == "a symlink to an input":
        out = tmp_path / "link.html"
        out.symlink_to(source)
    elif kind == "a device":
        out = tmp_path / "null"
        out.symlink_to("/dev/null")
    elif kind == "a FIFO":
        out = tmp_path / "fifo.html"
        os.mkfifo(out)
    else:
        out = tmp_path / "folder"
        out.mkdir()
    code, _, err = cli("report", str(source), "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and "--out" in err, err
    assert source.read_bytes() == before
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")  # the node is still a node


def test_run_refuses_a_report_dir_that_is_a_file_before_any_cell(cli, tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    code, _, err = cli(
        "run", "--workloads", "null", "--results-dir", str(tmp_path / "r"), "--report-dir", str(blocker)
    )
    assert code == 2 and "--report-dir" in err and not (tmp_path / "r").exists()


# ---------------------------------------------------------------- output that attacks its reader

HOSTILE = '=HYPERLINK("http://x")\x1b]0;pwned\x07\x1b[2J\nnext|line\r'


def _hostile_file(tmp_path):
    raw = json.loads(GOOD.read_text())
    raw["environment"]["host"] = HOSTILE
    raw["environment"]["devices"][0]["name"] = "+" + HOSTILE
    raw["records"][0]["reason"] = "@" + HOSTILE
    raw["records"][1]["workload"] = "-" + HOSTILE
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ("cost", "--format", "csv"),
        ("report", "--format", "csv"),
        ("report", "--format", "md"),
        ("cost", "--format", "table"),
        ("cost", "--format", "json"),
        ("report", "--format", "json"),
    ],
)
def test_every_plain_output_neutralises_formulas_control_characters_and_newlines(cli, tmp_path, argv):
    code, out, err = cli(argv[0], str(_hostile_file(tmp_path)), *argv[1:])
    assert code == 0, err
    for char in CONTROL:
        assert char not in out and char not in err
    if argv[-1] == "csv":
        for row in csv.reader(io.StringIO(out)):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    if argv[-1] == "md":
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in out.splitlines()}
        assert len(widths) == 1  # every row has the header's columns: no row broken by a newline
    if argv[-1] == "json":
        json.loads(out)


def test_the_end_of_run_table_prints_no_escape_sequences():
    from aipcbench.run.end_table import summary_table
    from tests.records import ok_record

    table = summary_table([ok_record(reason=HOSTILE)])
    assert not any(char in table for char in CONTROL) and len(table.splitlines()) == 2


# ---------------------------------------------------------------- inputs that hang or exhaust


def _special(tmp_path, kind):
    if kind == "FIFO":
        path = tmp_path / "fifo"
        os.mkfifo(path)
        return path
    if kind == "huge":
        path = tmp_path / "huge.json"
        with open(path, "wb") as handle:
            handle.truncate(2**30)  # sparse: a 1 GiB file that takes no disk
        return path
    return {"/dev/zero": "/dev/zero", "directory": str(tmp_path)}[kind]


@pytest.mark.parametrize("kind", ["FIFO", "/dev/zero", "huge", "directory"])
@pytest.mark.parametrize("where", ["results", "--catalog", "--machine", "--plan"])
def test_unreadable_inputs_are_refused_at_once(tmp_path, kind, where):
    path = str(_special(tmp_path, kind))
    argv = {
        "results": [path],
        "--catalog": [str(GOOD), "--catalog", path],
        "--machine": [str(GOOD), "--machine", path],
        "--plan": [str(DATA / "results-v3.json"), "--plan", path],
    }
    proc = subprocess.run(
        [sys.executable, "-m", "aipcbench", "cost", *argv[where]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        preexec_fn=default_sigint,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") <= 2


def test_a_backtracking_pattern_in_a_catalog_is_matched_in_linear_time(tmp_path):
    from aipcbench.catalog.match import name_matches

    pattern = "(a+)+$|" + "a.*" * 30 + "b"
    started = time.perf_counter()
    assert name_matches(pattern, "a" * 5000) is False
    assert time.perf_counter() - started < 10  # a backtracking engine takes longer than the universe
    assert name_matches("A100.*80GB", "NVIDIA A100-SXM4-80GB") and not name_matches(r"\bL4\b", "NVIDIA L40S")


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--lifetime-years", "100000"], "--lifetime-years"),
        (["--lifetime-years", "1e8"], "--lifetime-years"),
        (["--price", "nan"], "--price"),
        (["--price", "inf"], "--price"),
        (["--electricity-price", "-1"], "--electricity-price"),
        (["--startup-s", "nan"], "--startup-s"),
        (["--hours-per-day", "25"], "--hours-per-day"),
        (["--price", "100", "--residual", "500"], "--residual"),
    ],
)
def test_numeric_flags_are_finite_bounded_and_named(cli, argv, flag):
    code, _, err = cli("cost", str(GOOD), *argv)
    assert code == 2 and flag in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "text, key",
    [
        ("lifetime_years = 100000\n", "lifetime_years"),
        ("price_usd = inf\n", "price_usd"),
        ("hours_per_day = nan\n", "hours_per_day"),
    ],
)
def test_profile_values_are_finite_bounded_and_name_the_key(cli, tmp_path, text, key):
    profile = tmp_path / "m.toml"
    profile.write_text(text)
    code, _, err = cli("cost", str(GOOD), "--machine", str(profile))
    assert code == 2 and f"key '{key}'" in err and str(profile) in err


# ---------------------------------------------------------------- flags checked before the first cell


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--workloads", ""], "--workloads: empty"),
        (["--workloads", "null,null"], "'null' is listed twice"),
        (["--dtype", "fp32,fp32"], "'fp32' is listed twice"),
        (["--devices", ""], "--devices: empty"),
        (["--seed", "-1"], "--seed"),
        (["--timeout", "inf"], "--timeout"),
        (["--ddp-sweep", "1,0"], "--ddp-sweep"),
        (["--max-time", "nan"], "--max-time"),
    ],
)
def test_run_flags_are_checked_before_anything_runs(cli, tmp_path, argv, needle):
    code, _, err = cli("run", "--results-dir", str(tmp_path / "r"), *argv)
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "r").exists()  # nothing ran, nothing was written


def test_a_bad_machine_profile_stops_run_before_the_first_cell_even_without_a_report(cli, tmp_path):
    profile = tmp_path / "m.toml"
    profile.write_text("price_usd = -1\n")
    code, _, err = cli(
        "run",
        "--workloads",
        "null",
        "--machine",
        str(profile),
        "--no-report",
        "--results-dir",
        str(tmp_path / "r"),
    )
    assert code == 2 and "price_usd" in err and not list(tmp_path.glob("r/run-*.json"))


def test_a_catalog_with_a_byte_order_mark_is_read(cli, tmp_path):
    catalog = tmp_path / "offers.csv"
    source = (REPO / "aipcbench" / "catalog" / "data" / "cloud_offers.csv").read_text()
    catalog.write_text("\ufeff" + source.splitlines()[0] + "\n" + "\n".join(source.splitlines()[1:3]) + "\n")
    code, _, err = cli("cost", str(GOOD), "--catalog", str(catalog), "--format", "csv")
    assert code == 0, err


def test_a_malformed_skypilot_row_is_refused_with_its_line(cli, tmp_path):
    folder = tmp_path / "aws"
    folder.mkdir()
    vms = folder / "vms.csv"
    vms.write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region\n"
        "p5.48xlarge,H100,8,192,2048,55.04,,us-east-1\n"
        ",H100,8,192,2048,55.04,,us-east-1\n"
    )
    code, _, err = cli("cost", str(GOOD), "--catalog", str(vms))
    assert code == 2 and "vms.csv:3" in err and "InstanceType" in err


# ---------------------------------------------------------------- a full disk


def test_a_full_disk_ends_the_run_with_one_line_and_keeps_what_was_written(cli, tmp_path, monkeypatch):
    from aipcbench.results import store

    real = store.write_text_atomic
    calls = {"n": 0}

    def filling_up(path, text):
        calls["n"] += 1
        if calls["n"] > 3:  # created, device facts, first cell; then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)

    monkeypatch.setattr(store, "write_text_atomic", filling_up)
    code, out, err = cli(
        "run",
        "--devices",
        "cpu",
        "--workloads",
        "null,linear-regression:classic",
        "--no-report",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 1 and "No space left on device" in err and "Traceback" not in err, err
    (path,) = tmp_path.glob("run-*.json")
    kept = results.load(path)
    assert [r.workload for r in kept.records] == ["null"]  # the last complete write


def test_a_full_disk_at_the_first_write_is_one_line_and_leaves_no_empty_file(cli, tmp_path, monkeypatch):
    from aipcbench.results import store

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_text_atomic", full)
    args = ("--devices", "cpu", "--workloads", "null", "--no-report", "--results-dir", str(tmp_path), *FAST)
    code, _, err = cli("run", *args)
    assert code == 1 and err.strip().splitlines()[-1].endswith("No space left on device"), err
    assert "Traceback" not in err and list(tmp_path.glob("run-*.json")) == []


def test_a_full_disk_while_writing_the_report_is_one_line(cli, tmp_path, monkeypatch):
    from aipcbench.report import render

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(render, "write_text_atomic", full)
    code, _, err = cli("report", str(GOOD), "--out", str(tmp_path / "r.html"))
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err


# ---------------------------------------------------------------- processes that outlive their parent


def _tree(pid: int) -> set[int]:
    from aipcbench.run.child import _descendants

    return set(_descendants(pid))


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except OSError:
            pass
    return alive


def _start_hanging_run(tmp_path, **env):
    from tests.test_reliability import _start, _wait_for_first_record

    process = _start(tmp_path, "--workloads", "null,fault-hang", "--timeout", "120", env=env)
    return process, _wait_for_first_record(tmp_path, process)


@pytest.mark.parametrize("launcher", ["forkserver", "subprocess"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP])
def test_killing_the_parent_leaves_no_process_and_no_folder(tmp_path, launcher, signum):
    env = {"AIPCBENCH_NO_FORKSERVER": "1"} if launcher == "subprocess" else {}
    process, path = _start_hanging_run(tmp_path, **env)
    family = _tree(process.pid)
    assert family, "the cell should be running"
    temp = tempfile.gettempdir()  # where the run's folders are (it inherits TMPDIR)
    folders = {p for p in os.listdir(temp) if p.startswith(f"aipcbench-run-{process.pid}-")}
    assert folders
    process.send_signal(signum)
    process.wait(timeout=30)
    time.sleep(2.0)
    assert _alive(family) == set(), "processes outlived the parent"
    assert not any(os.path.exists(os.path.join(temp, folder)) for folder in folders)
    if signum == signal.SIGHUP:  # a closed terminal: handled like SIGTERM
        assert process.returncode == 130
        assert results.load(path).ended_by == "SIGHUP"


# ---------------------------------------------------------------- interrupts during start-up


@pytest.mark.parametrize("delay_s", [0.3, 1.0, 2.0, 3.5])
def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path, delay_s):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aipcbench",
            "run",
            "--devices",
            "cpu",
            "--workloads",
            "null",
            "--no-report",
            "--results-dir",
            str(tmp_path),
            *FAST,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=default_sigint,
    )
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    # 130: stopped cleanly; 0: it had finished; -SIGINT: it had not started Python yet
    assert process.returncode in (0, 130, -signal.SIGINT), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
