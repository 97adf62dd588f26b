"""Does a language model fit? Every catalog device and preset against the memory a
configuration needs (``aipcbench.catalog.model_memory``)."""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.catalog.model_memory import GIB, memory_need
from aipcbench.catalog.rows import ModelConfig
from aipcbench.catalog.train_memory import train_memory_need


@dataclass(frozen=True)
class FitRow:
    device: str
    memory_bytes: float
    need_bytes: float

    @property
    def fits(self) -> bool:
        return self.need_bytes <= self.memory_bytes


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
        if spec.memory_gb:
            need = need_bytes(model, dtype, batch, context, spec.kind != "cpu", train, checkpointing)
            rows.append(FitRow(f"{spec.key} ({spec.name})", spec.memory_gb * GIB, need))
    for preset in catalog.local_hardware:
        if preset.memory_gb and preset.category == "system":
            need = need_bytes(model, dtype, batch, context, True, train, checkpointing)
            rows.append(FitRow(f"{preset.key} ({preset.name})", preset.memory_gb * GIB, need))
    return rows
