"""A SkyPilot ``vms.csv`` (catalog v7/v8 columns) read as cloud offers.

SkyPilot's catalogs are the most complete machine-readable price lists; accepting them as a
``--catalog`` file lets a user price against every region SkyPilot knows without retyping it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from aipcbench.catalog.rows import CloudOffer, number_field
from aipcbench.errors import DataError

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


def parse_skypilot(path: Path, text: str) -> list[CloudOffer]:
    """A SkyPilot ``vms.csv`` as cloud offers; rows without an accelerator or price are skipped
    (CPU instances, regions without a price); a row with one but no instance type, region or
    count is malformed and refused.

    SkyPilot catalogs carry no billing terms: per-second billing with a 60 s minimum is assumed
    and said in each row's notes. The provider is taken from the file's folder name.
    """
    reader = csv.DictReader(io.StringIO(text))
    provider = path.parent.name if path.parent.name not in ("", ".") else "skypilot"
    offers, seen = [], set()
    for number, raw in enumerate(reader, start=2):
        if None in raw:
            raise DataError(f"{path}:{number}: more values than columns")
        if not (raw.get("AcceleratorName") or "").strip() or not (raw.get("Price") or "").strip():
            continue  # a CPU-only instance, or one not offered at a price in that region
        for column in ("InstanceType", "Region", "AcceleratorCount"):
            if not (raw.get(column) or "").strip():
                raise DataError(f"{path}:{number}: field '{column}' is missing")
        count = number_field(path, number, "AcceleratorCount", raw["AcceleratorCount"], True)
        price = number_field(path, number, "Price", raw["Price"], True)
        spot = number_field(path, number, "SpotPrice", raw.get("SpotPrice", ""), False)
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
                vcpus=number_field(path, number, "vCPUs", raw.get("vCPUs", ""), False),
                ram_gib=number_field(path, number, "MemoryGiB", raw.get("MemoryGiB", ""), False),
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
