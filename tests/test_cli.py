"""Bad input: one line on stderr naming the flag, exit 2, nothing in results/ touched."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["run", "--devices", "tpu:7"], "--devices: unknown device 'tpu:7' (this machine has: cpu"),
        (["run", "--workloads", "nope"], "--workloads: unknown workload 'nope' (valid: "),
        (["run", "--workloads", "mlp:huge"], "'mlp' has no size 'huge' (valid: tiny, full, infer, "),
        (["run", "--dtype", "fp8"], "--dtype: unknown dtype 'fp8' (valid: fp32, bf16, fp16, int8, int4)"),
        (["run", "--min-steps", "0"], "--min-steps: must be between 1 and"),
        (["run", "--warmup", "-1"], "--warmup: must be between 0 and"),
        (["run", "--timeout", "0"], "argument --timeout: must be a finite number in (0, "),
        (["run", "--timeout", "soon"], "argument --timeout: not a number: 'soon'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["run", "--plugin", "no_such_module_x"], "--plugin: cannot import 'no_such_module_x'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(cli, tmp_path, argv, needle):
    existing = tmp_path / "run-old.json"
    existing.write_bytes(b"previous results")
    code, out, err = cli(*argv, "--results-dir", str(tmp_path)) if argv[0] == "run" else cli(*argv)
    assert code == 2
    assert err.startswith("aipcbench: error: ") and err.count("\n") == 1, err
    assert needle in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-old.json"]
    assert existing.read_bytes() == b"previous results"


def test_unwritable_results_dir(cli, tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    code, out, err = cli("run", "--workloads", "null", "--results-dir", str(blocker / "sub"))
    assert code == 2 and "--results-dir: cannot create" in err and err.count("\n") == 1


def test_missing_data_dir(cli, tmp_path):
    code, out, err = cli("run", "--data-dir", str(tmp_path / "absent"), "--results-dir", str(tmp_path))
    assert code == 2 and "--data-dir:" in err and "is not a directory" in err


def test_console_script_and_module_entry_point_exit_codes(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "aipcbench", "run", "--dtype", "int3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert not (tmp_path / "results").exists()


def test_devices_lists_the_cpu_with_simd_flags(cli):
    code, out, err = cli("devices")
    assert code == 0
    assert out.startswith("cpu ")
    assert "logical_cores:" in out and "simd:" in out


def test_workloads_lists_registry(cli):
    code, out, err = cli("workloads")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"null", "mlp", "linear-regression"} <= set(names)


def test_unknown_country_and_bad_catalog(cli, tmp_path):
    code, out, err = cli(
        "run", "--workloads", "null", "--country", "Atlantis", "--results-dir", str(tmp_path)
    )
    assert code == 2 and "--country: no grid carbon intensity for 'Atlantis'" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("# aipcbench-catalog cloud_offers v1\nprovider\nx\n")
    code, out, err = cli("run", "--workloads", "null", "--catalog", str(bad), "--results-dir", str(tmp_path))
    assert code == 2 and "bad.csv:2: missing column" in err and err.count("\n") == 1
    assert list(tmp_path.glob("run-*.json")) == []


def test_a_run_ends_with_the_answer_before_the_report(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fast = (
        "--devices",
        "cpu",
        "--workloads",
        "mlp:tiny",
        "--warmup",
        "0",
        "--min-steps",
        "2",
        "--min-time",
        "0",
    )
    code, out, err = cli("run", *fast, "--max-time", "0.5", "--results-dir", str(tmp_path / "r"))
    assert code == 0, err
    *_, answer, report = out.strip().splitlines()
    assert answer.startswith(("answer: Buy ", "answer: Rent ")) and "/month" in answer
    assert report.startswith("report: reports/report-")


def test_the_report_goes_where_the_user_says_and_the_last_line_says_where(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fast = ("--devices", "cpu", "--workloads", "null", "--warmup", "0", "--min-steps", "2", "--min-time", "0")

    code, out, err = cli(
        "run", *fast, "--max-time", "0.5", "--results-dir", str(tmp_path / "elsewhere" / "r")
    )
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("report: reports/report-")  # the last line says where
    assert list((tmp_path / "reports").glob("report-*.html"))  # reports/ where the user is
    assert not (tmp_path / "elsewhere" / "reports").exists()  # never beside a --results-dir
    code, out, err = cli(
        "run",
        *fast,
        "--max-time",
        "0.5",
        "--results-dir",
        str(tmp_path / "r2"),
        "--report-dir",
        str(tmp_path / "mine"),
    )
    assert code == 0 and out.strip().splitlines()[-1].startswith(f"report: {tmp_path / 'mine'}")
