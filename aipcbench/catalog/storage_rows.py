"""Rows of the storage catalog: what a provider charges to keep data between rented sessions
and to move it out, the costs beside the GPU's hourly price that decide short, frequent jobs.

``storage_prices.csv``: per provider, a persistent volume's $ per GB-month and internet egress
$ per GB (0 where the provider's own page says egress is free), each with its source and date.
A provider without a row is priced at the cited rows' median, labelled an assumption
(``cost.sessions``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoragePrice:
    provider: str  # as in cloud_offers.csv
    volume_usd_per_gb_month: float  # the persistent volume a team keeps its data set and checkpoints on
    egress_usd_per_gb: float  # internet egress (results and checkpoints downloaded)
    volume: str = ""  # which product the volume price is
    free_egress_gb_per_month: float = 0.0
    source: str = ""
    as_of: str = ""


STORAGE_SCHEMAS = {
    "storage_prices": (
        StoragePrice,
        ("provider",),
        {"volume_usd_per_gb_month": True, "egress_usd_per_gb": True, "free_egress_gb_per_month": False},
    ),
}
