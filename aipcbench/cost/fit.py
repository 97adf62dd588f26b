"""Does a language model fit? Every catalog device and preset against the memory a
configuration needs (``aipcbench.catalog.model_memory``).

A device sold with several memory sizes is listed once per size, not only at its largest: the
sizes are those the catalog's own cited rows give it (the spec row's size, the base size of every
hardware preset built on it, and sizes its name states, as "V100 SXM2 (16/32GB)"), so the table
never invents a configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.catalog.model_memory import GIB, memory_need
from aipcbench.catalog.rows import ModelConfig
from aipcbench.catalog.train_memory import train_memory_need


@dataclass(frozen=True)
class FitRow:
    device: str  # key (name)
    memory_bytes: float
    need_bytes: float
    label: str = ""  # the short name a table shows: the key, and the size when there are several

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.device.split(" ")[0])

    @property
    def fits(self) -> bool:
        return self.need_bytes <= self.memory_bytes


def memory_sizes_gb(spec, catalog: Catalog) -> list[float]:
    """Every memory size the catalog's rows give ``spec``, smallest first (see the module)."""
    sizes = {spec.memory_gb}
    sizes |= {p.memory_gb for p in catalog.local_hardware if p.accelerator == spec.key and p.memory_gb}
    stated = re.search(r"\((\d+(?:/\d+)+)\s*GB\)", spec.name)
    if stated:
        sizes |= {float(s) for s in stated.group(1).split("/")}
    return sorted(s for s in sizes if s)


def need_bytes(
    model: ModelConfig,
    dtype: str,
    batch: int,
    context: int,
    accelerator: bool,
    train: str | None,
    checkpointing: bool,
) -> float:
    """Inference (``model_memory``) or, with ``train`` (lora | full), a training step
    (``train_memory``, ``context`` as the sequence length)."""
    if train:
        return train_memory_need(model, train, dtype, batch, context, checkpointing, accelerator).total_bytes
    return memory_need(model, dtype, batch, context, accelerator=accelerator).total_bytes


def fit_table(
    catalog: Catalog,
    model: ModelConfig,
    dtype: str,
    batch: int,
    context: int,
    train: str | None = None,
    checkpointing: bool = False,
) -> list[FitRow]:
    """Every catalog device and hardware preset with a memory size: does the configuration fit?
    (Memory sizes in the catalog are GB of 2^30 bytes, as cards are sold: a 24 GB RTX 4090 has
    24 GiB.)"""
    rows = []
    for spec in catalog.device_specs:
        if not spec.memory_gb:
            continue
        need = need_bytes(model, dtype, batch, context, spec.kind != "cpu", train, checkpointing)
        sizes = memory_sizes_gb(spec, catalog)
        for size in sizes:
            label = f"{spec.key} {size:g} GB" if len(sizes) > 1 else spec.key
            rows.append(FitRow(f"{label} ({spec.name})", size * GIB, need, label))
    for preset in catalog.local_hardware:
        if preset.memory_gb and preset.category == "system":
            need = need_bytes(model, dtype, batch, context, True, train, checkpointing)
            rows.append(FitRow(f"{preset.key} ({preset.name})", preset.memory_gb * GIB, need))
    return rows
