"""The report's training section: "what one fine-tune (or pretraining run) costs" for each
``[[finetune]]`` and ``[[pretrain]]`` item of the plan, on every candidate with a GPU and the
cheapest rentals that fit (``cost.training_items``), each with its range and its month."""

from __future__ import annotations

from typing import Any

from aipcbench.catalog.model_memory import GIB

RENTALS_SHOWN = 5


def _option_row(option, runs_per_month: float) -> dict[str, Any]:
    hours = option.hours
    return {
        "option": option.name,
        "kind": option.kind,
        "gpus": f"{option.gpus}x {option.accelerator}",
        "hours": hours.central,
        "hours_range": f"{hours.low:,.1f}-{hours.high:,.1f} h",
        "usd": option.usd.central if option.usd else None,
        "usd_low": option.usd.low if option.usd else None,
        "usd_high": option.usd.high if option.usd else None,
        "usd_per_month": option.usd.central * runs_per_month if option.usd else None,
        "memory_gib": option.memory_per_gpu_bytes / GIB if option.memory_per_gpu_bytes else None,
        "fits": option.fits,
        "method": option.method,
    }


def training_sections(answers) -> list[dict[str, Any]]:
    """One section per training item: its headline, FLOPs, and the rows of its table (owned
    candidates first, then the cheapest rentals that fit)."""
    sections = []
    for answer in answers:
        runs = answer.item.runs_per_month
        rows = [_option_row(o, runs) for o in answer.owned]
        rows += [_option_row(o, runs) for o in answer.rentals[:RENTALS_SHOWN]]
        sections.append(
            {
                "title": answer.headline(),
                "flops": answer.flops,
                "rows": rows,
                "more_rentals": max(len(answer.rentals) - RENTALS_SHOWN, 0),
                "no_gpu_candidate": not [o for o in answer.owned if o.method == "estimate"],
            }
        )
    return sections
