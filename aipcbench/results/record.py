"""The typed record of one cell (one workload x size x device x dtype), and its parts.

A record is built once, in the cell's worker (``aipcbench.run.worker``), completed once in the
parent with the figures that need the device's facts (``aipcbench.run.record_figures``), turned
into JSON only by the results store, and read back as these objects by cost, report and the
end-of-run table. Units are in every field name: ``_s`` seconds, ``_j`` joules, ``_w`` watts,
``_bytes``, ``flop_per_s`` a rate, ``flop_count`` / ``count_*`` a number of FLOPs.

The JSON is ``dataclasses.asdict`` of these types, so ``pandas.json_normalize(doc["records"])``
gives columns such as ``step_time.median_s`` and ``energy.per_run_j`` without this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aipcbench.results.policy import TimingPolicy

# The closed vocabularies every part relies on.
FLOAT_DTYPES = ("fp32", "bf16", "fp16")
QUANTIZED_DTYPES = ("int8", "int4")  # weights quantized (activations stay float)
DTYPES = FLOAT_DTYPES + QUANTIZED_DTYPES
# train: an optimizer step; infer: a forward pass; generate: a text generation (priced per token
# by bandwidth or per-op overhead); overhead: the null workload (never priced).
MODES = ("train", "infer", "generate", "overhead")
STATUSES = ("ok", "failed", "oom", "killed", "timeout", "skipped")
FAILED_STATUSES = ("failed", "oom", "killed", "timeout")


def device_kind(device_id: str) -> str:
    """``cuda`` of ``cuda:1``, ``cpu`` of ``cpu``: the kind of a torch device id, the one rule."""
    return device_id.split(":", 1)[0]


@dataclass(frozen=True)
class WorkloadFacts:
    """What the workload says about itself."""

    mode: str
    items_per_step: int
    item_unit: str
    data_source: str
    data_note: str = ""
    weights_source: str | None = None
    parameter_count: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.items_per_step < 1:
            raise ValueError(f"items_per_step must be >= 1, got {self.items_per_step}")


@dataclass(frozen=True)
class Timing:
    """The raw clock readings: every sample is kept."""

    policy: TimingPolicy
    setup_s: float
    first_step_s: float
    warmup_samples_s: tuple[float, ...]
    samples_s: tuple[float, ...]
    window_s: float
    stopped_by: str
    per_rank_samples_s: tuple[tuple[float, ...], ...] | None = None
    aggregation: str = ""


@dataclass(frozen=True)
class StepTime:
    """Statistics of the timed steps (``run.stats``): location and spread, in seconds."""

    n: int
    mean_s: float
    median_s: float
    stdev_s: float
    min_s: float
    max_s: float
    p5_s: float
    p95_s: float
    q1_s: float
    q3_s: float
    iqr_s: float
    cv: float

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("step_time.n must be >= 1")


@dataclass(frozen=True)
class Stability:
    """First and last tenth of the timed steps: a drift above 2 % means too short a warm-up."""

    first_decile_median_s: float
    last_decile_median_s: float
    drift: float | None


@dataclass(frozen=True)
class Throughput:
    items_per_s: float | None
    items_per_s_mean: float | None


@dataclass(frozen=True)
class RunTime:
    """What one paid-for *run* is, and how long it takes (extrapolated from throughput)."""

    description: str
    items_per_run: float
    steps_per_run: float | None
    time_s: float | None
    method: str = "extrapolated"
    basis: str = "items per run / median-step throughput"


@dataclass(frozen=True)
class Quality:
    """The training quality gate (``run.quality``). ``verdict`` is valid, invalid or
    inconclusive; only ``invalid`` makes a run not a valid run."""

    loss_initial: float | None
    loss_start: float | None
    loss_end: float | None
    loss_fell: bool
    verdict: str
    valid_run: bool
    rule: str
    optimizer_steps: int | None = None

    def __post_init__(self) -> None:
        if self.verdict not in ("valid", "invalid", "inconclusive"):
            raise ValueError(f"quality.verdict {self.verdict!r} is not valid/invalid/inconclusive")


@dataclass(frozen=True)
class Flops:
    """FLOPs counted in an untimed step, and what they mean against the device's peaks."""

    count_per_step: float | None
    method: str
    count_per_item: float | None = None
    count_per_run: float | None = None
    achieved_flop_per_s: float | None = None
    rated_peak_flop_per_s: float | None = None
    rated_peak_source: str | None = None
    measured_peak_flop_per_s: float | None = None
    measured_peak_method: str | None = None
    mfu_rated: float | None = None
    mfu_measured: float | None = None


