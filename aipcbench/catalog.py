"""The cited catalogs: cloud offers, local hardware presets, device specs, electricity.

Every hard-coded figure aipcbench uses (a peak FLOP/s, a TDP, a price, a grid intensity) lives
in a CSV row under ``aipcbench/catalogs/`` with its ``source`` and ``as_of`` date, never in code.
Each file starts with a line ``# aipcbench-catalog NAME vVERSION [key=value ...]``.

Loading is all-or-nothing: a malformed row (missing, negative or non-numeric number, unknown
currency or unit, duplicate key) raises a ``DataError`` naming the file, line and field, and no
partial catalog is returned. User files given with ``--catalog`` add or replace rows by key; a
SkyPilot ``vms.csv`` (v7/v8 columns) is accepted as a cloud-offer file.

This module imports no torch: costs and reports are computed on machines without it.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from aipcbench.errors import DataError

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"
SUPPORTED_VERSION = 1
HEADER = re.compile(r"^#\s*aipcbench-catalog\s+(?P<name>[a-z_]+)\s+v(?P<version>\d+)(?P<rest>.*)$")
SKYPILOT_COLUMNS = {
    "InstanceType",
    "AcceleratorName",
    "AcceleratorCount",
    "vCPUs",
    "MemoryGiB",
    "Price",
    "SpotPrice",
    "Region",
}


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


# catalog name -> (row class, key fields, fields that must be numbers, allowed units/currencies)
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
}
ALLOWED = {"currency": {"USD"}, "unit": {"USD/kWh", "gCO2e/kWh"}}


def _number(path: Path, line: int, field: str, text: str, required: bool) -> float | None:
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
    return value


def parse_catalog(path: Path, text: str) -> tuple[str, dict[str, str], list[Any]]:
    """Parse one catalog file's text: (name, header options, rows). All or nothing."""
    try:
        return _parse_catalog(path, text)
    except csv.Error as exc:  # NUL bytes, broken quoting
        raise DataError(f"{path}: not readable as CSV: {exc}") from None


def _parse_catalog(path: Path, text: str) -> tuple[str, dict[str, str], list[Any]]:
    first, _, body = text.partition("\n")
    header = HEADER.match(first.strip())
    if header is None:
        if SKYPILOT_COLUMNS <= set(first.strip().split(",")):
            return "cloud_offers", {}, parse_skypilot(path, text)
        raise DataError(
            f"{path}:1: not an aipcbench catalog (first line must be "
            "'# aipcbench-catalog NAME vN') nor a SkyPilot vms.csv"
        )
    name, version = header["name"], int(header["version"])
    if name not in SCHEMAS:
        raise DataError(f"{path}:1: unknown catalog '{name}' (known: {', '.join(SCHEMAS)})")
    if version > SUPPORTED_VERSION:
        raise DataError(f"{path}:1: catalog version {version} is newer than this aipcbench reads")
    options = dict(
        item.split("=", 1) for item in re.findall(r"\S+=[^=]+?(?=\s+\S+=|$)", header["rest"].strip())
    )
    row_class, key_fields, numeric = SCHEMAS[name]
    reader = csv.DictReader(io.StringIO(body))
    known = {f.name for f in fields(row_class)}
    columns = set(reader.fieldnames or ())
    missing = [f.name for f in fields(row_class) if f.default is MISSING and f.name not in columns]
    if missing:
        raise DataError(f"{path}:2: missing column(s): {', '.join(missing)}")
    rows, seen = [], {}
    for number, raw in enumerate(reader, start=3):
        if None in raw:
            raise DataError(f"{path}:{number}: more values than columns")
        values: dict[str, Any] = {}
        for field in known & columns:
            text = raw.get(field) or ""
            if field in numeric:
                values[field] = _number(path, number, field, text, numeric[field])
            else:
                values[field] = text.strip()
        for field, allowed in ALLOWED.items():
            if field in raw and raw[field].strip() not in allowed:
                raise DataError(
                    f"{path}:{number}: field '{field}': unknown {field} "
                    f"{raw[field]!r} (allowed: {', '.join(sorted(allowed))})"
                )
        for field in key_fields:
            if not values.get(field):
                raise DataError(f"{path}:{number}: field '{field}' is missing")
        if "gpu_count" in values:
            if values["gpu_count"] < 1 or values["gpu_count"] != int(values["gpu_count"]):
                raise DataError(f"{path}:{number}: field 'gpu_count' must be a whole number >= 1")
            values["gpu_count"] = int(values["gpu_count"])
        key = tuple(values[f] for f in key_fields)
        if key in seen:
            raise DataError(f"{path}:{number}: duplicate key {' / '.join(key)} (first on line {seen[key]})")
        seen[key] = number
        rows.append(row_class(**values))
    return name, options, rows


