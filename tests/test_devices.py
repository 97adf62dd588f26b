"""Device detection against fake /proc/cpuinfo files and a fake torch: it never crashes."""

import sys
import types

from aipcbench.devices import detect as devices

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse4_2 avx2 fma avx512f avx512_bf16 amx_tile
physical id\t: 0
core id\t\t: 0

processor\t: 1
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse4_2 avx2 fma avx512f avx512_bf16 amx_tile
physical id\t: 0
core id\t\t: 0

processor\t: 2
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse4_2 avx2 fma avx512f avx512_bf16 amx_tile
physical id\t: 0
core id\t\t: 1
"""


def test_cpu_info_reads_model_cores_and_simd(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO)
    info = devices.read_cpu_info(path)
    assert info["model"] == "AMD EPYC 9R14 96-Core Processor"
    assert info["physical_cores"] == 2  # three logical CPUs on two cores
    assert info["simd"] == ["sse4_2", "fma", "avx2", "avx512f", "avx512_bf16", "amx_tile"]


def test_cpu_info_survives_a_missing_file(tmp_path):
    info = devices.read_cpu_info(tmp_path / "absent")
    assert info["logical_cores"] >= 1 and info["simd"] == []


class FakeProps:
    name = "NVIDIA H100 80GB HBM3"
    total_memory = 80 * 2**30
    major, minor = 9, 0
    multi_processor_count = 132
    uuid = "GPU-1234"


def fake_torch(cuda_version="12.8", count=1, count_error=None, props_error=None):
    def device_count():
        if count_error:
            raise count_error
        return count

    def get_device_properties(index):
        if props_error:
            raise props_error
        return FakeProps()

    return types.SimpleNamespace(
        version=types.SimpleNamespace(cuda=cuda_version),
        cuda=types.SimpleNamespace(device_count=device_count, get_device_properties=get_device_properties),
    )


def test_cuda_devices_are_described(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml = types.SimpleNamespace(
        nvmlInit=lambda: None, nvmlShutdown=lambda: None, nvmlSystemGetDriverVersion=lambda: b"580.65"
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml)
    notes = []
    found = devices._cuda_devices(fake_torch(), notes)
    assert notes == []
    assert [d.id for d in found] == ["cuda:0"]
    details = found[0].details
    assert details["compute_capability"] == "9.0" and details["driver_version"] == "580.65"
    assert details["uuid"] == "GPU-1234" and found[0].memory_bytes == 80 * 2**30


def test_odd_cuda_environments_become_notes(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    notes = []
    assert devices._cuda_devices(fake_torch(), notes) == []
    assert "CUDA_VISIBLE_DEVICES is empty" in notes[0]

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    for torch, needle in [
        (fake_torch(cuda_version=None), "no CUDA support"),
        (fake_torch(count=0), "no device or driver"),
        (fake_torch(count_error=RuntimeError("driver too old")), "driver too old"),
    ]:
        notes = []
        assert devices._cuda_devices(torch, notes) == []
        assert needle in notes[-1]


def test_broken_nvml_and_unreadable_properties_do_not_crash(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def broken_init():
        raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    monkeypatch.setitem(sys.modules, "pynvml", types.SimpleNamespace(nvmlInit=broken_init))
    notes = []
    found = devices._cuda_devices(fake_torch(props_error=RuntimeError("MIG instance")), notes)
    assert found == []
    assert any("NVML unavailable" in n for n in notes)
    assert any("cuda:0: properties unreadable" in n and "MIG" in n for n in notes)


def test_detect_devices_always_has_the_cpu_first():
    inventory = devices.detect_devices()
    assert inventory.devices[0].id == "cpu"
