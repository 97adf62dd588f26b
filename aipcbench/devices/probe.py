"""The device probe, run in a child process once per device before the cells: idle power,
the CPU's clock and issue rate, a large GEMM's FLOP/s per dtype and streaming-read bandwidth.

In a child for the same reason as a cell: a driver fault or a hang costs the probe, not the
run, and the parent never holds a device context.
"""

from __future__ import annotations

import time
from typing import Any

from aipcbench.devices import timing
from aipcbench.devices.rated import QUANTIZED_PEAK_NOTE
from aipcbench.devices.sensors import open_sensors
from aipcbench.errors import exception_line
from aipcbench.results.record import QUANTIZED_DTYPES


def measure_gemm_flops(device_id: str, dtype: str, seconds: float = 1.0) -> dict[str, Any]:
    """Median FLOP/s of square matmuls on the device: the peak the software stack reaches."""
    import torch

    from aipcbench.devices.detect import synchronizer
    from workloads.precision import TORCH_DTYPES

    size = 2048 if device_id == "cpu" else 8192
    device = torch.device(device_id)
    a = torch.randn(size, size, device=device).to(TORCH_DTYPES[dtype])
    b = torch.randn(size, size, device=device).to(TORCH_DTYPES[dtype])
    out = torch.empty_like(a)
    sync = synchronizer(device_id)
    timing.time_call(lambda: torch.matmul(a, b, out=out), sync)  # kernel selection, thread pool
    samples = sorted(timing.repeat_for(lambda: torch.matmul(a, b, out=out), sync, seconds))
    median = samples[len(samples) // 2]
    return {
        "flop_per_s": 2 * size**3 / median,
        "size": size,
        "repeats": len(samples),
        "method": f"median of {len(samples)} {size}x{size} {dtype} matmuls",
    }


def measure_read_bandwidth(device_id: str, seconds: float = 0.5) -> dict[str, Any]:
    """Median streaming-read bandwidth (bytes/s): a reduction over a buffer far larger than
    the caches, the access pattern of decoding, which reads every weight once per token."""
    import torch

    from aipcbench.devices.detect import synchronizer

    count = (256 if device_id == "cpu" else 2048) * 2**20 // 4
    data = torch.ones(count, dtype=torch.float32, device=torch.device(device_id))
    sync = synchronizer(device_id)
    timing.time_call(data.sum, sync)
    samples = sorted(timing.repeat_for(data.sum, sync, seconds))
    median = samples[len(samples) // 2]
    return {
        "bytes_per_s": count * 4 / median,
        "method": f"median of {len(samples)} sums over {count * 4 // 2**20} MiB",
    }


def measure_device(spec: dict[str, Any]) -> dict[str, Any]:
    """Clock (CPU), large-GEMM peak per dtype and idle power of one device."""
    from aipcbench.devices.cpuclock import measure_clock_ghz
    from aipcbench.devices.cpuissue import measure_flops_per_cycle

    device = spec["device"]
    kind, probe = device["kind"], spec.get("probe", {})
    facts: dict[str, Any] = {}
    # Idle first, while nothing of ours has touched the device.
    sensors = open_sensors(kind, probe, device.get("index", 0), probe.get("uuid"))
    meter = sensors.meter
    if meter is None or meter.method == "estimate-tdp":
        facts["idle_power_w"], facts["idle_power_method"] = None, None
        facts["idle_note"] = "idle power needs a sensor (NVML or RAPL); none here"
    else:
        meter.start()
        time.sleep(1.0 if spec.get("quick") else 5.0)
        reading = meter.stop()
        facts["idle_power_w"], facts["idle_power_method"] = reading.average_power_w, reading.method
        facts["idle_note"] = reading.note
    facts["idle_note"] = "; ".join(n for n in [facts["idle_note"], *sensors.notes] if n)
    if kind == "cpu":
        facts["clock_ghz"], facts["clock_method"] = measure_clock_ghz(timing.best_rate)
        simd = set(device.get("details", {}).get("simd", []))
        floats = [d for d in spec["dtypes"] if d not in QUANTIZED_DTYPES]
        facts["flops_per_cycle"] = measure_flops_per_cycle(simd, facts["clock_ghz"], floats, timing.best_rate)
    try:
        facts["measured_bandwidth"] = measure_read_bandwidth(device["id"])
    except Exception as exc:
        facts["measured_bandwidth"] = {"bytes_per_s": None, "method": exception_line(exc)}
    facts["measured_peaks"] = {}
    for dtype in spec["dtypes"]:
        if dtype in QUANTIZED_DTYPES:
            facts["measured_peaks"][dtype] = {"flop_per_s": None, "method": QUANTIZED_PEAK_NOTE}
            continue
        try:
            facts["measured_peaks"][dtype] = measure_gemm_flops(
                device["id"], dtype, 0.5 if spec.get("quick") else 2.0
            )
        except Exception as exc:  # a dtype the device cannot multiply in: no measured peak
            facts["measured_peaks"][dtype] = {"flop_per_s": None, "method": exception_line(exc)}
    return facts
