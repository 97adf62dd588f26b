"""NVML access in one place: opening a device handle and reading throttle reasons.

Every NVML failure becomes a note, never an exception, so a broken driver costs the energy
figure, not the cell. The module is injectable (tests pass a fake ``pynvml``).
"""

from __future__ import annotations

from typing import Any

# Clock-event reasons that mean the GPU slowed itself (nvml.h, nvmlClocksEventReason*).
THROTTLE_REASONS = {
    0x4: "sw-power-cap",
    0x8: "hw-slowdown",
    0x20: "sw-thermal",
    0x40: "hw-thermal",
    0x80: "hw-power-brake",
}


def open_device(index: int, uuid: str | None, nvml: Any = None) -> tuple[Any, Any, str]:
    """(nvml module, handle, note); module and handle are None when NVML is unusable."""
    try:
        if nvml is None:
            import pynvml as nvml
        nvml.nvmlInit()
        if uuid:
            # torch reports the bare UUID; NVML wants it with the "GPU-" (or "MIG-") prefix.
            if not uuid.startswith(("GPU-", "MIG-")):
                uuid = f"GPU-{uuid}"
            try:
                return nvml, nvml.nvmlDeviceGetHandleByUUID(uuid), ""
            except Exception:
                pass  # some drivers want the "GPU-" prefix form only; fall back to the index
        return nvml, nvml.nvmlDeviceGetHandleByIndex(index), ""
    except Exception as exc:
        return None, None, f"NVML unavailable: {type(exc).__name__}: {exc}"


def throttle_reasons(nvml: Any, handle: Any) -> tuple[list[str] | None, str]:
    """Names of the active slow-down reasons ([] = none), or None with a note if unreadable."""
    for getter in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"):
        function = getattr(nvml, getter, None)
        if function is None:
            continue
        try:
            mask = int(function(handle))
        except Exception as exc:
            return None, f"clock event reasons: {type(exc).__name__}: {exc}"
        return [name for bit, name in THROTTLE_REASONS.items() if mask & bit], ""
    return None, "this NVML has no clock event reasons call"
