"""How many output tokens per second a device serves a model at, when nobody measured it there:
a batched-decode model with a range and its bound.

A serving engine decodes one token for each of the B sequences in flight per step:

    step(B)    = max(bytes(B) / (bandwidth x memory eff.), flops(B) / (peak x compute eff.)) + overhead
    bytes(B)   = weights (read once per step, shared by the batch) + B x KV cache per sequence
    flops(B)   = B x (2 x parameters + attention over the context)
    prefill    = max(weights / (bandwidth x eff.), 2 x parameters x prompt / (peak x eff.)) + overhead
    tokens/s   = B x output / (output x step(B) + B x prefill)     (prefills interleaved with decode)
    TPOT       = step(B) + B x prefill / output,   TTFT = prefill + step(B)

B is capped by the memory left for the KV cache after the weights and the runtime's overhead
(16-bit cache, context = prompt + output per sequence), and chosen as the highest-throughput
B (1, 2, 4, ... or the cap) whose TTFT and TPOT keep the latency target. Constants per device
class: memory and compute efficiency and the engine's fixed cost per step, each low / central /
high with its source: the priors of ``catalog/data/estimator.csv``, calibrated on published
measurements where they cover the class (``cost.published_serving``). Pure; pinned to hand calculations in
tests/test_serving_cost.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog, DeviceSpec
from aipcbench.catalog.model_memory import GIB, OVERHEAD_BYTES, WEIGHT_BYTES
from aipcbench.catalog.rows import ModelConfig
from aipcbench.cost.estimate import Span

# Bits per weight of each format: GGUF's from llama.cpp's quantize README (Llama-3.1-8B table:
# F16 16.0005, Q8_0 8.5008, Q4_K_M 4.8944); torch formats from the fit formula's bytes (int4: a
# 16-bit scale and zero point per group of 128, what the int4 kernels store).
BITS_PER_WEIGHT = {
    "f16": 16.0005,
    "q8_0": 8.5008,
    "q4_K_M": 4.8944,
    **{dtype: 8 * size for dtype, size in WEIGHT_BYTES.items()},
}
KV_BYTES = 2.0  # a 16-bit KV cache, what llama.cpp, vLLM and transformers keep by default
USABLE_MEMORY = 0.9  # vLLM's default gpu_memory_utilization
ENDS = ("low", "central", "high")  # low: the pessimistic constants (least tokens/s)


@dataclass(frozen=True)
class ServedModel:
    """A model at a quantization, with the lengths of the requests it serves."""

    parameters: float
    layers: int
    kv_heads: int
    head_dim: int
    attention_width: int  # heads x head_dim
    quantization: str
    prompt_tokens: int
    output_tokens: int

    @classmethod
    def of(cls, model: ModelConfig, quantization: str, prompt: int, output: int) -> ServedModel:
        return cls(
            model.parameters,
            int(model.layers),
            int(model.kv_heads),
            int(model.head_dim),
            int(model.heads * model.head_dim),
            quantization,
            prompt,
            output,
        )

    @property
    def weight_bytes(self) -> float:
        return self.parameters * BITS_PER_WEIGHT[self.quantization] / 8

    @property
    def kv_bytes_per_token(self) -> float:
        return 2 * self.layers * self.kv_heads * self.head_dim * KV_BYTES

    def step_bytes(self, batch: int) -> float:
        mean_context = self.prompt_tokens + self.output_tokens / 2
        return self.weight_bytes + batch * self.kv_bytes_per_token * mean_context

    def step_flops(self, batch: int) -> float:
        mean_context = self.prompt_tokens + self.output_tokens / 2
        return batch * (2 * self.parameters + 4 * self.layers * self.attention_width * mean_context)

    def prefill_flops(self) -> float:
        p = self.prompt_tokens
        return 2 * self.parameters * p + 2 * self.layers * self.attention_width * p * p


@dataclass(frozen=True)
class Device:
    key: str
    name: str
    device_class: str
    memory_bytes: float | None
    bandwidth_bytes_per_s: float
    peak_flop_per_s: float

    @classmethod
    def from_spec(cls, spec: DeviceSpec, quantization: str) -> Device | None:
        arithmetic = "fp32" if (spec.kind == "cpu" or quantization == "fp32") else "bf16"
        peak = spec.peak_tflops(arithmetic) or spec.peak_tflops("fp16") or spec.peak_tflops("fp32")
        if not spec.memory_bw_gbps or not peak:
            return None
        memory = spec.memory_gb * 1e9 if spec.memory_gb else None
        return cls(spec.key, spec.name, spec.kind or "gpu", memory, spec.memory_bw_gbps * 1e9, peak * 1e12)


@dataclass(frozen=True)
class Constants:
    memory_efficiency: Span
    compute_efficiency: Span
    step_overhead_s: Span
    sources: tuple[str, ...]


def constants(catalog: Catalog, device_class: str, quantization: str) -> Constants | None:
    dtype = "fp32" if device_class == "cpu" or quantization == "fp32" else "bf16"
    rows = [
        catalog.estimator_row(device_class, q, dtype)
        for q in ("memory_efficiency", "compute_efficiency", "serving_step_overhead_s")
    ]
    if any(row is None for row in rows):
        return None
    spans = [Span(r.low, r.central, r.high) for r in rows]
    sources = tuple(f"{r.quantity} {r.low:g}-{r.high:g} ({r.source})" for r in rows)
    return Constants(*spans, sources)


@dataclass(frozen=True)
class ServingEstimate:
    device: str
    batch: int  # sequences in flight at the chosen point
    max_batch: int  # what the memory holds
    tokens_per_s: Span  # aggregate output tokens/s (low: pessimistic constants)
    ttft_s: Span
    tpot_s: Span
    bound: str  # memory | compute (the step's bound at the chosen batch)
    limited_by: str  # latency target | memory capacity | throughput peak
    basis: str


def at_batch(
    model: ServedModel, device: Device, c: Constants, batch: int, end: str
) -> tuple[float, float, float]:
    """(tokens/s, TTFT, TPOT) at ``batch`` with one end of the constants."""
    pick = {
        "low": lambda s: (s.low, s.high),
        "central": lambda s: (s.central, s.central),
        "high": lambda s: (s.high, s.low),
    }[end]
    mem_eff, _ = pick(c.memory_efficiency)
    comp_eff, _ = pick(c.compute_efficiency)
    _, overhead = pick(c.step_overhead_s)
    bandwidth, peak = device.bandwidth_bytes_per_s * mem_eff, device.peak_flop_per_s * comp_eff
    step = max(model.step_bytes(batch) / bandwidth, model.step_flops(batch) / peak) + overhead
    prefill = max(model.weight_bytes / bandwidth, model.prefill_flops() / peak) + overhead
    o = model.output_tokens
    return batch * o / (o * step + batch * prefill), prefill + step, step + batch * prefill / o


def step_bound(model: ServedModel, device: Device, c: Constants, batch: int) -> str:
    """What bounds a decode step at ``batch`` with the central constants: memory or compute."""
    memory = model.step_bytes(batch) / (device.bandwidth_bytes_per_s * c.memory_efficiency.central)
    compute = model.step_flops(batch) / (device.peak_flop_per_s * c.compute_efficiency.central)
    return "memory" if memory >= compute else "compute"


def max_batch(model: ServedModel, device: Device) -> int:
    """Sequences the memory holds beside the weights (0 if the weights do not fit)."""
    if device.memory_bytes is None:
        return 256
    free = device.memory_bytes * USABLE_MEMORY - model.weight_bytes - OVERHEAD_BYTES
    per_sequence = model.kv_bytes_per_token * (model.prompt_tokens + model.output_tokens)
    return max(0, min(int(free // per_sequence), 4096))


def estimate_serving(
    model: ServedModel,
    device: Device,
    c: Constants,
    ttft_target_s: float | None,
    tpot_target_s: float | None = None,
) -> ServingEstimate | None:
    """The best batch at the target, or None when the weights do not fit the device."""
    cap = max_batch(model, device)
    if cap < 1:
        return None
    batches = sorted({*(2**i for i in range(13) if 2**i <= cap), cap})
    best, limited = None, "throughput peak"
    for batch in batches:
        tokens, ttft, tpot = at_batch(model, device, c, batch, "central")
        if (ttft_target_s is not None and ttft > ttft_target_s) or (
            tpot_target_s is not None and tpot > tpot_target_s
        ):
            limited = "latency target"
            break
        if best is None or tokens > best[1]:
            best = (batch, tokens)
    if best is None:
        best, limited = (1, at_batch(model, device, c, 1, "central")[0]), "latency target (missed at batch 1)"
    batch = best[0]
    if batch == cap and limited == "throughput peak":
        limited = "memory capacity"
    values = {end: at_batch(model, device, c, batch, end) for end in ENDS}
    bound = step_bound(model, device, c, batch)
    gib = model.weight_bytes / GIB
    basis = (
        f"batched decode at {batch} sequences ({limited}; memory holds {cap}): {bound}-bound steps, "
        f"{gib:.1f} GiB of {model.quantization} weights read once per step, "
        f"{c.step_overhead_s.low * 1e3:g}-{c.step_overhead_s.high * 1e3:g} ms fixed per step"
    )
    return ServingEstimate(
        device=device.key,
        batch=batch,
        max_batch=cap,
        tokens_per_s=Span(*(values[e][0] for e in ENDS)),
        ttft_s=Span(*(values[e][1] for e in ("high", "central", "low"))),
        tpot_s=Span(*(values[e][2] for e in ("high", "central", "low"))),
        bound=bound,
        limited_by=limited,
        basis=basis,
    )
