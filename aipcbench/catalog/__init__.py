"""The cited catalogs: cloud offers, local hardware presets, device specs, electricity.

``load_catalog()`` gives the merged catalog; the row types are in ``rows``, the file format in
``parse``, SkyPilot's ``vms.csv`` in ``skypilot``, device-name patterns in ``match``.
"""

from aipcbench.catalog.load import CATALOG_DIR, Catalog, load_catalog
from aipcbench.catalog.parse import parse_catalog
from aipcbench.catalog.rows import CloudOffer, DeviceSpec, ElectricityRow, HardwarePreset

__all__ = [
    "CATALOG_DIR",
    "Catalog",
    "CloudOffer",
    "DeviceSpec",
    "ElectricityRow",
    "HardwarePreset",
    "load_catalog",
    "parse_catalog",
]