def parse_skypilot(path: Path, text: str) -> list[CloudOffer]:
    """A SkyPilot ``vms.csv`` as cloud offers; rows without an accelerator or price are skipped.

    SkyPilot catalogs carry no billing terms: per-second billing with a 60 s minimum is assumed
    and said in each row's notes. The provider is taken from the file's folder name.
    """
    reader = csv.DictReader(io.StringIO(text))
    provider = path.parent.name if path.parent.name not in ("", ".") else "skypilot"
    offers, seen = [], set()
    for number, raw in enumerate(reader, start=2):
        if not raw.get("AcceleratorName") or not (raw.get("Price") or "").strip():
            continue
        count = _number(path, number, "AcceleratorCount", raw["AcceleratorCount"], True)
        price = _number(path, number, "Price", raw["Price"], True)
        spot = _number(path, number, "SpotPrice", raw.get("SpotPrice", ""), False)
        if count < 1 or count != int(count):
            raise DataError(f"{path}:{number}: field 'AcceleratorCount' must be a whole number >= 1")
        key = (provider, raw["InstanceType"], raw["Region"])
        if key in seen:
            continue  # SkyPilot lists one row per availability zone
        seen.add(key)
        offers.append(
            CloudOffer(
                provider=provider,
                instance_type=raw["InstanceType"],
                accelerator=normalise_accelerator(raw["AcceleratorName"]),
                gpu_model=raw["AcceleratorName"],
                gpu_count=int(count),
                region=raw["Region"],
                on_demand_per_hour=price,
                spot_per_hour_low=spot,
                spot_per_hour_high=spot,
                billing_increment_s=1,
                billing_minimum_s=60,
                vcpus=_number(path, number, "vCPUs", raw.get("vCPUs", ""), False),
                ram_gib=_number(path, number, "MemoryGiB", raw.get("MemoryGiB", ""), False),
                notes="from a SkyPilot catalog; billing terms not in it: per-second, 60 s minimum assumed",
                source=str(path),
                as_of="as of the SkyPilot catalog file",
            )
        )
    return offers


SKYPILOT_NAMES = {
    "H100": "H100-SXM",
    "H100-MEGA": "H100-SXM",
    "H200": "H200",
    "A100": "A100-40GB",
    "A100-80GB": "A100-80GB",
    "L4": "L4",
    "L40S": "L40S",
    "A10G": "A10G",
    "A10": "A10",
    "T4": "T4",
    "V100": "V100",
    "RTX4090": "RTX4090",
    "RTX3090": "RTX3090",
    "B200": "B200",
}


def normalise_accelerator(name: str) -> str:
    return SKYPILOT_NAMES.get(name, name)


@dataclass(frozen=True)
class Catalog:
    cloud_offers: tuple[CloudOffer, ...]
    local_hardware: tuple[HardwarePreset, ...]
    device_specs: tuple[DeviceSpec, ...]
    electricity: tuple[ElectricityRow, ...]
    default_region: str
    files: tuple[str, ...]

    def spec(self, key: str) -> DeviceSpec | None:
        return next((s for s in self.device_specs if s.key == key), None)

    def spec_for_device_name(self, name: str) -> DeviceSpec | None:
        """The spec whose ``match`` pattern finds the device name torch reports."""
        for spec in self.device_specs:
            if spec.match and re.search(spec.match, name):
                return spec
        return None

    def preset(self, key: str) -> HardwarePreset | None:
        return next((p for p in self.local_hardware if p.key == key), None)

    def electricity_value(self, region: str, metric: str, sector: str | None = None):
        """The row for region and metric (the first sector if none is named), or None."""
        for row in self.electricity:
            if (
                row.region.lower() == region.lower()
                and row.metric == metric
                and (sector is None or row.sector == sector)
            ):
                return row
        return None

    def regions(self, metric: str) -> list[str]:
        return sorted({row.region for row in self.electricity if row.metric == metric})


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such catalog file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None


def load_catalog(overrides: list[Path] | tuple[Path, ...] = ()) -> Catalog:
    """The shipped catalogs, then each override file replacing or adding rows by key."""
    tables: dict[str, dict[Any, Any]] = {name: {} for name in SCHEMAS}
    options: dict[str, str] = {}
    files = []
    for path in [*sorted(CATALOG_DIR.glob("*.csv")), *map(Path, overrides)]:
        name, header_options, rows = parse_catalog(path, _read(path))
        _, key_fields, _ = SCHEMAS[name]
        for row in rows:
            tables[name][tuple(getattr(row, field) for field in key_fields)] = row
        options.update(header_options)
        files.append(str(path))
    return Catalog(
        cloud_offers=tuple(tables["cloud_offers"].values()),
        local_hardware=tuple(tables["local_hardware"].values()),
        device_specs=tuple(tables["device_specs"].values()),
        electricity=tuple(tables["electricity"].values()),
        default_region=options.get("default_region", "United States"),
        files=tuple(files),
    )
