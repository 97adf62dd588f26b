"""``aipcbench serve`` end to end: real engines on a tiny random-weight model, fake engines for
the failure paths, signals, the API key, the results file and the model files it writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cli import main
from aipcbench.errors import DataError
from aipcbench.results.store import load
from aipcbench.serve import engines
from aipcbench.serve.gguf_facts import read_gguf_facts
from aipcbench.serve.hf_folder import random_hf_folder
from aipcbench.serve.model_files import Shape, write_random_gguf
from tests.serving_helpers import FAKE, fake_command, tiny_catalog

TINY = Shape("tiny-llama", "tiny llama (test)", "llama", 2, 64, 4, 2, 16, 128, 512, True, 2048)


def _serve(tmp_path, *flags, engine="transformers") -> list[str]:
    return [
        "serve",
        "--engine",
        engine,
        "--model",
        "tiny-llama",
        "--catalog",
        str(tiny_catalog(tmp_path)),
        "--results-dir",
        str(tmp_path / "results"),
        "--model-cache",
        str(tmp_path / "cache"),
        "--prompt-tokens",
        "16",
        "--output-tokens",
        "8",
        "--requests",
        "4",
        *flags,
    ]


def _only_results(tmp_path):
    files = list((tmp_path / "results").glob("run-*.json"))
    assert len(files) == 1
    return load(files[0])


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def _check_exact_lengths(record, prompt=16, output=8):
    assert record.status == "ok", record.reason
    for level in record.levels:
        assert level.requests_failed == 0 and level.tokens_counted_by == "usage"
        assert level.output_tokens == output * level.requests_ok
        assert level.input_tokens == prompt * level.requests_ok
        assert level.ttft.p50_s > 0 and level.output_tokens_per_s > 0


@pytest.mark.skipif(engines.missing("transformers") is not None, reason="transformers serve extras absent")
def test_transformers_serve_end_to_end(tmp_path, capsys):
    assert main(_serve(tmp_path, "--concurrency", "1,2")) == 0
    (record,) = _only_results(tmp_path).serving
    assert (record.engine, record.weights_source, record.quantization) == (
        "transformers",
        "random-init",
        "fp32",
    )
    assert [level.concurrency for level in record.levels] == [1, 2]
    _check_exact_lengths(record)
    assert record.levels[0].server_peak_rss_bytes > 50 * 2**20  # torch and a model
    assert "best at the target" in capsys.readouterr().out
    assert _processes_mentioning(str(tmp_path / "cache")) == []


@pytest.mark.skipif(
    engines.missing("llama.cpp") is not None, reason="llama-server not built (scripts/setup-llamacpp.sh)"
)
def test_llama_cpp_end_to_end_with_a_quantized_file(tmp_path):
    assert main(_serve(tmp_path, "--concurrency", "1,4", engine="llama.cpp") + ["--quant", "q8_0"]) == 0
    (record,) = _only_results(tmp_path).serving
    assert record.quantization == "q8_0" and record.slots == 4 and record.engine_version != "unknown"
    _check_exact_lengths(record)
    facts = read_gguf_facts(next((tmp_path / "cache").glob("tiny-llama-q8_0-*.gguf")))
    assert facts.file_type == "Q8_0" and facts.parameters == TINY.parameters
    assert _processes_mentioning(str(tmp_path / "cache")) == []


@pytest.fixture
def fake_engine(monkeypatch):
    """The 'transformers' engine replaced by the fake server in a mode the test sets."""
    state = {"mode": "ok"}

    def launch(engine, path, port, options, random_weights):
        command = fake_command(port, state["mode"], log_prompts=state.get("log"))
        return engines.Launch(command, "fake", engines.TOKEN_IDS, ready_deadline_s=3)

    monkeypatch.setattr(engines, "launch", launch)
    monkeypatch.setattr(engines, "missing", lambda engine: None)
    return state


def test_a_server_that_dies_mid_sweep_keeps_the_finished_levels(tmp_path, fake_engine):
    fake_engine["mode"] = "crash-after-5"  # level 1 sends 1 warm-up + 4 measured requests
    assert main(_serve(tmp_path, "--concurrency", "1,2,4")) == 1
    (record,) = _only_results(tmp_path).serving
    assert record.status == "failed" and "exited mid-sweep" in record.reason
    assert record.levels[0].requests_ok == 4 and record.levels[1].requests_ok == 0
    assert len(record.levels) == 2  # the sweep stopped when the server was gone
    assert _processes_mentioning(str(FAKE)) == []


def test_no_prompt_is_sent_twice_across_levels(tmp_path, fake_engine):
    """A repeated prompt would be answered from the engine's prefix cache, without a prefill."""
    fake_engine["log"] = tmp_path / "prompts.jsonl"
    assert main(_serve(tmp_path, "--concurrency", "1,2,4")) == 0
    prompts = fake_engine["log"].read_text().splitlines()
    assert len(prompts) == (1 + 4) + (2 + 4) + (4 + 8) and len(set(prompts)) == len(prompts)


