"""A device's sensors, opened once per process: NVML (CUDA) and the best energy meter.

The cell worker and the device probe open the same sensors the same way; this is that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aipcbench.devices.energy import select_meter
from aipcbench.devices.nvml import open_device


@dataclass(frozen=True)
class Sensors:
    nvml: Any  # the pynvml module, or None
    nvml_handle: Any
    meter: Any  # an energy meter (``devices.energy``), or None
    notes: tuple[str, ...]  # why better sensors were not used


def open_sensors(kind: str, probe: dict[str, Any], index: int, uuid: str | None) -> Sensors:
    """NVML for a CUDA device (by UUID when known: indices can be reordered), then the best
    meter: NVML counter or power, RAPL, or the rated-power estimate in ``probe``."""
    nvml, handle, nvml_note = (None, None, "")
    if kind == "cuda":
        nvml, handle, nvml_note = open_device(index, uuid)
    meter, notes = select_meter(
        kind,
        rated_w=probe.get("rated_w"),
        rated_basis=probe.get("rated_basis", ""),
        logical_cores=probe.get("logical_cores"),
        nvml=nvml,
        nvml_handle=handle,
    )
    return Sensors(nvml, handle, meter, tuple(n for n in [*notes, nvml_note] if n))
