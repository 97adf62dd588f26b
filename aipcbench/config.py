"""Validated, frozen configuration of each command: built from CLI flags, with no side effects.

The CLI only parses; everything a command needs arrives here as one frozen value, checked
before anything runs (a wrong value names the flag the user typed).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aipcbench.catalog.train_memory import LORA_RANK, LORA_TARGETS
from aipcbench.errors import UserInputError
from aipcbench.results.record import DTYPES, TimingPolicy
from aipcbench.units import SECONDS_PER_DAY

QUICK_POLICY = TimingPolicy(warmup_steps=2, min_steps=5, min_time_s=2.0, max_time_s=6.0)
FULL_POLICY = TimingPolicy(
    warmup_steps=10, min_steps=30, min_time_s=10.0, max_time_s=120.0, max_steps=200_000
)
DECODE_MODES = ("lean", "generate")


@dataclass(frozen=True)
class Cell:
    """One point of the cartesian product devices x workloads x dtypes (x world sizes)."""

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


@dataclass(frozen=True)
class WorkloadOptions:
    """Options a user sets for every workload that understands them (others ignore them)."""

    channels_last: bool = False  # NHWC activations for convolutional nets
    decode: str = "lean"  # text generation: aipcbench's greedy loop, or transformers.generate
    model: str = "llama3.2-1b"  # causal-lm: a catalog model key or a Hugging Face model directory
    prompt_tokens: int | None = None  # text generation: None = the workload's default
    new_tokens: int | None = None
    lora_rank: int = LORA_RANK  # fine-tune: the LoRA adapters' rank
    checkpointing: bool = False  # fine-tune: recompute activations in backward instead of keeping them
    lora_targets: str = "all"  # fine-tune: adapters on attention and MLP, or on attention only

    def __post_init__(self) -> None:
        if self.decode not in DECODE_MODES:
            raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, got {self.decode!r}")
        if self.lora_targets not in LORA_TARGETS:
            raise ValueError(f"lora_targets must be one of {', '.join(LORA_TARGETS)}: {self.lora_targets!r}")


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
    options: WorkloadOptions = field(default_factory=WorkloadOptions)
    keep_denormals: bool = False
    world_sizes: tuple[int, ...] = ()  # data-parallel ranks per node; () = plain processes
    torchrun_args: tuple[str, ...] = ()  # --nnodes/--node-rank/--rdzv-endpoint pass-through
    report_dir: Path | None = None  # None: no report
    catalog_files: tuple[Path, ...] = ()
    country: str | None = None  # grid carbon intensity and electricity region
    cpu_watts: float | None = None  # rated power for energy estimates without a sensor
    gpu_watts: float | None = None
    machine_file: Path | None = None  # the local machine profile the run's report prices with

    def to_dict(self) -> dict[str, Any]:
        """The config as stored in the results file."""
        data = asdict(self)
        for key in ("results_dir", "data_dir", "report_dir", "machine_file"):
            data[key] = str(data[key]) if data[key] is not None else None
        data["catalog_files"] = [str(path) for path in self.catalog_files]
        return data


@dataclass(frozen=True)
class PricingConfig:
    """What ``cost`` and ``report`` read: results files and the local machine's economics."""

    results: tuple[Path, ...] = ()
    catalog_files: tuple[Path, ...] = ()
    machine_file: Path | None = None
    machine_values: dict[str, Any] = field(default_factory=dict)  # flag overrides, by profile key
    local_host: str | None = None
    startup_s: float | None = None  # None: measured by `aipcbench cloud run` where present, else 0
    more_machines: tuple[Path, ...] = ()  # further candidate machines (--machine given again)
    more_presets: tuple[str, ...] = ()  # further candidates from catalog presets (--preset again)
    plan: Path | None = None

    def input_files(self) -> list[Path]:
        """Every file this pricing reads besides the results: an output must never replace one."""
        named = [*self.catalog_files, self.machine_file, *self.more_machines, self.plan]
        return [Path(p) for p in named if p is not None]


@dataclass(frozen=True)
class CostConfig:
    pricing: PricingConfig
    format: str = "table"  # table | json | csv
    all_offers: bool = False


