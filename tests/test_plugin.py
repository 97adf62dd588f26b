"""Adding a workload touches one file: the README's example plugin runs end to end."""

from aipcbench import results
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "matmul_workload.py"
FAST = ["--warmup", "1", "--min-steps", "3", "--min-time", "0.01", "--max-time", "1", "--no-report"]


def test_the_readme_plugin_runs_end_to_end(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # the README's command, as written, from the repository root
    code, out, err = cli(
        "run",
        "--plugin",
        "examples/matmul_workload.py",
        "--workloads",
        "matmul:small",
        "--devices",
        "cpu",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 0, err
    (record,) = results.load(next(tmp_path.glob("run-*.json"))).records
    assert record.status == "ok" and record.workload == "matmul" and record.mode == "infer"
    assert record.flops.count_per_step == 2 * 256**3  # counted by the harness, not the plugin
    assert record.run.time_s > 0 and "matmul:small@cpu/fp32" in out
    assert EXAMPLE.read_text().count("\ndef ") == 1  # one function and one registration


def test_a_plugin_that_raises_on_import_is_one_line(cli, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('plugin bug')\n")
    code, _, err = cli("run", "--plugin", str(broken), "--results-dir", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "plugin bug" in err and "Traceback" not in err
