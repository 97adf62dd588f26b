"""The typed record of one serving run: an engine serving a model under a sweep of loads.

A serving record sits beside the cell records in the same results file (``serving``, schema 4),
one per engine x model x quantization x device, with one ``ServingLevel`` per load level in the
order they ran. Units are in every field name; latencies are ``LatencyStats`` over the measured
requests of a level (warm-up requests excluded). ``pandas.json_normalize(doc["serving"],
"levels", ["engine", "model", "quantization"])`` gives one row per level.

Definitions (computed once, in ``aipcbench.serve.metrics``):
- TTFT: request sent -> first streamed event carrying text.
- TPOT: (E2E - TTFT) / (output tokens - 1), per request.
- ITL: the gaps between successive text events, over all requests of the level.
- E2E: request sent -> last byte of the response.
- output tokens/s: all output tokens of the measured requests / the level's measured window
  (first measured request sent -> last one answered); per user: the median of 1 / TPOT.
- goodput: measured requests meeting the latency target, per second of the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERVING_STATUSES = ("ok", "failed", "skipped", "interrupted")


@dataclass(frozen=True)
class LatencyStats:
    n: int
    mean_s: float
    p50_s: float
    p90_s: float
    p95_s: float
    p99_s: float
    max_s: float


@dataclass(frozen=True)
class LatencyTarget:
    """What a product needs: the p95 of TTFT (and of TPOT, when given) at or below these."""

    ttft_p95_s: float | None
    tpot_p95_s: float | None = None

    def describe(self) -> str:
        parts = []
        if self.ttft_p95_s is not None:
            parts.append(f"p95 TTFT <= {self.ttft_p95_s * 1000:g} ms")
        if self.tpot_p95_s is not None:
            parts.append(f"p95 TPOT <= {self.tpot_p95_s * 1000:g} ms")
        return " and ".join(parts) or "no latency target"


@dataclass(frozen=True)
class RequestSample:
    """One measured request, kept so every level figure can be recomputed from the file."""

    ok: bool
    sent_s: float
    ttft_s: float | None
    e2e_s: float | None
    output_tokens: int
    input_tokens: int | None
    reason: str = ""


@dataclass(frozen=True)
class ServingLevel:
    profile: str  # concurrency | poisson
    concurrency: int | None
    rate_per_s: float | None
    requests_ok: int
    requests_failed: int
    window_s: float
    output_tokens: int
    input_tokens: int
    tokens_counted_by: str  # usage (the server's count) | events (one per streamed text event)
    output_tokens_per_s: float
    input_tokens_per_s: float
    requests_per_s: float
    ttft: LatencyStats | None = None
    tpot: LatencyStats | None = None
    itl: LatencyStats | None = None
    e2e: LatencyStats | None = None
    output_tokens_per_s_per_user: float | None = None
    goodput_requests_per_s: float | None = None
    meets_target: bool | None = None
    failure_reasons: tuple[str, ...] = ()
    server_peak_rss_bytes: int | None = None
    server_gpu_memory_bytes: int | None = None
    energy_j: float | None = None
    energy_method: str | None = None
    energy_note: str = ""
    generator_cpu_fraction: float | None = None  # the load generator's CPU time / window
    max_send_lag_s: float | None = None  # Poisson: the longest wait for a free slot
    samples: tuple[RequestSample, ...] = ()

    @property
    def label(self) -> str:
        if self.profile == "poisson":
            return f"{self.rate_per_s:g} req/s"
        return f"concurrency {self.concurrency}"

    @property
    def energy_per_mtok_j(self) -> float | None:
        """Joules per million output tokens (None without a reading)."""
        if self.energy_j is None or not self.output_tokens:
            return None
        return self.energy_j / self.output_tokens * 1e6


@dataclass(frozen=True)
class ServingRecord:
    """One engine serving one model on one device, under a sweep of load levels."""

    cell: str
    engine: str  # llama.cpp | transformers | vllm | endpoint
    engine_version: str
    device: str  # cpu, cuda:0, ... or "remote" for an endpoint
    device_name: str
    model: str  # catalog key, file or folder, or the endpoint's model name
    model_name: str
    weights_source: str  # random-init | file | remote
    quantization: str  # f16, q8_0, q4_K_M (GGUF) | fp32, bf16 (torch) | "" when unknown
    api: str  # completions | chat
    prompt_tokens: int
    output_tokens: int
    target: LatencyTarget
    status: str
    reason: str = ""
    parameter_count: int | None = None
    architecture: str = ""
    context_tokens: int | None = None
    slots: int | None = None  # parallel sequences the server was started with
    levels: tuple[ServingLevel, ...] = ()
    stopped_by: str = ""  # why the sweep ended
    method: str = ""  # how the figures were taken, in words
    server_command: tuple[str, ...] = ()  # the server's command line (never a key)
    server_log: str = ""
    server_start_s: float | None = None  # start -> ready
    weights_bytes: int | None = None
    notes: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in SERVING_STATUSES:
            raise ValueError(f"unknown serving status {self.status!r}")

    def best_at_target(self) -> ServingLevel | None:
        """The level with the highest output tokens/s among those meeting the target (every
        level when there is no target); None when none does."""
        meeting = [lv for lv in self.levels if lv.requests_ok and lv.meets_target is not False]
        return max(meeting, key=lambda lv: lv.output_tokens_per_s, default=None)