def test_a_server_that_never_gets_ready_is_a_failed_job_not_a_hang(tmp_path, fake_engine, capsys):
    fake_engine["mode"] = "never-ready"
    assert main(_serve(tmp_path, "--concurrency", "1")) == 1
    (record,) = _only_results(tmp_path).serving
    assert record.status == "failed" and "not ready after 3 s" in record.reason
    assert _processes_mentioning(str(FAKE)) == []


@pytest.mark.parametrize("sig, ended_by", [(signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")])
def test_a_signal_mid_level_keeps_the_finished_levels(tmp_path, sig, ended_by):
    server = subprocess.Popen(fake_command(port := _port(), "ok", tokens=8, delay_ms=150))
    try:
        command = [
            sys.executable,
            "-m",
            "aipcbench",
            "serve",
            "--endpoint",
            f"http://127.0.0.1:{port}/v1",
            "--model",
            "fake",
            "--concurrency",
            "1,2",
            "--requests",
            "2",
            "--output-tokens",
            "8",
            "--results-dir",
            str(tmp_path / "results"),
        ]
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _levels_written(tmp_path):
            time.sleep(0.1)
        run.send_signal(sig)
        out, err = run.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()
    assert run.returncode == 130, err
    assert "Traceback" not in err and "finished levels kept" in err
    document = _only_results(tmp_path)
    (record,) = document.serving
    assert record.status == "interrupted" and len(record.levels) == 1 and document.ended_by == ended_by


def _levels_written(tmp_path) -> bool:
    for path in (tmp_path / "results").glob("run-*.json"):
        try:
            serving = json.loads(path.read_text()).get("serving") or []
        except ValueError:
            continue
        if serving and serving[0].get("levels"):
            return True
    return False


def _port() -> int:
    from aipcbench.serve.server import free_port

    return free_port()


def test_an_api_key_is_sent_but_never_recorded(tmp_path, monkeypatch, capfd):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("AIPCBENCH_TEST_KEY", secret)
    server = subprocess.Popen(fake_command(port := _port(), "status-401"))
    try:
        time.sleep(0.5)
        flags = [
            "serve",
            "--endpoint",
            f"http://127.0.0.1:{port}/v1",
            "--model",
            "gpt-x",
            "--api",
            "chat",
            "--api-key-env",
            "AIPCBENCH_TEST_KEY",
            "--concurrency",
            "1",
            "--requests",
            "2",
            "--results-dir",
            str(tmp_path / "results"),
        ]
        assert main(flags) == 1
    finally:
        server.kill()
        server.wait()
    out, err = capfd.readouterr()
    text = (
        (tmp_path / "results")
        .joinpath(next(p.name for p in (tmp_path / "results").glob("*.json")))
        .read_text()
    )
    assert secret not in text + out + err
    assert "AIPCBENCH_TEST_KEY" in text and "HTTP 401" in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--engine", "ollama"], "unknown engine 'ollama'"),
        (["--engine", "llama.cpp", "--quant", "q3_K"], "--quant: 'q3_K' is not one of"),
        (["--engine", "transformers", "--concurrency", "0,2"], "--concurrency: each value must be between 1"),
        (["--engine", "transformers", "--rate", "-1"], "--rate: each rate must be in"),
        (["--engine", "transformers", "--rate", "1", "--concurrency", "2"], "two kinds of load"),
        (["--endpoint", "ftp://x/v1"], "--endpoint: expected http://"),
        (["--endpoint", "http://127.0.0.1:9/v1", "--api-key-env", "AIPCBENCH_UNSET_VAR"], "is not set"),
        (["--engine", "transformers", "--model", "no-such-model"], "is no catalog key"),
        (["--engine", "transformers", "--model", "gpt2-124m"], "random serving weights are written for"),
        (["--engine", "vllm"], None),
        ([], "give --engine"),
    ],
)
def test_bad_serve_input_is_one_line_and_exit_2(tmp_path, capsys, flags, message):
    assert main(["serve", "--results-dir", str(tmp_path / "r"), *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert message is None or message in err
    assert not (tmp_path / "r").exists()  # nothing started, no results file


def test_random_gguf_reads_back_with_its_shape(tmp_path):
    path = write_random_gguf(TINY, tmp_path / "tiny.gguf")
    facts = read_gguf_facts(path)
    assert (facts.architecture, facts.vocab, facts.file_type) == ("llama", 512, "F16")
    assert (
        facts.parameters
        == TINY.parameters
        == 2 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128 + 128) + 512 * 64 + 64
    )


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_broken_gguf_is_refused_before_a_server_starts(tmp_path, damage):
    path = write_random_gguf(TINY, tmp_path / "tiny.gguf")
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"GGUF" + os.urandom(200), "empty": b""}[damage]
    )
    with pytest.raises(DataError) as caught:
        read_gguf_facts(path)
    assert "tiny.gguf" in str(caught.value) and "\n" not in caught.value.one_line()


