"""Which devices this machine has, and how to wait for each of them.

Detection must never crash: a machine with a CUDA build but no driver, ``CUDA_VISIBLE_DEVICES=""``,
MIG partitions or a broken NVML still gets a device list. Whatever could not be seen is returned as
a note instead of an exception, and ``aipcbench devices`` prints the notes.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aipcbench.errors import UserInputError
from aipcbench.host_memory import MEMINFO, meminfo_bytes
from aipcbench.results.record import device_kind

# The SIMD features that change what a CPU can do for ML work (FLOPs per cycle, bf16 support).
SIMD_FLAGS = (
    "sse4_2",
    "fma",
    "avx2",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "avx512_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "asimd",
    "sve",
)


@dataclass(frozen=True)
class Device:
    """One device a workload can run on. ``id`` is what torch calls it (``cpu``, ``cuda:0``)."""

    id: str
    kind: str  # cpu | cuda | mps | xpu
    index: int
    name: str
    memory_bytes: int | None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Inventory:
    """The devices found, and a note for everything that could not be looked at."""

    devices: tuple[Device, ...]
    notes: tuple[str, ...]

    def get(self, device_id: str) -> Device:
        for device in self.devices:
            if device.id == device_id:
                return device
        valid = ", ".join(d.id for d in self.devices)
        raise UserInputError(f"--devices: unknown device '{device_id}' (this machine has: {valid})")


def read_cpu_info(cpuinfo_path: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """Model, core counts and SIMD flags of the host CPU, from /proc/cpuinfo where it exists."""
    model = platform.processor() or platform.machine()
    flags: set[str] = set()
    cores: set[tuple[str, str]] = set()
    try:
        text = cpuinfo_path.read_text(errors="replace")
    except OSError:
        text = ""
    physical_id = core_id = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key in ("model name", "Model") and value:
            model = value
        elif key in ("flags", "Features"):
            flags.update(value.split())
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
            cores.add((physical_id, core_id))
    logical = os.cpu_count() or 1
    return {
        "model": model,
        "architecture": platform.machine(),
        "logical_cores": logical,
        "physical_cores": len(cores) or logical,
        "simd": [flag for flag in SIMD_FLAGS if flag in flags],
    }


def _memory_total_bytes(meminfo_path: Path = MEMINFO) -> int | None:
    return meminfo_bytes("MemTotal", meminfo_path)


def _cpu_device() -> Device:
    info = read_cpu_info()
    return Device(
        id="cpu",
        kind="cpu",
        index=0,
        name=info["model"],
        memory_bytes=_memory_total_bytes(),
        details=info,
    )


def _nvml_driver_version(notes: list[str]) -> str | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
        finally:
            pynvml.nvmlShutdown()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception as exc:  # any NVML failure means "driver version unknown", never a crash
        notes.append(f"NVML unavailable, driver version unknown: {type(exc).__name__}: {exc}")
        return None


def _cuda_devices(torch: Any, notes: list[str]) -> list[Device]:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        notes.append("CUDA: CUDA_VISIBLE_DEVICES is empty, so no CUDA device is visible")
        return []
    if torch.version.cuda is None:
        notes.append("CUDA: this torch build has no CUDA support")
        return []
    try:
        count = torch.cuda.device_count()
    except Exception as exc:
        notes.append(f"CUDA: could not count devices: {type(exc).__name__}: {exc}")
        return []
    if count == 0:
        notes.append("CUDA: torch has CUDA support but no device or driver was found")
        return []
    driver = _nvml_driver_version(notes)
    devices = []
    for index in range(count):
        try:
            props = torch.cuda.get_device_properties(index)
        except Exception as exc:
            notes.append(f"cuda:{index}: properties unreadable: {type(exc).__name__}: {exc}")
            continue
        uuid = getattr(props, "uuid", None)
        devices.append(
            Device(
                id=f"cuda:{index}",
                kind="cuda",
                index=index,
                name=props.name,
                memory_bytes=int(props.total_memory),
                details={
                    "compute_capability": f"{props.major}.{props.minor}",
                    "multiprocessors": props.multi_processor_count,
                    "uuid": str(uuid) if uuid is not None else None,
                    "driver_version": driver,
                    "cuda_version": torch.version.cuda,
                },
            )
        )
    return devices


def _mps_devices(torch: Any, notes: list[str]) -> list[Device]:
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_built():
        return []
    if not mps.is_available():
        notes.append("MPS: built into torch but not available (macOS < 12.3 or no Metal GPU)")
        return []
    return [Device(id="mps", kind="mps", index=0, name="Apple GPU (MPS)", memory_bytes=None)]


def _xpu_devices(torch: Any, notes: list[str]) -> list[Device]:
    xpu = getattr(torch, "xpu", None)
    try:
        if xpu is None or not xpu.is_available():
            return []
        devices = []
        for index in range(xpu.device_count()):
            props = xpu.get_device_properties(index)
            devices.append(
                Device(
                    id=f"xpu:{index}",
                    kind="xpu",
                    index=index,
                    name=props.name,
                    memory_bytes=int(getattr(props, "total_memory", 0)) or None,
                )
            )
        return devices
    except Exception as exc:
        notes.append(f"XPU: detection failed: {type(exc).__name__}: {exc}")
        return []


def import_torch():
    """``import torch`` with Ctrl-C, SIGTERM and SIGHUP held until it returns: a signal that lands
    inside torch's C++ initialisation aborts the process ("terminate called after throwing an
    instance of pybind11::error_already_set") instead of raising KeyboardInterrupt. Held, it is
    delivered right after the import, where Python turns it into the usual clean stop."""
    import signal

    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    blocking = hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held) if blocking else None
    try:
        import torch
    finally:
        if blocking:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return torch


def detect_devices() -> Inventory:
    """Every device torch can run on here; the CPU always comes first."""
    notes: list[str] = []
    devices = [_cpu_device()]
    try:
        torch = import_torch()
    except Exception as exc:
        notes.append(f"torch could not be imported ({type(exc).__name__}): only the CPU is listed")
        return Inventory(tuple(devices), tuple(notes))
    devices += _cuda_devices(torch, notes)
    devices += _mps_devices(torch, notes)
    devices += _xpu_devices(torch, notes)
    return Inventory(tuple(devices), tuple(notes))


def synchronizer(device_id: str) -> Callable[[], None]:
    """A function that blocks until all work queued on ``device_id`` has finished."""
    import torch

    kind = device_kind(device_id)
    if kind == "cuda":
        index = torch.device(device_id).index or 0
        return lambda: torch.cuda.synchronize(index)
    if kind == "mps":
        return torch.mps.synchronize
    if kind == "xpu":
        return torch.xpu.synchronize
    return lambda: None
