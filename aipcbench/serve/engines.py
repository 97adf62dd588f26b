"""The serving engines aipcbench starts, and what a request to each needs.

- ``llama.cpp``: llama.cpp's own ``llama-server`` (parallel slots, continuous batching), the
  runtime under Ollama and LM Studio. Built by ``scripts/setup-llamacpp.sh`` into the venv, or
  found as ``$AIPCBENCH_LLAMA_SERVER`` or on PATH. Prompts go as token ids (exact lengths).
- ``transformers``: ``transformers serve --continuous-batching`` (paged attention), the baseline
  that runs wherever torch runs (extra ``aipcbench[serving]``). Prompts go as text; with the
  random-weight folder's word tokenizer, N words are N tokens.
- ``vllm``: ``vllm serve`` on CUDA (extra ``aipcbench[vllm]``); ``--load-format dummy`` serves
  random weights of a shape from its config alone. Prompts go as token ids.

Each engine answers ``missing()`` (why it cannot run here, or None), its version, and the
``Launch`` for a model: the command line, the health path and what every request adds.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aipcbench.results.record import device_kind

ENGINES = ("llama.cpp", "transformers", "vllm")
CB_PAGE_TOKENS = 256  # transformers' continuous batching: tokens per cache page (its default)
TOKEN_IDS, WORDS, TEXT = "token-ids", "words", "text"
QUIET_HUB = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    "VLLM_NO_USAGE_STATS": "1",
}


@dataclass(frozen=True)
class Launch:
    command: tuple[str, ...]
    model_name: str  # the "model" field of every request
    prompt_kind: str  # token-ids | words | text
    health_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    extra_body: dict[str, Any] = field(default_factory=dict)
    slots: int | None = None
    context_tokens: int | None = None
    ready_deadline_s: float = 300.0


@dataclass(frozen=True)
class ServeOptions:
    """What the engines are told, from the command line."""

    device: str  # cpu | cuda:N
    slots: int  # sequences served at once (llama.cpp slots, vLLM max-num-seqs)
    context_tokens: int  # per sequence: prompt + output + a margin
    threads: int | None = None  # CPU threads for llama.cpp (default: its own choice)
    dtype: str = "fp32"  # transformers / vLLM compute dtype


def _venv_tool(name: str) -> Path | None:
    candidates = [
        os.environ.get(f"AIPCBENCH_{name.upper().replace('-', '_')}"),
        str(Path(sys.prefix) / "llama.cpp" / "bin" / name),
        shutil.which(name),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def llama_server_bin() -> Path | None:
    return _venv_tool("llama-server")


def llama_quantize_bin() -> Path | None:
    return _venv_tool("llama-quantize")


def missing(engine: str) -> str | None:
    """Why ``engine`` cannot run here, or None."""
    if engine == "llama.cpp":
        if llama_server_bin() is None:
            return (
                "llama-server not found: bash scripts/setup-llamacpp.sh builds it "
                "(or set AIPCBENCH_LLAMA_SERVER)"
            )
        return None
    if engine == "transformers":
        needed = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]
        if needed:
            return f"transformers serve needs {', '.join(needed)}: pip install 'aipcbench[serving]'"
        return None
    if engine == "vllm":
        if importlib.util.find_spec("vllm") is None:
            return "vLLM is not installed: pip install 'aipcbench[vllm]' (on a machine with an NVIDIA GPU)"
        return None
    return f"unknown engine '{engine}' (known: {', '.join(ENGINES)})"


def version(engine: str) -> str:
    if engine == "llama.cpp":
        binary = llama_server_bin()
        try:
            done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired, TypeError):
            return "unknown"
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("version")]
        return lines[0].split(":", 1)[1].strip() if lines else "unknown"
    package = {"transformers": "transformers", "vllm": "vllm"}.get(engine)
    try:
        return importlib.metadata.version(package) if package else "unknown"
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def launch(engine: str, model_path: Path, port: int, options: ServeOptions, random_weights: bool) -> Launch:
    """How to start ``engine`` serving ``model_path`` (a GGUF file or a model folder)."""
    starters = {"llama.cpp": _llama_cpp, "transformers": _transformers, "vllm": _vllm}
    if engine not in starters:
        raise ValueError(f"unknown engine {engine!r}")
    return starters[engine](model_path, port, options, random_weights)


def _llama_cpp(model_path: Path, port: int, options: ServeOptions, random_weights: bool) -> Launch:
    command = [str(llama_server_bin()), "-m", str(model_path), "--host", "127.0.0.1", "--port", str(port)]
    # one slot per user in flight, each with its own context; continuous batching across slots
    command += ["--parallel", str(options.slots), "--ctx-size", str(options.context_tokens * options.slots)]
    command += ["--no-webui", "--cont-batching"]
    if options.threads:
        command += ["--threads", str(options.threads)]
    if device_kind(options.device) == "cuda":
        command += ["--n-gpu-layers", "999"]
    return Launch(
        tuple(command),
        "model",
        TOKEN_IDS,
        extra_body={"ignore_eos": True},
        slots=options.slots,
        context_tokens=options.context_tokens,
    )


def _transformers(model_path: Path, port: int, options: ServeOptions, random_weights: bool) -> Launch:
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(model_path)]
    command += ["--continuous-batching", "--device", options.device, "--dtype", _torch_dtype(options.dtype)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--max-model-len", str(options.context_tokens)]
    # the paged KV cache sized for the slots (by default it takes 60-90 % of free memory)
    command += ["--cb-num-blocks", str(-(-options.slots * options.context_tokens // CB_PAGE_TOKENS) + 1)]
    return Launch(
        tuple(command),
        str(model_path),
        WORDS if random_weights else TEXT,
        env=QUIET_HUB,
        context_tokens=options.context_tokens,
    )


def _vllm(model_path: Path, port: int, options: ServeOptions, random_weights: bool) -> Launch:
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_path)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--dtype", _torch_dtype(options.dtype)]
    command += ["--max-model-len", str(options.context_tokens), "--max-num-seqs", str(options.slots)]
    command += ["--disable-log-requests"] + (["--load-format", "dummy"] if random_weights else [])
    return Launch(
        tuple(command),
        str(model_path),
        TOKEN_IDS,
        env=QUIET_HUB,
        extra_body={"ignore_eos": True},
        slots=options.slots,
        context_tokens=options.context_tokens,
        ready_deadline_s=900.0,
    )


def _torch_dtype(dtype: str) -> str:
    return {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}.get(dtype, dtype)
