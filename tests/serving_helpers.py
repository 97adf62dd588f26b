"""Shared pieces of the serving tests: the fake server's command, a tiny catalog shape, and a
check that no process of a server group is left."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from aipcbench.serve.procfs import group_members
from aipcbench.serve.server import ServerProcess, free_port

FAKE = Path(__file__).with_name("fake_openai_server.py")
TINY_ROW = (
    "tiny-llama,tiny llama (test),106816,2,64,4,2,16,128,512,2048,llama,yes,test shape,"
    "written by the tests,2026-12-03\n"
)
CATALOG_HEAD = (
    "# aipcbench-catalog model_configs v1\n"
    "key,name,parameters,layers,hidden,heads,kv_heads,head_dim,intermediate,vocab,max_context,"
    "architecture,tie_embeddings,notes,source,as_of\n"
)


def tiny_catalog(folder: Path) -> Path:
    path = folder / "tiny-models.csv"
    path.write_text(CATALOG_HEAD + TINY_ROW)
    return path


def fake_command(
    port: int, mode: str = "ok", tokens: int = 8, delay_ms: float = 1.0, log_prompts: Path | None = None
) -> tuple[str, ...]:
    command = [sys.executable, str(FAKE), "--port", str(port), "--mode", mode, "--tokens", str(tokens)]
    command += ["--delay-ms", str(delay_ms)] + (["--log-prompts", str(log_prompts)] if log_prompts else [])
    return tuple(command)


def start_fake(tmp_path: Path, mode: str = "ok", **kwargs) -> ServerProcess:
    port = free_port()
    server = ServerProcess(fake_command(port, mode, **kwargs), port, tmp_path / f"fake-{mode}.log")
    return server.start()


def wait_group_gone(pgid: int, timeout_s: float = 10.0) -> list[int]:
    """The members still alive after waiting up to ``timeout_s`` (empty when all are gone)."""
    deadline = time.monotonic() + timeout_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return group_members(pgid)
