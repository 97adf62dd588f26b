"""Validated, frozen configuration of a run: built from CLI flags, with no side effects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aipcbench.errors import UserInputError
from aipcbench.timing import FULL_POLICY, QUICK_POLICY, TimingPolicy

DTYPES = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Cell:
    """One point of the cartesian product devices x workloads x dtypes."""

    workload: str
    size: str
    device: str
    dtype: str
    compile: bool = False
    nproc: int = 0  # 0: one plain process; N >= 1: N data-parallel ranks under torchrun

    @property
    def label(self) -> str:
        suffix = "+compile" if self.compile else ""
        ranks = f" x{self.nproc} ranks" if self.nproc else ""
        return f"{self.workload}:{self.size}@{self.device}/{self.dtype}{suffix}{ranks}"

    def identity(self) -> dict[str, Any]:
        return {"cell": self.label, **asdict(self)}


@dataclass(frozen=True)
class RunConfig:
    devices: tuple[str, ...]
    workloads: tuple[tuple[str, str | None], ...]  # (name, size or None for every size)
    dtypes: tuple[str, ...]
    quick: bool
    policy: TimingPolicy
    timeout_s: float
    results_dir: Path
    compile: bool = False
    data_dir: Path | None = None
    plugins: tuple[str, ...] = ()
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # workload options (channels_last)
    world_sizes: tuple[int, ...] = ()  # data-parallel ranks per node; () = plain processes
    torchrun_args: tuple[str, ...] = ()  # --nnodes/--node-rank/--rdzv-endpoint pass-through

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["results_dir"] = str(self.results_dir)
        data["data_dir"] = str(self.data_dir) if self.data_dir else None
        return data


def split_list(flag: str, text: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise UserInputError(f"{flag}: empty list")
    return items


def parse_workloads(text: str) -> tuple[tuple[str, str | None], ...]:
    """``mlp,linear-regression:classic`` -> ((mlp, None), (linear-regression, classic))."""
    parsed = []
    for item in split_list("--workloads", text):
        name, _, size = item.partition(":")
        parsed.append((name, size or None))
    return tuple(parsed)


def parse_dtypes(text: str) -> tuple[str, ...]:
    dtypes = split_list("--dtype", text)
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise UserInputError(f"--dtype: unknown dtype '{dtype}' (valid: {', '.join(DTYPES)})")
    return dtypes


# policy field -> (flag, smallest allowed value)
POLICY_FLAGS = {
    "warmup_steps": ("--warmup", 0),
    "min_steps": ("--min-steps", 1),
    "min_time_s": ("--min-time", 0.0),
    "max_time_s": ("--max-time", 0.001),
    "max_steps": ("--max-steps", 1),
}


def build_policy(quick: bool, overrides: dict[str, Any]) -> TimingPolicy:
    """The quick or full policy with the user's overrides, each checked against its flag."""
    values = asdict(QUICK_POLICY if quick else FULL_POLICY)
    for key, value in overrides.items():
        if value is None:
            continue
        flag, smallest = POLICY_FLAGS[key]
        if value < smallest:
            raise UserInputError(f"{flag}: must be at least {smallest}, got {value}")
        values[key] = value
    # A longer minimum time than the default cap lifts the cap with it.
    if overrides.get("max_time_s") is None:
        values["max_time_s"] = max(values["max_time_s"], values["min_time_s"])
    if overrides.get("max_steps") is None:
        values["max_steps"] = max(values["max_steps"], values["min_steps"])
    return TimingPolicy(**values)
