"""Which GPUs a user asks for: ``NAME:COUNT`` in SkyPilot's names or the catalog's keys.

SkyPilot and the catalog name GPUs differently (``H100`` vs ``H100-SXM``): the table below maps
them, so a request is checked against the catalog (its prices and specs) before anything is
launched, and handed to SkyPilot in its own vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.errors import UserInputError

# catalog accelerator key -> SkyPilot accelerator name (``sky show-gpus``)
SKYPILOT_NAMES = {
    "H100-SXM": "H100",
    "H100-PCIE": "H100",
    "H200": "H200",
    "A100-40GB": "A100",
    "A100-80GB": "A100-80GB",
    "L40S": "L40S",
    "L4": "L4",
    "A10G": "A10G",
    "A10": "A10",
    "T4": "T4",
    "V100": "V100",
    "RTX3090": "RTX3090",
    "RTX4090": "RTX4090",
    "RTX5090": "RTX5090",
    "RTX-A6000": "RTXA6000",
    "RTX6000-ADA": "RTX6000-Ada",
}
MAX_COUNT = 16


@dataclass(frozen=True)
class Request:
    """One accelerator type and count to measure on: one SkyPilot task, one cluster."""

    skypilot_name: str
    count: int
    catalog_keys: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.skypilot_name}:{self.count}"


def parse_request(text: str) -> Request:
    name, _, count_text = text.strip().partition(":")
    count_text = count_text or "1"
    try:
        count = int(count_text)
    except ValueError:
        raise UserInputError(f"cloud: '{text}': the count must be a whole number, e.g. H100:1") from None
    if not 1 <= count <= MAX_COUNT:
        raise UserInputError(f"cloud: '{text}': the count must be between 1 and {MAX_COUNT}")
    wanted = name.strip().lower()
    keys = tuple(k for k, sky_name in SKYPILOT_NAMES.items() if wanted in (k.lower(), sky_name.lower()))
    if not keys:
        known = ", ".join(sorted(set(SKYPILOT_NAMES.values())))
        raise UserInputError(f"cloud: unknown accelerator '{name}' (known: {known})")
    return Request(SKYPILOT_NAMES[keys[0]], count, keys)


def parse_requests(texts: list[str] | tuple[str, ...], catalog: Catalog) -> list[Request]:
    """Every request, checked; the same accelerator twice is refused (one cluster each)."""
    if not texts:
        raise UserInputError("cloud: name at least one accelerator, e.g. H100:1 L4:1")
    requests = [parse_request(text) for text in texts]
    labels = [r.label for r in requests]
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate:
        raise UserInputError(f"cloud: '{duplicate}' is named twice")
    priced = {offer.accelerator for offer in catalog.cloud_offers}
    for request in requests:
        if not priced.intersection(request.catalog_keys):
            raise UserInputError(
                f"cloud: no catalog price for {request.skypilot_name}: cannot bound its cost"
            )
    return requests
