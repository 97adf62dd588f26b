"""Issue 22's speed targets for serving, measured side by side in one run.

    bash scripts/bench.sh -k serve -s

1. The load generator's own cost: against a do-nothing OpenAI-compatible server on loopback
   (one token, no delay), the latency aipcbench's client adds over a bare blocking socket client
   sending the same request (p50 of each, interleaved rounds), target < 1 ms; and the requests/s
   it drives at concurrency 16 on this machine.
2. aipcbench's llama.cpp throughput at concurrency 1 (llama-server, streamed HTTP) against
   llama.cpp's own in-process Python bindings (``llama_cpp.Llama``) on the same GGUF with the
   same threads, target >= 0.95. Needs ``bash scripts/setup-llamacpp.sh``; skipped without it.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import time
from pathlib import Path

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.serve import engines
from aipcbench.serve.load import Concurrency, run_level
from aipcbench.serve.model_files import Shape, random_gguf
from aipcbench.serve.prompts import prompt_maker
from aipcbench.serve.server import ServerProcess, free_port
from aipcbench.serve.stream_request import RequestSpec
from tests.serving_helpers import fake_command

ROUNDS = 5


def _bare_requests(port: int, body: bytes, count: int) -> list[float]:
    """Requests over one kept-alive blocking socket, each read to its last chunk: the least a
    client can do (no parsing, no timing of events)."""
    head = f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    times = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(head + body)
            received = b""
            while not received.endswith(b"0\r\n\r\n"):
                received += sock.recv(65536)
            times.append(time.perf_counter() - started)
    return times


@pytest.fixture
def do_nothing(tmp_path):
    port = free_port()
    server = ServerProcess(
        fake_command(port, "ok", tokens=1, delay_ms=0), port, tmp_path / "fake.log"
    ).start()
    server.wait_ready(30)
    yield server
    server.stop()


def test_load_generator_overhead(do_nothing, record_property):
    spec = RequestSpec(do_nothing.endpoint, "completions", "fake", 1)
    prompts = prompt_maker("token-ids", 16, 512)
    body = spec.body(prompts(0))
    ours, bare = [], []
    for _ in range(ROUNDS):
        run = run_level(Concurrency(1), spec, prompts, 200, 10)
        ours.append(statistics.median(r.e2e_s for r in run.results))
        bare.append(statistics.median(_bare_requests(do_nothing.port, body, 200)))
    added_ms = (min(ours) - min(bare)) * 1000
    drive = run_level(Concurrency(16), spec, prompts, 2000, 16)
    window = max(r.sent_s + r.e2e_s for r in drive.results) - min(r.sent_s for r in drive.results)
    rate = len(drive.results) / window
    print(
        f"\nload generator: p50 {min(ours) * 1000:.3f} ms vs bare socket {min(bare) * 1000:.3f} ms "
        f"(+{added_ms:.3f} ms); drives {rate:,.0f} requests/s at concurrency 16 "
        f"(its CPU {drive.generator_cpu_s / drive.wall_s:.0%} of the wall time)"
    )
    record_property("added_latency_ms", added_ms)
    record_property("requests_per_s_at_16", rate)
    assert added_ms < 1.0, f"the load generator adds {added_ms:.3f} ms at p50 (target < 1 ms)"


@pytest.mark.skipif(engines.missing("llama.cpp") is not None, reason="llama-server not built")
def test_llama_cpp_server_against_in_process(tmp_path, record_property):
    # the bindings load the libllama that scripts/setup-llamacpp.sh built beside llama-server
    os.environ.setdefault("LLAMA_CPP_LIB_PATH", str(engines.llama_server_bin().parent))
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    model = next(m for m in load_catalog().model_configs if m.key == "qwen2.5-0.5b")
    cache = Path(
        os.environ.get("AIPCBENCH_BENCH_CACHE", Path.home() / ".cache" / "aipcbench" / "serve-models")
    )
    gguf = random_gguf(Shape.of(model), "q4_K_M", cache, engines.llama_quantize_bin())
    threads, prompt_tokens, output = os.cpu_count() or 2, 32, 64
    options = engines.ServeOptions("cpu", 1, prompt_tokens + output + 16, threads)
    port = free_port()
    launch = engines.launch("llama.cpp", gguf, port, options, True)
    server = ServerProcess(launch.command, port, tmp_path / "llama.log").start()
    try:
        server.wait_ready(120)
        spec = RequestSpec(server.endpoint, "completions", "m", output, extra_body=launch.extra_body)
        prompts = prompt_maker("token-ids", prompt_tokens, int(model.vocab))
        served = []
        for _ in range(ROUNDS):
            run = run_level(Concurrency(1), spec, prompts, 3, 1)
            served.append(sum(r.output_tokens for r in run.results) / sum(r.e2e_s for r in run.results))
    finally:
        server.stop()
    in_process = _in_process_tokens_per_s(gguf, threads, prompts, prompt_tokens, output)
    ratio = max(served) / max(in_process)
    print(
        f"\nllama.cpp qwen2.5-0.5b q4_K_M, {threads} threads: served {max(served):.1f} tokens/s, "
        f"in process {max(in_process):.1f} tokens/s: {ratio:.3f}"
    )
    record_property("served_over_in_process", ratio)
    assert ratio >= 0.95, f"served / in-process = {ratio:.3f} (target >= 0.95)"


def _in_process_tokens_per_s(
    gguf: Path, threads: int, prompts, prompt_tokens: int, output: int
) -> list[float]:
    from llama_cpp import Llama

    llm = Llama(
        str(gguf),
        n_ctx=prompt_tokens + output + 16,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    rates = []
    for _ in range(ROUNDS):
        tokens, seconds = 0, 0.0
        for index in range(3):
            started = time.perf_counter()
            done = llm.create_completion(
                list(prompts(1000 + index).token_ids),
                max_tokens=output,
                temperature=0.0,
                logit_bias={2: -1e9},
            )
            seconds += time.perf_counter() - started
            tokens += done["usage"]["completion_tokens"]
            llm.reset()
        rates.append(tokens / seconds)
    return rates


def test_json_bodies_are_what_the_engines_expect():
    spec = RequestSpec(None, "completions", "m", 8, extra_body={"ignore_eos": True})
    body = json.loads(spec.body(prompt_maker("token-ids", 4, 512)(0)))
    assert body["max_tokens"] == 8 and body["ignore_eos"] and len(body["prompt"]) == 4 and body["stream"]
