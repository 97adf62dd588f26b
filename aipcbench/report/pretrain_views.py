"""``aipcbench estimate --pretrain MODEL``: a pretraining run's FLOPs, and its days and dollars on
every rented offer and an owned build (``cost.pretrain``), as text or CSV."""

from __future__ import annotations

import math
from pathlib import Path

from aipcbench.catalog import Catalog
from aipcbench.catalog.model_memory import GIB
from aipcbench.cost.pretrain import TOKENS_PER_PARAMETER, plan_pretraining
from aipcbench.errors import UserInputError
from aipcbench.numbers import usd
from aipcbench.report.formatters import as_csv, safe_text, text_table

SHOWN = 12


def _days(hours: float) -> str:
    return f"{hours / 24:,.1f} d" if hours >= 48 else f"{hours:,.1f} h"


def pretrain_command(
    catalog: Catalog,
    key: str,
    tokens: float | None,
    sequence: int,
    machine_file: Path | None,
    gpus: int,
    fmt: str,
) -> int:
    model = next((m for m in catalog.model_configs if m.key == key), None)
    if model is None:
        raise UserInputError(
            f"--pretrain: '{key}' is not a catalog model ({', '.join(m.key for m in catalog.model_configs)})"
        )
    if tokens is not None and not (math.isfinite(tokens) and 1e6 <= tokens <= 1e15):
        raise UserInputError("--tokens: 1e6 to 1e15 training tokens")
    tokens = tokens or TOKENS_PER_PARAMETER * model.parameters
    owned = [(_owned_build(machine_file, catalog), gpus)] if machine_file is not None else []
    flops, options = plan_pretraining(catalog, model, tokens, sequence, owned)
    rows = [_row(o) for o in options]
    if fmt == "csv":
        print(as_csv(rows), end="")
        return 0
    mfu = catalog.estimator_row("gpu", "compute_efficiency", "bf16")
    print(
        safe_text(
            f"pretraining {model.name} ({model.parameters / 1e9:.2f} B parameters) on {tokens:.3g} tokens of "
            f"{sequence:,}: {flops:.3g} FLOPs = tokens x (6 x parameters + 12 x layers x width x sequence)"
        )
    )
    print(
        f"MFU {mfu.low:.0%}-{mfu.high:.0%} (central {mfu.central:.0%}, catalog/data/estimator.csv); "
        "several GPUs scale at 60-95 % (assumed)"
    )
    shown = [r for r in rows if r["kind"] == "own"] + [r for r in rows if r["kind"] == "rent"][:SHOWN]
    print("\n".join(text_table(_table(shown), indent="  ")))
    return 0


def _owned_build(machine_file: Path, catalog: Catalog):
    from aipcbench.cost.machine import load_profile

    machine = load_profile(machine_file, {}, catalog)
    if machine.accelerator is None:
        raise UserInputError(f"{machine_file}: an owned build needs 'accelerator' (a catalog GPU key)")
    return machine


def _row(o) -> dict:
    return {
        "option": o.name,
        "kind": o.kind,
        "gpus": f"{o.gpus}x {o.accelerator}",
        "hours": o.hours.central,
        "hours_low": o.hours.low,
        "hours_high": o.hours.high,
        "usd": o.usd.central if o.usd else None,
        "usd_low": o.usd.low if o.usd else None,
        "usd_high": o.usd.high if o.usd else None,
        "memory_per_gpu_gib": o.memory_per_gpu_bytes / GIB,
        "fits": o.fits,
    }


def _table(rows: list[dict]) -> list[tuple[str, ...]]:
    table = [("option", "kind", "GPUs", "time (range)", "cost (range)", "memory/GPU", "fits")]
    for r in rows:
        cost = f"{usd(r['usd'])} ({usd(r['usd_low'])}-{usd(r['usd_high'])})" if r["usd"] is not None else "-"
        time = f"{_days(r['hours'])} ({_days(r['hours_low'])}-{_days(r['hours_high'])})"
        memory = f"{r['memory_per_gpu_gib']:,.1f} GiB"
        table.append((r["option"], r["kind"], r["gpus"], time, cost, memory, "yes" if r["fits"] else "no"))
    return [tuple(safe_text(c) for c in row) for row in table]
