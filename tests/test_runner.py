"""Faults in one cell cost that cell only; an interrupt keeps what finished."""

import time

import pytest

from aipcbench import results

FAST = ["--warmup", "1", "--min-steps", "2", "--min-time", "0.01", "--max-time", "1"]


def _run(cli, tmp_path, workloads, *extra):
    code, out, err = cli(
        "run",
        "--devices",
        "cpu",
        "--workloads",
        workloads,
        "--plugin",
        "fault_workloads",
        "--results-dir",
        str(tmp_path),
        *FAST,
        *extra,
    )
    files = list(tmp_path.glob("run-*.json"))
    assert len(files) == 1
    return code, out, err, results.load(files[0])


@pytest.mark.parametrize("launcher", ["forkserver", "subprocess"])
def test_each_fault_is_recorded_and_the_suite_goes_on(cli, plugin_env, tmp_path, launcher):
    if launcher == "subprocess":
        plugin_env.setenv("AIPCBENCH_NO_FORKSERVER", "1")
    names = "fault-raise,fault-sigkill,fault-segv,fault-hang,fault-oom,fault-unsupported,null"
    earlier = tmp_path / "earlier.json"  # not run-*.json: a file the suite must leave alone
    earlier.write_bytes(b"results of an earlier run")
    started = time.monotonic()
    # a fresh interpreter spends 2-4 s importing torch before the cell starts on a loaded 2-core
    # VM: its timeout leaves room for that, so only the hanging cell reaches it
    timeout = "4" if launcher == "forkserver" else "10"
    code, out, err, doc = _run(cli, tmp_path, names, "--timeout", timeout)
    by_name = {r.workload: r for r in doc.records}
    assert code == 1
    assert by_name["fault-raise"].status == "failed"
    assert by_name["fault-raise"].reason == "RuntimeError: injected failure second line"
    assert by_name["fault-sigkill"].status == "killed"
    assert "SIGKILL" in by_name["fault-sigkill"].reason
    assert by_name["fault-segv"].status == "failed"
    assert "SIGSEGV" in by_name["fault-segv"].reason
    assert by_name["fault-hang"].status == "timeout"
    assert f"--timeout {timeout}" in by_name["fault-hang"].reason
    assert by_name["fault-oom"].status == "oom"
    assert by_name["fault-unsupported"].status == "skipped"
    assert by_name["null"].status == "ok"  # ran after all the faults
    assert doc.complete is True
    assert "Traceback" not in err
    assert time.monotonic() - started < 60
    assert earlier.read_bytes() == b"results of an earlier run"


def test_skipped_alone_exits_zero(cli, plugin_env, tmp_path):
    code, out, err, doc = _run(cli, tmp_path, "fault-unsupported,null")
    assert code == 0
    assert [r.status for r in doc.records] == ["skipped", "ok"]


def test_a_timed_out_cell_leaves_no_orphan_process(cli, plugin_env, tmp_path):
    marker = tmp_path / "grandchild.pid"
    plugin_env.setenv("AIPCBENCH_TEST_MARKER", str(marker))
    out_dir = tmp_path / "out"
    code, out, err, doc = _run(cli, out_dir, "fault-orphan", "--timeout", "3")
    assert doc.records[0].status == "timeout"
    pid = int(marker.read_text())
    time.sleep(0.2)
    assert not _running(pid)


def _running(pid: int) -> bool:
    """True if the process exists and is not a zombie awaiting its (re)parent's reaping."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_real_workloads_record_everything(cli, tmp_path):
    code, out, err = cli(
        "run", "--devices", "cpu", "--workloads", "mlp:tiny,null", "--results-dir", str(tmp_path), *FAST
    )
    assert code == 0, err
    doc = results.load(next(tmp_path.glob("run-*.json")))
    mlp = doc.records[0]
    assert mlp.status == "ok" and mlp.mode == "train"
    assert mlp.timing.warmup_samples_s and len(mlp.timing.samples_s) >= 2
    assert mlp.step_time.n == len(mlp.timing.samples_s)
    expected_rate = mlp.workload_facts.items_per_step / mlp.step_time.median_s
    assert mlp.throughput.items_per_s == pytest.approx(expected_rate)
    assert mlp.run.method == "extrapolated"
    assert mlp.run.time_s == pytest.approx(mlp.run.items_per_run / expected_rate)
    assert mlp.quality.loss_fell is True
    assert mlp.data_source == "synthetic"
    env = doc.environment
    assert env["devices"][0]["id"] == "cpu" and env["versions"]["torch"]
    assert "mlp:tiny@cpu/fp32" in out  # the summary table


@pytest.mark.parametrize("keep, expected", [(False, "flushed to zero"), (True, "kept (IEEE)")])
def test_denormals_flushed_in_the_cell_unless_kept(cli, plugin_env, tmp_path, keep, expected):
    extra = ["--keep-denormals"] if keep else []
    code, out, err, doc = _run(cli, tmp_path, "denormal-probe", *extra)
    record = doc.records[0]
    assert code == 0 and record.cpu_denormals == expected
    assert record.workload_facts.details["denormal_survives"] is keep
    assert doc.config["keep_denormals"] is keep


def test_a_forked_cell_sees_the_environment_of_its_own_run(cli, plugin_env, tmp_path):
    """The fork server starts once per process; each cell must still get the caller's current
    environment, not the one the server was started with."""
    for value in ("first", "second"):
        plugin_env.setenv("AIPCBENCH_TEST_ENV_PROBE", value)
        out_dir = tmp_path / value
        code, out, err, doc = _run(cli, out_dir, "env-probe")
        assert code == 0 and doc.records[0].workload_facts.details["env"] == value


def test_a_fork_server_that_cannot_start_falls_back_to_fresh_processes(cli, plugin_env, tmp_path):
    from aipcbench.run import forkserver

    class Unstartable:
        def Process(self, **kwargs):  # noqa: N802 (multiprocessing's name)
            class Process:
                def start(self):
                    raise OSError("AF_UNIX sockets are not allowed here")

            return Process()

    plugin_env.setattr(forkserver, "_server", Unstartable)
    plugin_env.setattr(forkserver, "_failed", False)
    code, out, err, doc = _run(cli, tmp_path, "env-probe,null")
    assert code == 0 and [r.status for r in doc.records] == ["ok", "ok"]
    assert forkserver.available() is False  # tried once, not once per cell
