"""The merged catalog: the shipped files, then each ``--catalog`` file adding or replacing rows.

This part imports no torch: costs and reports are computed on machines without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.catalog.match import name_matches
from aipcbench.catalog.parse import parse_catalog
from aipcbench.catalog.published_rows import PublishedDemand, PublishedRow
from aipcbench.catalog.rows import (
    SCHEMAS,
    ApiPrice,
    CloudOffer,
    DeviceSpec,
    ElectricityRow,
    EstimatorRow,
    HardwarePreset,
    ModelConfig,
)
from aipcbench.catalog.storage_rows import StoragePrice
from aipcbench.errors import DataError
from aipcbench.files import MAX_TABLE_BYTES, UnreadableFile, read_text

CATALOG_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Catalog:
    cloud_offers: tuple[CloudOffer, ...]
    local_hardware: tuple[HardwarePreset, ...]
    device_specs: tuple[DeviceSpec, ...]
    electricity: tuple[ElectricityRow, ...]
    estimator: tuple[EstimatorRow, ...]
    model_configs: tuple[ModelConfig, ...]
    api_prices: tuple[ApiPrice, ...]
    default_region: str
    files: tuple[str, ...]
    published: tuple[PublishedRow, ...] = ()
    published_demand: tuple[PublishedDemand, ...] = ()
    storage_prices: tuple[StoragePrice, ...] = ()

    def spec(self, key: str) -> DeviceSpec | None:
        return next((s for s in self.device_specs if s.key == key), None)

    def spec_for_device_name(self, name: str) -> DeviceSpec | None:
        """The spec whose ``match`` pattern finds the device name torch reports."""
        for spec in self.device_specs:
            if spec.match and name_matches(spec.match, name):
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

    def estimator_row(self, device_class: str, quantity: str, dtype: str) -> EstimatorRow | None:
        """The estimator constant for a class and dtype; a ``*`` row applies to every dtype."""
        for wanted in (dtype, "*"):
            for row in self.estimator:
                if (row.device_class, row.quantity, row.dtype) == (device_class, quantity, wanted):
                    return row
        return None

    def regions(self, metric: str) -> list[str]:
        return sorted({row.region for row in self.electricity if row.metric == metric})


def _read(path: Path) -> str:
    try:
        return read_text(path, MAX_TABLE_BYTES)
    except UnreadableFile as exc:
        if str(exc) == "no such file":
            raise DataError(f"{path}: no such catalog file") from None
        raise DataError(f"{path}: cannot read catalog: {exc}") from None


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
        estimator=tuple(tables["estimator"].values()),
        model_configs=tuple(tables["model_configs"].values()),
        api_prices=tuple(tables["api_prices"].values()),
        default_region=options.get("default_region", "United States"),
        files=tuple(files),
        published=tuple(tables["published"].values()),
        published_demand=tuple(tables["published_demand"].values()),
        storage_prices=tuple(tables["storage_prices"].values()),
    )