@pytest.mark.parametrize(
    "method, factor, message",
    [
        ("add_block_count", 1000, "header says 2000 layers, the tensors hold 2"),
        ("add_embedding_length", 64, "header says a width of 4096, the embedding holds 64"),
    ],
)
def test_a_gguf_whose_header_lies_about_its_shape_is_refused(tmp_path, monkeypatch, method, factor, message):
    import gguf

    real = getattr(gguf.GGUFWriter, method)
    monkeypatch.setattr(gguf.GGUFWriter, method, lambda self, n: real(self, n * factor))
    path = write_random_gguf(TINY, tmp_path / "tiny.gguf")
    with pytest.raises(DataError, match=message):
        read_gguf_facts(path)


def test_a_fifo_named_as_a_gguf_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="is not a regular file"):
        read_gguf_facts(fifo)


def test_catalog_shapes_write_the_catalog_parameter_counts():
    catalog = load_catalog()
    shapes = {m.key: Shape.of(m) for m in catalog.model_configs if m.architecture in ("llama", "qwen2")}
    models = {m.key: m for m in catalog.model_configs}
    assert shapes["llama3.2-1b"].parameters == models["llama3.2-1b"].parameters
    assert shapes["llama3.1-8b"].parameters == models["llama3.1-8b"].parameters
    # written as llama architecture: Qwen2's q/k/v biases are left out: 24 layers x (896 + 128 + 128)
    assert shapes["qwen2.5-0.5b"].parameters == models["qwen2.5-0.5b"].parameters - 24 * (896 + 128 + 128)


def test_the_random_folder_loads_in_transformers_with_one_token_per_word(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = random_hf_folder(TINY, tmp_path)
    assert AutoTokenizer.from_pretrained(folder)("w5 w6 w511")["input_ids"] == [5, 6, 511]
    assert AutoModelForCausalLM.from_pretrained(folder).num_parameters() == TINY.parameters
