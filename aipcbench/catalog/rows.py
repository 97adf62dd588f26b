"""The row types of the cited catalogs, and the schema each catalog file is checked against.

Every hard-coded figure aipcbench uses (a peak FLOP/s, a TDP, a price, a grid intensity) lives
in a CSV row under ``aipcbench/catalog/data/`` with its ``source`` and ``as_of`` date, never in
code. These dataclasses are what a row becomes once parsed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from aipcbench.catalog.published_rows import PUBLISHED_SCHEMAS
from aipcbench.catalog.storage_rows import STORAGE_SCHEMAS
from aipcbench.errors import DataError


@dataclass(frozen=True)
class CloudOffer:
    provider: str
    instance_type: str
    accelerator: str
    gpu_model: str
    gpu_count: int
    region: str
    on_demand_per_hour: float
    spot_per_hour_low: float | None
    spot_per_hour_high: float | None
    billing_increment_s: float
    billing_minimum_s: float
    gpu_memory_gb: float | None = None
    vcpus: float | None = None
    ram_gib: float | None = None
    notes: str = ""
    source: str = ""
    as_of: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.provider, self.instance_type, self.region)

    @property
    def label(self) -> str:
        return f"{self.provider} {self.instance_type} ({self.gpu_count}x {self.accelerator})"


@dataclass(frozen=True)
class HardwarePreset:
    key: str
    name: str
    category: str
    price_usd: float
    price_type: str
    power_w: float | None
    power_basis: str
    accelerator: str
    memory_gb: float | None = None
    notes: str = ""
    source: str = ""
    as_of: str = ""


@dataclass(frozen=True)
class DeviceSpec:
    key: str
    name: str
    match: str
    kind: str
    fp32_tflops: float | None
    tf32_tflops: float | None
    bf16_tflops: float | None
    fp16_tflops: float | None
    memory_gb: float | None
    memory_bw_gbps: float | None
    tdp_w: float | None
    basis: str = ""
    notes: str = ""
    source: str = ""
    as_of: str = ""

    def peak_tflops(self, dtype: str) -> float | None:
        """Dense peak for a dtype; fp32 work may use TF32 tensor cores only if enabled, so fp32
        is the plain FP32 rate (what PyTorch uses by default)."""
        return {"fp32": self.fp32_tflops, "bf16": self.bf16_tflops, "fp16": self.fp16_tflops}.get(dtype)


@dataclass(frozen=True)
class ElectricityRow:
    region: str
    metric: str  # price | carbon
    sector: str
    value: float
    unit: str
    basis: str = ""
    fx_assumption: str = ""
    source: str = ""
    as_of: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.region, self.metric, self.sector)


@dataclass(frozen=True)
class EstimatorRow:
    """One constant of the run-time estimator (``cost.estimate``) for a device class: an
    efficiency (a fraction of a rated peak) or a per-op overhead (seconds), low/central/high."""

    device_class: str  # gpu | soc | cpu
    quantity: str  # compute_efficiency | memory_efficiency | per_op_overhead_s | serving_step_overhead_s
    dtype: str  # fp32 | bf16 | fp16 | * (any)
    low: float
    central: float
    high: float
    meaning: str = ""
    basis: str = ""
    source: str = ""
    as_of: str = ""

    def __post_init__(self) -> None:
        if self.quantity not in ESTIMATOR_QUANTITIES:
            raise ValueError(
                f"field 'quantity': unknown {self.quantity!r} (known: {', '.join(ESTIMATOR_QUANTITIES)})"
            )
        if not 0 < self.low <= self.central <= self.high:
            raise ValueError("fields 'low', 'central', 'high' must satisfy 0 < low <= central <= high")
        if self.quantity.endswith("efficiency") and self.high > 1:
            raise ValueError("field 'high': an efficiency is a fraction of a peak, at most 1")


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a causal language model: what its memory needs follow from."""

    key: str
    name: str
    parameters: float
    layers: float
    hidden: float
    heads: float
    kv_heads: float
    head_dim: float
    intermediate: float
    vocab: float
    max_context: float
    # How to build it with random weights: a transformers model family, and whether the output
    # projection shares the token embedding (tied weights are counted once in ``parameters``).
    architecture: str = "llama"
    tie_embeddings: str = "no"
    notes: str = ""
    source: str = ""
    as_of: str = ""