@dataclass(frozen=True)
class ReportConfig:
    pricing: PricingConfig
    format: str = "html"  # html | md | csv | json
    out: Path | None = None
    pdf: Path | None = None  # also print the page to this PDF (report.pdf)


@dataclass(frozen=True)
class EstimateConfig:
    results: tuple[Path, ...] = ()
    catalog_files: tuple[Path, ...] = ()
    targets: tuple[str, ...] = ()  # catalog accelerator keys; () = every spec row
    check: bool = False
    format: str = "table"  # table | csv


@dataclass(frozen=True)
class CloudConfig:
    """``aipcbench cloud run|task|estimate``: which GPUs, which suite, and the cost cap."""

    accelerators: tuple[str, ...]  # SkyPilot-style NAME:COUNT, e.g. H100:1
    suite: str = "quick"  # quick | full
    spot: bool = False
    max_usd: float = 5.0  # the most the whole command may cost
    clouds: tuple[str, ...] = ()  # SkyPilot cloud names; () = any enabled cloud
    yes: bool = False
    results_dir: Path = Path("results")
    catalog_files: tuple[Path, ...] = ()
    out: Path | None = None  # cloud task: the YAML file (None: print it)


@dataclass(frozen=True)
class ServeConfig:
    """``aipcbench serve``: which engines serve which model, under which loads, against what
    target. ``endpoint`` replaces the engines by a server that is already running."""

    engines: tuple[str, ...]
    model: str  # a catalog key, a GGUF file, a model folder, or the endpoint's model name
    quants: tuple[str, ...]  # llama.cpp GGUF quantizations
    dtype: str  # transformers / vLLM compute dtype
    device: str
    prompt_tokens: int
    output_tokens: int
    concurrencies: tuple[int, ...]
    rates_per_s: tuple[float, ...]
    max_concurrency: int
    requests: int
    warmup: int | None
    target_ttft_ms: float | None
    target_tpot_ms: float | None
    threads: int | None
    results_dir: Path
    model_cache: Path
    request_timeout_s: float
    catalog_files: tuple[Path, ...] = ()
    endpoint: str | None = None
    api: str = "completions"
    api_key_env: str | None = None
    cpu_watts: float | None = None
    gpu_watts: float | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """For the results file: never the key itself, only the variable's name."""
        data = asdict(self)
        for key in ("results_dir", "model_cache"):
            data[key] = str(data[key])
        data["catalog_files"] = [str(path) for path in self.catalog_files]
        return data


def split_list(flag: str, text: str) -> tuple[str, ...]:
    """Comma-separated items; an empty list or a repeated item is refused."""
    items = tuple(item.strip() for item in text.split(","))
    if not text.strip() or not all(items):
        raise UserInputError(f"{flag}: empty item in '{text}' (give a comma-separated list)")
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise UserInputError(f"{flag}: '{repeated[0]}' is listed twice")
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


# policy field -> (flag, smallest allowed value, largest allowed value)
POLICY_FLAGS = {
    "warmup_steps": ("--warmup", 0, 1_000_000),
    "min_steps": ("--min-steps", 1, 10_000_000),
    "min_time_s": ("--min-time", 0.0, 7 * SECONDS_PER_DAY),
    "max_time_s": ("--max-time", 0.001, 7 * SECONDS_PER_DAY),
    "max_steps": ("--max-steps", 1, 10_000_000),
}


def build_policy(quick: bool, overrides: dict[str, Any]) -> TimingPolicy:
    """The quick or full policy with the user's overrides, each checked against its flag."""
    values = asdict(QUICK_POLICY if quick else FULL_POLICY)
    for key, value in overrides.items():
        if value is None:
            continue
        flag, smallest, largest = POLICY_FLAGS[key]
        if not math.isfinite(value) or not smallest <= value <= largest:
            raise UserInputError(f"{flag}: must be between {smallest:g} and {largest:g}, got {value}")
        values[key] = value
    # A longer minimum time than the default cap lifts the cap with it.
    if overrides.get("max_time_s") is None:
        values["max_time_s"] = max(values["max_time_s"], values["min_time_s"])
    if overrides.get("max_steps") is None:
        values["max_steps"] = max(values["max_steps"], values["min_steps"])
    try:
        return TimingPolicy(**values)
    except ValueError as exc:
        raise UserInputError(f"timing flags: {exc}") from None
