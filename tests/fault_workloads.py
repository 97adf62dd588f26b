"""Workloads that fail on purpose, loaded with ``aipcbench run --plugin fault_workloads``.

Each one misbehaves inside the child process the way real workloads do (an exception, the OOM
killer's SIGKILL, a segfault, a hang), so the tests can check that only that cell pays; and one
(``denormal-probe``, ``env-probe``) that report the floating-point mode and environment
their process runs in.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

import workloads
from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, Unsupported, WorkloadSpec


def _prepared(step, mode="infer") -> PreparedWorkload:
    return PreparedWorkload(
        step=step,
        items_per_step=1,
        item_unit="steps",
        mode=mode,
        run=RunDefinition("100 steps", 100),
        data_source="none",
    )


def _raise(ctx):
    def step():
        raise RuntimeError("injected failure\nsecond line")

    return _prepared(step)


def _sigkill(ctx):
    def step():
        os.kill(os.getpid(), signal.SIGKILL)

    return _prepared(step)


def _segv(ctx):
    def step():
        ctypes.string_at(0)  # reads address 0: SIGSEGV

    return _prepared(step)


def _hang(ctx):
    def step():
        time.sleep(3600)

    return _prepared(step)


def _oom(ctx):
    raise MemoryError("injected: cannot allocate")


def _unsupported(ctx):
    raise Unsupported("injected: not on this device")


def _slow(ctx):
    return _prepared(lambda: time.sleep(0.02))


def _denormal_probe(ctx):
    """Reports, from inside the cell's process, whether a denormal float survives arithmetic
    on a thread of the intra-op pool (the flag must reach those threads, not just the main one)."""
    import torch

    prepared = _prepared(lambda: None)
    tiny = torch.full((1 << 16,), 1e-39) * 1.0  # large enough to run on the thread pool
    prepared.details = {"denormal_survives": bool(tiny[-1] != 0)}
    return prepared


def _env_probe(ctx):
    prepared = _prepared(lambda: None)
    prepared.details = {"env": os.environ.get("AIPCBENCH_TEST_ENV_PROBE")}
    return prepared


def _spawn_orphan(ctx):
    """Starts a grandchild that would outlive the cell if the runner did not kill the group."""
    import subprocess
    import sys

    marker = os.environ.get("AIPCBENCH_TEST_MARKER", "")
    code = (
        f"import os, pathlib, time\npathlib.Path({marker!r}).write_text(str(os.getpid()))\ntime.sleep(3600)\n"
    )
    subprocess.Popen([sys.executable, "-c", code])

    def step():
        time.sleep(3600)

    return _prepared(step)


for _name, _prepare in {
    "fault-raise": _raise,
    "fault-sigkill": _sigkill,
    "fault-segv": _segv,
    "fault-hang": _hang,
    "fault-oom": _oom,
    "fault-unsupported": _unsupported,
    "slow": _slow,
    "fault-orphan": _spawn_orphan,
    "denormal-probe": _denormal_probe,
    "env-probe": _env_probe,
}.items():
    workloads.register(WorkloadSpec(name=_name, summary="test fault", sizes=("default",), prepare=_prepare))


def _ddp_kill_rank_1(ctx):
    """mlp:tiny whose rank 1 is SIGKILLed (as the OOM killer would) on its 4th step."""
    from workloads import mlp

    prepared = mlp.prepare(PrepareContext(ctx.device_id, ctx.dtype, "tiny", seed=ctx.seed))
    calls = {"n": 0}
    inner = prepared.step

    def step():
        calls["n"] += 1
        if os.environ.get("RANK") == "1" and calls["n"] == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        inner()

    prepared.step = step
    return prepared


workloads.register(
    WorkloadSpec(
        name="ddp-kill-rank-1",
        summary="test fault",
        sizes=("default",),
        prepare=_ddp_kill_rank_1,
        trainable=True,
    )
)
