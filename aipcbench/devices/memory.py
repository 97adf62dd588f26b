"""Peak memory of one cell, per device, with the method that measured it.

- CUDA: the caching allocator's peak (allocated = tensors, reserved = what the allocator holds
  from the driver), reset before the workload is prepared; NVML's used memory for the whole
  device (other processes included) at the end of the window.
- CPU: the peak resident set of the cell's own process above its resident set just before the
  workload was prepared (``getrusage`` costs about a microsecond; ``tracemalloc`` cannot see
  tensor memory at all, and slows Python-heavy loops).
- MPS: the Metal driver's allocation at the end (the API gives no peak). XPU: allocator peak.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import Any

from aipcbench.results.record import device_kind


def current_rss_bytes() -> int | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS: bytes; Linux: KiB


class MemoryProbe:
    def __init__(self, device_id: str, nvml: Any = None, nvml_handle: Any = None):
        self.device_id = device_id
        self.kind = device_kind(device_id)
        self.nvml, self.nvml_handle = nvml, nvml_handle

    def begin(self) -> None:
        """Call just before the workload is prepared."""
        self.baseline_rss = current_rss_bytes()
        if self.kind == "cuda":
            import torch

            torch.cuda.reset_peak_memory_stats(self.device_id)
        elif self.kind == "xpu":
            import torch

            torch.xpu.reset_peak_memory_stats(self.device_id)

    def end(self) -> dict[str, Any]:
        """Call after the timed window; returns the figures and how each was obtained."""
        result: dict[str, Any] = {}
        if self.kind == "cuda":
            import torch

            result["peak_memory_bytes"] = torch.cuda.max_memory_allocated(self.device_id)
            result["peak_memory_reserved_bytes"] = torch.cuda.max_memory_reserved(self.device_id)
            result["peak_memory_method"] = "cuda-allocator-peak"
            if self.nvml is not None and self.nvml_handle is not None:
                try:
                    used = self.nvml.nvmlDeviceGetMemoryInfo(self.nvml_handle).used
                    result["device_memory_used_bytes_nvml"] = int(used)
                except Exception as exc:
                    result["device_memory_used_note"] = f"NVML memory info: {exc}"
        elif self.kind == "mps":
            import torch

            result["peak_memory_bytes"] = int(torch.mps.driver_allocated_memory())
            result["peak_memory_method"] = "mps-driver-allocated-at-end (no peak API)"
        elif self.kind == "xpu":
            import torch

            result["peak_memory_bytes"] = torch.xpu.max_memory_allocated(self.device_id)
            result["peak_memory_method"] = "xpu-allocator-peak"
        else:
            peak = peak_rss_bytes()
            if self.baseline_rss is not None:
                result["peak_memory_bytes"] = max(peak - self.baseline_rss, 0)
                result["peak_memory_method"] = "rss-peak-above-baseline (getrusage)"
            else:
                result["peak_memory_bytes"] = peak
                result["peak_memory_method"] = "rss-peak-of-process (no baseline available)"
        result["process_peak_rss_bytes"] = peak_rss_bytes()
        return result