@dataclass(frozen=True)
class StepDemand:
    """What one step asks of any device, counted in an untimed step (``run.step_counts``):
    the device-independent figures the estimator of other hardware's run times starts from."""

    kernel_ops: int  # ATen calls that do work (kernel launches in eager mode on a GPU)
    view_ops: int  # ATen calls that only reinterpret metadata
    eager_bytes: int  # bytes in and out of every kernel op: eager-mode memory traffic
    distinct_bytes: int  # each storage touched once: the least a step must move
    method: str
    weight_bytes: int | None = None  # the model's parameters at the cell's dtype
    kv_cache_bytes: int | None = None  # text generation: the cache at the end of a step
    conv_flop_count: int | None = None  # of the step's FLOPs, convolutions (TF32 on Ampere+)


@dataclass(frozen=True)
class RankMemory:
    rank: int
    device: str
    peak_bytes: int | None
    method: str | None


@dataclass(frozen=True)
class Memory:
    peak_bytes: int | None
    method: str | None
    peak_reserved_bytes: int | None = None
    device_used_bytes_nvml: int | None = None
    note: str = ""
    process_peak_rss_bytes: int | None = None
    per_rank: tuple[RankMemory, ...] = ()


@dataclass(frozen=True)
class Energy:
    """Energy over the timed window from the best sensor, and per step / per run from it."""

    window_j: float | None
    window_s: float | None
    method: str | None
    note: str = ""
    per_step_j: float | None = None
    per_run_j: float | None = None
    per_run_above_idle_j: float | None = None
    idle_power_w: float | None = None
    idle_power_method: str | None = None
    co2e_g_per_run: float | None = None
    co2e_source: str | None = None


@dataclass(frozen=True)
class Bandwidth:
    """Decode's weight stream against the device's bandwidth (the bound at batch 1)."""

    decode_weight_stream_bytes_per_s: float
    utilisation_measured: float | None
    utilisation_rated: float | None


@dataclass(frozen=True)
class Throttle:
    reasons: tuple[str, ...] | None
    throttled: bool | None
    note: str = ""


@dataclass(frozen=True)
class DataParallel:
    """A cell run as N data-parallel ranks (rules in ``run.distributed``)."""

    world_size: int
    backend: str
    items_per_rank_step: int
    scaling_efficiency: float | None = None
    scaling_baseline_items_per_s: float | None = None


@dataclass(frozen=True)
class CellRecord:
    """One cell's outcome. Only ``status == "ok"`` records carry the measured parts."""

    cell: str
    workload: str
    size: str
    device: str
    dtype: str
    status: str
    reason: str = ""
    compile: bool = False
    nproc: int = 0
    wall_s: float | None = None
    cpu_denormals: str | None = None
    workload_facts: WorkloadFacts | None = None
    timing: Timing | None = None
    step_time: StepTime | None = None
    stability: Stability | None = None
    throughput: Throughput | None = None
    run: RunTime | None = None
    quality: Quality | None = None
    workload_metrics: dict[str, Any] = field(default_factory=dict)
    flops: Flops | None = None
    demand: StepDemand | None = None
    memory: Memory | None = None
    energy: Energy | None = None
    bandwidth: Bandwidth | None = None
    throttle: Throttle | None = None
    data_parallel: DataParallel | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.status == "ok" and (
            self.step_time is None or self.run is None or self.workload_facts is None
        ):
            raise ValueError("an ok record needs step_time, run and workload_facts")

    # -- the rules every reader applies, written once --------------------------------------

    @property
    def measured(self) -> bool:
        """Finished with timings (ok, and a time per run exists)."""
        return self.status == "ok" and self.run is not None and bool(self.run.time_s)

    @property
    def valid_run(self) -> bool:
        """The valid-run rule: not valid only when the quality gate judged the training bad."""
        return self.quality is None or self.quality.valid_run

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def mode(self) -> str | None:
        return self.workload_facts.mode if self.workload_facts else None

    @property
    def time_per_run_s(self) -> float | None:
        return self.run.time_s if self.run else None

    @property
    def energy_per_run_j(self) -> float | None:
        return self.energy.per_run_j if self.energy else None

    @property
    def energy_method(self) -> str | None:
        return self.energy.method if self.energy else None

    @property
    def world_size(self) -> int:
        return self.data_parallel.world_size if self.data_parallel else 0

    @property
    def data_source(self) -> str:
        return self.workload_facts.data_source if self.workload_facts else ""

    @property
    def weights_source(self) -> str | None:
        return self.workload_facts.weights_source if self.workload_facts else None
