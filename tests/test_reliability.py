"""Faults, interrupts, hostile and random input: nothing lost, nothing executed, no traceback."""

import json
import os
import signal
import struct
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aipcbench import results
from aipcbench.catalog import parse_catalog
from aipcbench.errors import DataError, ResultsFileError
from aipcbench.results.atomic import write_text_atomic
from tests.conftest import REPO, default_sigint
from workloads import datasets

FAST = ["--warmup", "1", "--min-steps", "2", "--min-time", "0.01", "--max-time", "1", "--no-report"]


def _start(tmp_path, *extra, env=None):
    """``aipcbench run`` with the fault workloads, as a separate process (``env``: extra
    environment variables)."""
    cmd = [
        sys.executable,
        "-m",
        "aipcbench",
        "run",
        "--devices",
        "cpu",
        "--plugin",
        "fault_workloads",
        "--results-dir",
        str(tmp_path),
        *FAST,
        *extra,
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)]),
        **(env or {}),
    }
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
        env=environment,
    )


def _wait_for_first_record(tmp_path, process):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for path in tmp_path.glob("run-*.json"):
            try:
                if json.loads(path.read_text()).get("records"):
                    time.sleep(0.5)  # the hanging cell is running now
                    return path
            except ValueError:  # run-old.json, or a file still empty
                pass
        time.sleep(0.1)
    process.kill()
    pytest.fail("no cell finished")


@pytest.mark.parametrize(
    "signals", [[signal.SIGINT], [signal.SIGTERM], [signal.SIGHUP], [signal.SIGINT, signal.SIGINT]]
)
def test_terminate_and_double_interrupt_keep_finished_cells(plugin_env, tmp_path, signals):
    old = tmp_path / "run-old.json"
    old.write_bytes(b"an earlier run")
    process = _start(tmp_path, "--workloads", "null,fault-hang", "--timeout", "120")
    path = _wait_for_first_record(tmp_path, process)
    sent = time.monotonic()
    for number in signals:
        process.send_signal(number)
        time.sleep(0.05)
    process.wait(timeout=30)
    elapsed = time.monotonic() - sent
    out, err = process.communicate()
    assert process.returncode == 130 and "Traceback" not in err
    assert "1 finished cells kept" in err
    assert elapsed < 2.0, f"took {elapsed:.2f} s to exit"
    doc = results.load(path)
    assert [r.workload for r in doc.records] == ["null"] and doc.complete is False
    expected = "interrupted" if signals[0] == signal.SIGINT else signal.Signals(signals[0]).name
    assert doc.ended_by == expected  # the file says how the run ended
    assert old.read_bytes() == b"an earlier run"


def test_ctrl_c_works_when_the_tests_were_started_with_sigint_ignored(plugin_env, tmp_path):
    """A script's background job (or CI) starts pytest with SIGINT ignored; the runs the tests
    start must still stop on SIGINT, as a user's would."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process = _start(tmp_path, "--workloads", "null,fault-hang", "--timeout", "120")
    finally:
        signal.signal(signal.SIGINT, previous)
    _wait_for_first_record(tmp_path, process)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130


def test_two_runs_started_at_once_write_two_loadable_files(plugin_env, tmp_path):
    first = _start(tmp_path, "--workloads", "null")
    second = _start(tmp_path, "--workloads", "null")
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    files = sorted(tmp_path.glob("run-*.json"))
    assert len(files) == 2
    assert all(results.load(f).records[0].status == "ok" for f in files)


def test_a_planted_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("must stay")
    target = tmp_path / "reports" / "report.html"
    target.parent.mkdir()
    target.symlink_to(victim)
    write_text_atomic(target, "<html>report</html>")
    assert not target.is_symlink() and target.read_text() == "<html>report</html>"
    assert victim.read_text() == "must stay"


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickled_weights_run_no_code_even_when_torch_is_told_to_allow_it(tmp_path, monkeypatch):
    import torch

    from tests import datafiles
    from workloads import gpt2_generate

    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    folder = datafiles.tiny_gpt2(tmp_path)
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "payload-ran"
    torch.save({"transformer.wte.weight": Payload(marker)}, folder / "pytorch_model.bin")
    with pytest.raises(
        DataError, match="only pickled pytorch_model.bin, which aipcbench never loads"
    ) as refused:
        gpt2_generate.load_model(folder)
    assert not marker.exists()
    message = str(refused.value)
    assert "safe_serialization=True" in message  # says how to convert it
    assert "weights_only=False" not in message and "weights_only" not in message  # never the unsafe path


@pytest.mark.parametrize(
    "header",
    [
        struct.pack("<Q", 10**12) + b"{}",  # claims a terabyte of header
        struct.pack("<Q", 7) + b"not json",
        b"\x01\x02",
    ],
)
def test_malformed_safetensors_headers(tmp_path, header):
    from tests import datafiles
    from workloads import gpt2_generate

    folder = datafiles.tiny_gpt2(tmp_path)
    (folder / "model.safetensors").write_bytes(header)
    with pytest.raises(DataError, match="model.safetensors: cannot load"):
        gpt2_generate.load_model(folder)


# ---------------------------------------------------------------- fuzzing

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzz_results_loader_bytes(tmp_path, body):
    path = tmp_path / "r.json"
    path.write_bytes(body)
    try:
        results.load(path)
    except ResultsFileError:
        pass


@FUZZ
@given(records=json_values, environment=json_values, version=st.integers(-2, 4))
def test_fuzz_results_loader_structures(tmp_path, records, environment, version):
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            {
                "format": "aipcbench-results",
                "schema_version": version,
                "environment": environment,
                "records": records,
            }
        )
    )
    try:
        results.load(path)
    except ResultsFileError:
        pass


@FUZZ
@given(
    text=st.text(max_size=300),
    name=st.sampled_from(["cloud_offers", "local_hardware", "device_specs", "electricity"]),
)
def test_fuzz_catalog_parser(tmp_path, text, name):
    for candidate in (text, f"# aipcbench-catalog {name} v1\n" + text):
        try:
            parse_catalog(tmp_path / "c.csv", candidate)
        except DataError:
            pass


@FUZZ
@given(body=st.binary(max_size=7000))
def test_fuzz_cifar_and_mnist_parsers(tmp_path, body):
    path = tmp_path / "blob"
    path.write_bytes(body)
    for read in (datasets.read_cifar_bin, datasets.read_cifar_py):
        try:
            read(path)
        except DataError:
            pass
    for magic in (0x803, 0x801):
        for candidate in (body, struct.pack(">I", magic) + body):
            path.write_bytes(candidate)
            try:
                datasets.read_idx(path, magic)
            except DataError:
                pass
