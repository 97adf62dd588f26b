"""One-off conversion of the team's sourced reference tables into aipcbench's catalogs.

Run from the repository root with the reference folder beside it:
    python scripts/build_catalogs_from_reference.py ../shared/reference
Every row keeps its source and date. Rows left out, and why, are listed in LEFT_OUT and in
aipcbench/catalog/data/README.md. The generated CSVs are committed; this script documents how.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

OUT = Path("aipcbench/catalog/data")

# reference gpu_model text -> catalog accelerator key (device_specs.csv)
ACCELERATORS = {
    "H100 SXM 80GB": "H100-SXM",
    "H100 80GB": "H100-SXM",
    "H100 PCIe 80GB": "H100-PCIE",
    "H100 NVL 94GB": "H100-NVL",
    "H200 141GB": "H200",
    "A100 SXM 40GB": "A100-40GB",
    "A100 SXM4 40GB": "A100-40GB",
    "A100 40GB": "A100-40GB",
    "A100 SXM 80GB": "A100-80GB",
    "A100 PCIe 80GB": "A100-80GB",
    "A100 80GB": "A100-80GB",
    "A10G 24GB": "A10G",
    "A10 24GB": "A10",
    "L4 24GB": "L4",
    "L40S 48GB": "L40S",
    "L40 48GB": "L40",
    "T4 16GB": "T4",
    "V100 SXM2 32GB": "V100",
    "RTX 4090 24GB": "RTX4090",
    "RTX 5090 32GB": "RTX5090",
    "RTX 3090 24GB": "RTX3090",
    "RTX A6000 48GB": "RTX-A6000",
    "RTX A4000 16GB": "RTX-A4000",
    "B200 180GB": "B200",
    "GH200 96GB": "GH200",
}
LEFT_OUT = {
    5: "AWS p5e.48xlarge: no on-demand price (sold through Capacity Blocks)",
    19: "GCP a3-highgpu-8g us-central1: flagged ANOMALY in the reference (accelerator row 33.6 vs 78.4)",
    23: "GCP a2-ultragpu-1g: flagged SUSPECT (spot above on-demand)",
    63: "RunPod 1x H100 SXM Secure 2026-09-25 (3.49): superseded by the 2026-11-09 reading (3.99)",
}


def billing(text: str) -> tuple[int, int, str]:
    """(increment seconds, minimum seconds, note) from the reference's billing text."""
    text = text.lower()
    if text.startswith("per-second"):
        minimum = 60 if re.search(r"(60 s|1 min) min", text) else 0
        return 1, minimum, ""
    if text.startswith("per-minute"):
        return 60, 60, ""
    return 60, 60, "billing granularity not found: per-minute assumed"


def cloud(reference: Path) -> None:
    rows = list(csv.DictReader(open(reference / "cloud_prices.csv", encoding="utf-8")))
    out = []
    for index, row in enumerate(rows):
        if index in LEFT_OUT or row["price_type"] != "on_demand":
            continue
        increment, minimum, note = billing(row["billing_granularity"])
        low, high = row["spot_usd_per_hour_low"], row["spot_usd_per_hour_high"]
        if low and low == row["usd_per_hour"]:
            low = high = ""  # the source's spot column only repeats the on-demand price
        notes = "; ".join(n for n in (row["notes"], note) if n)
        out.append(
            {
                "provider": row["provider"].split(" (")[0],
                "instance_type": row["instance_type"],
                "accelerator": ACCELERATORS[row["gpu_model"]],
                "gpu_model": row["gpu_model"],
                "gpu_count": row["gpu_count"],
                "gpu_memory_gb": row["gpu_mem_gb_per_gpu"],
                "vcpus": row["vcpus"],
                "ram_gib": row["ram_gib"],
                "region": row["region"],
                "currency": "USD",
                "on_demand_per_hour": row["usd_per_hour"],
                "spot_per_hour_low": low,
                "spot_per_hour_high": high,
                "billing_increment_s": increment,
                "billing_minimum_s": minimum,
                "notes": notes,
                "source": row["source"],
                "as_of": row["as_of"],
            }
        )
    write(OUT / "cloud_offers.csv", "cloud_offers", out)


def write(path: Path, name: str, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(f"# aipcbench-catalog {name} v1\n")
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{path}: {len(rows)} rows")


if __name__ == "__main__":
    cloud(Path(sys.argv[1]))
    for index, why in LEFT_OUT.items():
        print(f"left out reference row {index}: {why}")
