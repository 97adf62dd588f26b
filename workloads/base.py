"""The contract between a workload and the harness.

A workload prepares, outside the timed region, everything one *step* needs (model, optimizer,
data already on the device, dtype) and returns a ``PreparedWorkload``: a zero-argument callable
that does exactly one step, plus what the harness needs to turn step times into the numbers a
founder compares (items per step and their unit, what one paid-for *run* is, where the data
came from). The harness owns the loop and the clock; a workload never times itself, except for
sub-phases it alone can see (prefill vs decode), which it reports through ``extra_metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The closed sets, defined once with the record that stores them (pricing relies on ``mode``:
# train/infer are priced by compute, generate by bandwidth, overhead never).
from aipcbench.config import WorkloadOptions
from aipcbench.results.record import (  # noqa: F401  (DTYPES, QUANTIZED_DTYPES: for workload authors)
    DTYPES,
    FLOAT_DTYPES,
    MODES,
    QUANTIZED_DTYPES,
    device_kind,
)


class Unsupported(Exception):
    """This workload cannot run with these options on this device; the cell is ``skipped``."""


@dataclass(frozen=True)
class RunDefinition:
    """What one *run* of the workload is: the unit a founder pays for.

    ``items_per_run`` is in the same unit as the step's items, so seconds per run follow from
    the measured throughput: ``items_per_run / items_per_s`` (an extrapolation, labelled so).
    """

    description: str
    items_per_run: float


def _host_only() -> None:
    """The synchroniser of a device whose work is done when the call returns (the CPU)."""


@dataclass(frozen=True)
class PrepareContext:
    """Everything a workload's ``prepare`` is told about the cell it is preparing, and all it
    needs from the harness: ``sync`` waits for the device's queued work, ``clock`` is the clock
    the harness times with (for sub-phases only the workload can see, like prefill)."""

    device_id: str
    dtype: str
    size: str
    quick: bool = False
    compile: bool = False
    data_dir: Path | None = None
    seed: int = 0
    options: WorkloadOptions = field(default_factory=WorkloadOptions)
    sync: Callable[[], None] = _host_only
    clock: Callable[[], float] = time.perf_counter

    @property
    def device_type(self) -> str:
        return device_kind(self.device_id)


@dataclass
class PreparedWorkload:
    """A ready-to-time workload (mutable: it owns live model and optimizer state)."""

    step: Callable[[], None]
    items_per_step: int
    item_unit: str  # samples | tokens | images | steps
    mode: str  # one of MODES: train | infer | generate | overhead
    run: RunDefinition
    data_source: str  # real | synthetic | none
    data_note: str = ""
    weights_source: str | None = None  # pretrained | random-init | None (no pretrained model)
    evaluate_loss: Callable[[], float] | None = None  # training: loss on a fixed batch
    # Figures only the workload can see (prefill vs decode), over the last N (timed) steps.
    extra_metrics: Callable[[int], dict[str, Any]] | None = None
    parameters: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")


@dataclass(frozen=True)
class WorkloadSpec:
    """A registry entry: a name, its sizes, and the function that prepares a cell.

    ``preload`` names modules the cell fork server imports once (a heavy library the workload
    needs), so no cell pays for importing them again."""

    name: str
    summary: str
    sizes: tuple[str, ...]
    prepare: Callable[[PrepareContext], PreparedWorkload]
    trainable: bool = False
    preload: tuple[str, ...] = ()
    # The dtypes it has a path for (int8/int4 quantize weights: inference workloads only); other
    # cells are skipped with the reason, never crash.
    dtypes: tuple[str, ...] = FLOAT_DTYPES
    # The sizes a run without ``name:size`` gets (None: all); others are asked for by name.
    default_sizes: tuple[str, ...] | None = None
    # Checks the options before the first cell starts (raises UserInputError: one line, exit 2)
    check_options: Callable[[WorkloadOptions], None] | None = None
