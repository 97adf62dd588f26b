"""How long a step takes on hardware that was not measured: a roofline with a dispatch floor,
with its basis and a range.

    time per step = max(FLOPs / (peak x compute efficiency),
                        eager bytes / (bandwidth x memory efficiency),
                        kernel ops x per-op overhead)

FLOPs, eager bytes and kernel ops are counted once per cell on whatever device ran it (they do
not depend on the device: ``run.step_counts``); peak and bandwidth are the target's rated
figures (catalog); the efficiencies and the per-op overhead are catalog rows per device class
and dtype, each a low / central / high with its source (``catalog/data/estimator.csv``). The
largest term is the bound, named in the basis ("dispatch-bound: 8,377 ops per step x 4-20 us").
Measurements calibrate it: the median ratio of measured to estimated time over the cells
measured on devices of the target's class scales the estimate (``calibration``).

Pure and torch-free; every function is pinned to hand-computed cases in tests/test_estimate.py.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from aipcbench.catalog import Catalog, DeviceSpec
from aipcbench.numbers import si
from aipcbench.results.device_facts import DeviceFacts
from aipcbench.results.record import FLOAT_DTYPES, QUANTIZED_DTYPES, CellRecord

BOUNDS = ("compute", "memory", "dispatch")


@dataclass(frozen=True)
class Span:
    """A low / central / high triple (of an efficiency, an overhead or a time)."""

    low: float
    central: float
    high: float

    def scaled(self, factor: float) -> Span:
        return Span(self.low * factor, self.central * factor, self.high * factor)


@dataclass(frozen=True)
class Target:
    """A device to estimate for: rated peaks per dtype and memory bandwidth, and its class."""

    key: str
    name: str
    device_class: str  # gpu | soc | cpu: which catalog constants apply
    peak_flop_per_s: dict[str, float]
    bandwidth_bytes_per_s: float | None
    # TF32 tensor cores (Ampere and later): where cuDNN runs fp32 convolutions by default
    tf32_flop_per_s: float | None = None

    @classmethod
    def from_spec(cls, spec: DeviceSpec) -> Target:
        peaks = {d: spec.peak_tflops(d) * 1e12 for d in FLOAT_DTYPES if spec.peak_tflops(d)}
        bandwidth = spec.memory_bw_gbps * 1e9 if spec.memory_bw_gbps else None
        tf32 = spec.tf32_tflops * 1e12 if spec.tf32_tflops and spec.kind in ("gpu", None, "") else None
        return cls(spec.key, spec.name, spec.kind or "gpu", peaks, bandwidth, tf32)

    @classmethod
    def from_facts(cls, key: str, name: str, kind: str, facts: DeviceFacts) -> Target:
        """A measured device without a catalog row (most CPUs): its rated peaks (formula) and the
        bandwidth its probe measured."""
        peaks = {d: p.flop_per_s for d, p in facts.rated_peaks.items() if p.flop_per_s}
        device_class = "cpu" if kind == "cpu" else ("soc" if kind == "mps" else "gpu")
        return cls(
            key,
            name,
            device_class,
            peaks,
            facts.rated_bandwidth_bytes_per_s or facts.measured_bandwidth_bytes_per_s,
        )


@dataclass(frozen=True)
class Constants:
    compute_efficiency: Span
    memory_efficiency: Span
    per_op_overhead_s: Span
    sources: tuple[str, ...]
    # fp32 convolutions on TF32 tensor cores reach a tensor-core share of their peak, not the
    # CUDA-core share of ``compute_efficiency`` (None: the same as compute_efficiency)
    tf32_efficiency: Span | None = None


@dataclass(frozen=True)
class Demand:
    """What one step asks of a device (from a record's counts)."""

    flop_count: float | None
    kernel_ops: int | None
    eager_bytes: float | None
    dtype: str
    conv_flop_count: float = 0.0  # of flop_count: convolutions (forward and backward)

    @classmethod
    def of(cls, record: CellRecord) -> Demand | None:
        """None without op and byte counts (files of aipcbench < 0.3): FLOPs alone would hide
        the memory and dispatch floors, and promise a tiny step a speed-up it cannot have."""
        if record.demand is None:
            return None
        flops = record.flops.count_per_step if record.flops else None
        demand = record.demand
        conv = float(demand.conv_flop_count or 0)
        return cls(flops or None, demand.kernel_ops, demand.eager_bytes, record.dtype, conv)


@dataclass(frozen=True)
class StepEstimate:
    seconds: Span  # per step
    bound: str
    terms: dict[str, Span]
    basis: str
    calibration: float = 1.0  # measured / estimated on the target's class; 1.0 = uncalibrated
    calibration_basis: str = ""

    def per_run(self, steps: float) -> Span:
        return self.seconds.scaled(steps)


# Weight-quantized cells store int8/int4 weights, while their bytes (the decode bound) are
# already the quantized weights' in the step demand. Their arithmetic: GPU weight-only kernels
# dequantize into 16-bit tensor-core products, so the bf16 peak (then fp16, fp32); the CPU
# kernels (fbgemm int8, the int4 packing matmul) run at about the fp32 FMA rate, so fp32 there
# (on a 2-core AVX2 EPYC, mlp:infer int8 took 17 s per run against 36 s in fp32).


def arithmetic_dtypes(dtype: str, device_class: str) -> tuple[str, ...]:
    """The dtypes whose peak and constants stand for ``dtype``'s arithmetic, best first."""
    if dtype not in QUANTIZED_DTYPES:
        return (dtype,)
    return ("fp32",) if device_class == "cpu" else ("bf16", "fp16", "fp32")


def constants_for(catalog: Catalog, device_class: str, dtype: str) -> Constants | None:
    """The catalog's efficiencies and overhead for a class and dtype (a ``*`` row for any dtype)."""
    dtype = arithmetic_dtypes(dtype, device_class)[0]
    found, sources = {}, []
    for quantity in ("compute_efficiency", "memory_efficiency", "per_op_overhead_s"):
        row = catalog.estimator_row(device_class, quantity, dtype)
        if row is None:
            return None
        found[quantity] = Span(row.low, row.central, row.high)
        sources.append(f"{quantity} {row.low:g}-{row.high:g} ({row.source}, {row.as_of})")
    tensor = catalog.estimator_row(device_class, "compute_efficiency", "bf16") if dtype == "fp32" else None
    if tensor is not None:
        sources.append(f"tf32 convolutions at the bf16 tensor-core efficiency {tensor.low:g}-{tensor.high:g}")
    return Constants(
        found["compute_efficiency"],
        found["memory_efficiency"],
        found["per_op_overhead_s"],
        tuple(sources),
        Span(tensor.low, tensor.central, tensor.high) if tensor else None,
    )


def compute_parts(demand: Demand, target: Target, peak: float) -> tuple[float, float, str]:
    """(seconds at the dtype's peak, seconds at the TF32 peak, the rate in words): fp32
    convolutions run on TF32 tensor cores on GPUs that have them (cuDNN's default since
    PyTorch 1.7; fp32 matmuls stay on CUDA cores), everything else at the dtype's peak."""
    flops = demand.flop_count or 0.0
    conv = min(demand.conv_flop_count, flops)
    if demand.dtype != "fp32" or not conv or not target.tf32_flop_per_s:
        return flops / peak, 0.0, f"{si(peak, 'FLOP/s')} {demand.dtype}"
    words = f"{si(target.tf32_flop_per_s, 'FLOP/s')} TF32 ({conv / flops:.0%} convolutions), else fp32"
    return (flops - conv) / peak, conv / target.tf32_flop_per_s, words


def compute_span(demand: Demand, target: Target, peak: float, constants: Constants) -> tuple[Span, str]:
    """The compute term: each part of the FLOPs at its peak over its efficiency."""
    plain, tf32, rate = compute_parts(demand, target, peak)
    eff, tensor = constants.compute_efficiency, constants.tf32_efficiency or constants.compute_efficiency
    span = Span(*(plain / getattr(eff, p) + tf32 / getattr(tensor, p) for p in ("high", "central", "low")))
    share = tensor if tf32 > plain else eff
    return span, f"{share.low:.0%}-{share.high:.0%} of {rate}"


def estimate_step(demand: Demand, target: Target, constants: Constants) -> StepEstimate | None:
    """The roofline with a dispatch floor for one step; None if no term can be computed."""
    terms: dict[str, Span] = {}
    words: dict[str, str] = {}
    peak = next(
        (
            target.peak_flop_per_s[d]
            for d in arithmetic_dtypes(demand.dtype, target.device_class)
            if target.peak_flop_per_s.get(d)
        ),
        None,
    )
    if demand.flop_count and peak:
        terms["compute"], rate = compute_span(demand, target, peak, constants)
        words["compute"] = f"{si(demand.flop_count, 'FLOP')} per step at {rate}"
    if demand.eager_bytes and target.bandwidth_bytes_per_s:
        eff, bandwidth = constants.memory_efficiency, target.bandwidth_bytes_per_s
        terms["memory"] = Span(
            demand.eager_bytes / (bandwidth * eff.high),
            demand.eager_bytes / (bandwidth * eff.central),
            demand.eager_bytes / (bandwidth * eff.low),
        )
        share = f"{eff.low:.0%}-{eff.high:.0%}"
        words["memory"] = f"{si(demand.eager_bytes, 'B')} per step at {share} of {si(bandwidth, 'B/s')}"
    if demand.kernel_ops:
        terms["dispatch"] = constants.per_op_overhead_s.scaled(demand.kernel_ops)
        per_op = constants.per_op_overhead_s
        words["dispatch"] = (
            f"{demand.kernel_ops:,} ops per step x {per_op.low * 1e6:.3g}-{per_op.high * 1e6:.3g} us"
        )
    if not terms:
        return None
    bound = max(terms, key=lambda name: terms[name].central)
    seconds = Span(*(max(getattr(t, part) for t in terms.values()) for part in ("low", "central", "high")))
    others = "; ".join(f"{name} {words[name]}" for name in BOUNDS if name in words and name != bound)
    missing = [name for name in BOUNDS if name not in terms]
    basis = f"{bound}-bound: {words[bound]}" + (f" (also {others})" if others else "")
    if missing:
        basis += f"; no {'/'.join(missing)} term (not counted in this results file)"
    return StepEstimate(seconds, bound, terms, basis)


@dataclass(frozen=True)
class Observation:
    """A measured step time with the estimate for the same device: one calibration point."""

    device_class: str
    where: str  # host and device, so a device can be left out of its own calibration
    measured_s: float
    estimated_s: float


def calibration(
    observations: Iterable[Observation], device_class: str, exclude: str = ""
) -> tuple[float, str]:
    """Median of measured / estimated over the class's observations (1.0 and "" if none)."""
    ratios, places = [], set()
    for obs in observations:
        if obs.device_class == device_class and obs.where != exclude and obs.estimated_s > 0:
            ratios.append(obs.measured_s / obs.estimated_s)
            places.add(obs.where)
    if not ratios:
        return 1.0, ""
    factor = statistics.median(ratios)
    return (
        factor,
        f"calibrated x{factor:.2f} on {len(ratios)} cell(s) measured on {', '.join(sorted(places))}",
    )


def calibrated(estimate: StepEstimate, factor: float, basis: str) -> StepEstimate:
    if not basis:
        return estimate
    return StepEstimate(
        estimate.seconds.scaled(factor),
        estimate.bound,
        estimate.terms,
        f"{estimate.basis}; {basis}",
        factor,
        basis,
    )