@dataclass(frozen=True)
class ApiPrice:
    """A hosted model's list price per million tokens: what renting the *answer*, not the
    GPU, costs. ``parameters_b`` is blank where the provider does not disclose the size."""

    key: str
    provider: str
    model: str
    open_weights: str  # yes | no
    parameters_b: float | None
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    currency: str = "USD"
    notes: str = ""
    source: str = ""
    as_of: str = ""


ESTIMATOR_QUANTITIES = (
    "compute_efficiency",
    "memory_efficiency",
    "per_op_overhead_s",
    "serving_step_overhead_s",
)

# catalog name -> (row class, key fields, fields that must be numbers, allowed units/currencies)
# a model shape's numbers (model_configs.csv), every one required and above 0
MODEL_DIMENSIONS = (
    "parameters",
    "layers",
    "hidden",
    "heads",
    "kv_heads",
    "head_dim",
    "intermediate",
    "vocab",
    "max_context",
)
SCHEMAS: dict[str, tuple[type, tuple[str, ...], dict[str, bool]]] = {
    "cloud_offers": (
        CloudOffer,
        ("provider", "instance_type", "region"),
        {
            "gpu_count": True,
            "on_demand_per_hour": True,
            "spot_per_hour_low": False,
            "spot_per_hour_high": False,
            "billing_increment_s": True,
            "billing_minimum_s": True,
            "gpu_memory_gb": False,
            "vcpus": False,
            "ram_gib": False,
        },
    ),
    "local_hardware": (HardwarePreset, ("key",), {"price_usd": True, "power_w": False, "memory_gb": False}),
    "device_specs": (
        DeviceSpec,
        ("key",),
        {
            "fp32_tflops": False,
            "tf32_tflops": False,
            "bf16_tflops": False,
            "fp16_tflops": False,
            "memory_gb": False,
            "memory_bw_gbps": False,
            "tdp_w": False,
        },
    ),
    "electricity": (ElectricityRow, ("region", "metric", "sector"), {"value": True}),
    "api_prices": (
        ApiPrice,
        ("key",),
        {"parameters_b": False, "input_usd_per_mtok": True, "output_usd_per_mtok": True},
    ),
    "model_configs": (
        ModelConfig,
        ("key",),
        dict.fromkeys(MODEL_DIMENSIONS, True),
    ),
    "estimator": (
        EstimatorRow,
        ("device_class", "quantity", "dtype"),
        {"low": True, "central": True, "high": True},
    ),
    **PUBLISHED_SCHEMAS,
    **STORAGE_SCHEMAS,
}
ALLOWED = {
    "currency": {"USD"},
    "unit": {"USD/kWh", "gCO2e/kWh"},
    "architecture": {"gpt2", "llama", "qwen2"},
    "tie_embeddings": {"yes", "no"},
    "open_weights": {"yes", "no"},
}


MAX_CATALOG_NUMBER = 1e18  # above every price, peak, size and counted step; far below overflow
# fields something is divided by (an hourly price turned into a spot share, a billing increment,
# a model's widths) or that no real row has at 0: a 0 there is a typo, refused where it is read
ABOVE_ZERO = {
    "gpu_count",
    "on_demand_per_hour",
    "billing_increment_s",
    "price_usd",
    "output_usd_per_mtok",
    *MODEL_DIMENSIONS,
}


def number_field(path: Path, line: int, field: str, text: str, required: bool) -> float | None:
    """A numeric cell: finite, >= 0 and at most 1e18 (above 0 for ``ABOVE_ZERO``); empty is None
    unless ``required``."""
    text = (text or "").strip()
    if not text:
        if required:
            raise DataError(f"{path}:{line}: field '{field}' is missing")
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}:{line}: field '{field}' is not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise DataError(f"{path}:{line}: field '{field}' must be a finite number >= 0, got {text}")
    if value == 0 and field in ABOVE_ZERO:
        raise DataError(f"{path}:{line}: field '{field}' must be above 0, got {text}")
    if value > MAX_CATALOG_NUMBER:
        raise DataError(f"{path}:{line}: field '{field}' is out of range ({value:g}, at most 1e18)")
    return value
