"""Energy, memory, FLOPs and peak probes against fakes and analytic numbers."""

from pathlib import Path

import pytest
import torch

from aipcbench.devices import energy, nvml, peak
from aipcbench.errors import ProbeUnavailable
from aipcbench.run.step_counts import count_step_flops
from tests.fake_nvml import FakeNvml


class Clock:
    def __init__(self, *times):
        self.times = list(times)

    def __call__(self):
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


# ---------------------------------------------------------------- NVML energy counter


def test_nvml_counter_reads_the_difference_in_joules():
    fake = FakeNvml(energy_mj=[5_000, 1_000_000, 1_250_000])  # init check, start, stop
    meter = energy.NvmlCounterMeter(fake, "h", clock=Clock(10.0, 12.5))
    meter.start()
    reading = meter.stop()
    assert reading.joules == 250.0 and reading.method == "nvml-counter"
    assert reading.window_s == 2.5 and reading.average_power_w == 100.0


def test_nvml_counter_unchanged_is_below_resolution_not_zero():
    fake = FakeNvml(energy_mj=[7, 7, 7])
    meter = energy.NvmlCounterMeter(fake, "h", clock=Clock(0.0, 0.05))
    meter.start()
    reading = meter.stop()
    assert reading.joules is None and "below the sensor's resolution" in reading.note


def test_nvml_counter_going_backwards_is_reported():
    fake = FakeNvml(energy_mj=[0, 900, 400])
    meter = energy.NvmlCounterMeter(fake, "h", clock=Clock(0.0, 1.0))
    meter.start()
    reading = meter.stop()
    assert reading.joules is None and "went backwards" in reading.note


def test_nvml_error_mid_window_costs_the_figure_only():
    fake = FakeNvml(energy_mj=[0, 100, 200], energy_error_at=3)
    meter = energy.NvmlCounterMeter(fake, "h", clock=Clock(0.0, 1.0))
    meter.start()
    reading = meter.stop()
    assert reading.joules is None and "NVML error mid-window" in reading.note


def test_not_supported_counter_falls_back_to_sampled_power():
    fake = FakeNvml(energy_supported=False, power_mw=150_000)
    meter, notes = energy.select_meter("cuda", rated_w=None, rated_basis="", nvml=fake, nvml_handle="h")
    assert meter.method == "nvml-power"
    assert any("Not Supported" in n for n in notes)
    meter.start()
    reading = meter.stop()
    assert reading.method == "nvml-power"
    assert reading.joules == pytest.approx(150.0 * reading.window_s, rel=1e-6)


def test_power_sampler_integrates_trapezoids():
    """start -> one tick of the sampler -> stop, on a scripted clock and scripted power: the
    reading is the trapezoids' sum over the window the samples span."""
    fake = FakeNvml(power_mw=[100_000, 100_000, 200_000, 200_000])  # init check, start, tick, stop
    meter = energy.NvmlPowerMeter(fake, "h", interval_s=3600.0, clock=Clock(0.0, 0.0, 1.0, 3.0))
    meter.start()  # the window starts at the first sample (t = 0, 100 W)
    meter._sample()  # what the sampler thread does every interval (t = 1 s, 200 W)
    reading = meter.stop()  # the last sample at t = 3 s, 200 W
    assert reading.joules == pytest.approx(1.0 * (100 + 200) / 2 + 2.0 * (200 + 200) / 2) == 550.0
    assert reading.window_s == 3.0 and reading.note == "3 samples integrated"


def test_no_nvml_sensor_and_no_rated_power_means_no_meter():
    fake = FakeNvml(energy_supported=False, power_supported=False)
    meter, notes = energy.select_meter("cuda", rated_w=None, rated_basis="", nvml=fake, nvml_handle="h")
    assert meter is None and "energy not measured" in notes[-1]
    meter, _ = energy.select_meter("cuda", rated_w=300, rated_basis="TDP", nvml=fake, nvml_handle="h")
    assert meter.method == "estimate-tdp"


def test_throttle_reasons_are_named():
    assert nvml.throttle_reasons(FakeNvml(reasons=0x4 | 0x40 | 0x1), "h") == (
        ["sw-power-cap", "hw-thermal"],
        "",
    )
    assert nvml.throttle_reasons(FakeNvml(reasons=0), "h") == ([], "")


def test_open_device_prefers_the_uuid_with_nvml_prefix():
    module, handle, note = nvml.open_device(3, "1234-abcd", nvml=FakeNvml())
    assert handle == "handle-GPU-1234-abcd" and note == ""
    assert nvml.open_device(3, None, nvml=FakeNvml())[1] == "handle-3"


def test_open_device_failure_is_a_note():
    class Broken:
        def nvmlInit(self):
            raise OSError("libnvidia-ml.so.1 not found")

    module, handle, note = nvml.open_device(0, None, nvml=Broken())
    assert module is None and handle is None and "libnvidia-ml" in note


# ---------------------------------------------------------------- RAPL


def rapl_tree(root: Path, package_uj: int, dram_uj: int | None = None, max_uj=1_000_000):
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "name").write_text("package-0\n")
    (zone / "energy_uj").write_text(f"{package_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    if dram_uj is not None:
        dram = root / "intel-rapl:0:0"
        dram.mkdir(exist_ok=True)
        (dram / "name").write_text("dram\n")
        (dram / "energy_uj").write_text(f"{dram_uj}\n")
        (dram / "max_energy_range_uj").write_text(f"{max_uj}\n")
    core = root / "intel-rapl:0:1"
    core.mkdir(exist_ok=True)
    (core / "name").write_text("core\n")  # counted inside the package: must be ignored


def test_rapl_package_and_dram(tmp_path):
    rapl_tree(tmp_path, 100_000, 50_000)
    meter = energy.RaplMeter(tmp_path, clock=Clock(0.0, 2.0))
    meter.start()
    rapl_tree(tmp_path, 400_000, 150_000)
    reading = meter.stop()
    assert reading.method == "rapl" and reading.joules == pytest.approx(0.4)
    assert "dram" in reading.note


def test_rapl_wraparound_is_reconstructed_exactly(tmp_path):
    rapl_tree(tmp_path, 900_000, max_uj=1_000_000)
    meter = energy.RaplMeter(tmp_path, clock=Clock(0.0, 1.0))
    meter.start()
    rapl_tree(tmp_path, 200_000, max_uj=1_000_000)
    assert meter.stop().joules == pytest.approx(0.3)  # 100,000 to the wrap + 200,000 after
    assert energy.rapl_delta_uj(10, 5, 20) == 15


def test_rapl_permission_denied_falls_back_to_an_estimate_that_says_so(tmp_path, monkeypatch):
    rapl_tree(tmp_path, 1)
    real_read = Path.read_text

    def deny(self, *args, **kwargs):
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(ProbeUnavailable, match="root-only"):
        energy.RaplMeter(tmp_path)
    meter, notes = energy.select_meter(
        "cpu", rated_w=65, rated_basis="TDP", logical_cores=4, rapl_root=tmp_path
    )
    assert meter.method == "estimate-tdp" and energy.RAPL_FIX in notes


def test_no_rapl_tree(tmp_path):
    with pytest.raises(ProbeUnavailable, match="no RAPL package zones"):
        energy.RaplMeter(tmp_path / "absent")


def test_tdp_estimate_uses_measured_utilisation():
    cpu = iter([10.0, 13.0])  # 3 CPU-seconds used
    meter = energy.TdpEstimateMeter(
        100.0, "TDP", logical_cores=4, clock=Clock(0.0, 1.0), cpu_time=lambda: next(cpu)
    )
    meter.start()
    reading = meter.stop()
    assert reading.joules == pytest.approx(75.0)  # 100 W x 75 % x 1 s
    assert reading.note.startswith("ESTIMATE") and reading.method == "estimate-tdp"
    idle = iter([1.0, 1.0])
    meter = energy.TdpEstimateMeter(100.0, "TDP", 4, clock=Clock(0.0, 1.0), cpu_time=lambda: next(idle))
    meter.start()
    assert meter.stop().joules is None  # never a silent zero


# ---------------------------------------------------------------- FLOPs


def _train_step(model, batch, features, classes, loss="ce"):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, features)
    y = torch.randint(0, classes, (batch,)) if loss == "ce" else torch.randn(batch, 1)
    loss_fn = torch.nn.functional.cross_entropy if loss == "ce" else torch.nn.functional.mse_loss

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def test_mlp_flops_match_the_analytic_count():
    from workloads.mlp import build_model

    widths, batch = (784, 4096, 4096, 10), 256
    layers = list(zip(widths, widths[1:]))
    macs = sum(a * b for a, b in layers)
    # forward 2*B*macs, weight grads 2*B*macs, input grads for all but the first layer
    expected = 2 * batch * macs * 2 + 2 * batch * sum(a * b for a, b in layers[1:])
    counted = count_step_flops(_train_step(build_model(widths), batch, 784, 10))
    assert counted == pytest.approx(expected, rel=0.01)


def test_linear_regression_flops_match_the_analytic_count():
    batch, features = 4096, 1024
    counted = count_step_flops(_train_step(torch.nn.Linear(features, 1), batch, features, 1, "mse"))
    assert counted == pytest.approx(2 * batch * features * 2, rel=0.01)  # forward + weight grad


def test_gpt2_generation_flops_match_the_analytic_count(tmp_path, monkeypatch):
    from tests import datafiles
    from workloads import gpt2_generate
    from workloads.base import PrepareContext

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datafiles.tiny_gpt2(tmp_path)
    prepared = gpt2_generate.prepare(PrepareContext("cpu", "fp32", "batch1", quick=True, data_dir=tmp_path))
    L, d, V, P, N = 2, 32, 50257, gpt2_generate.PROMPT_TOKENS, gpt2_generate.QUICK_NEW_TOKENS
    tokens = P + N - 1  # the last new token is never fed back
    dense = L * 24 * d * d * tokens  # qkv 3d^2 + proj d^2 + mlp 8d^2 MACs per token per layer
    contexts = P * P + sum(P + i for i in range(1, N))  # query x key pairs (prefill is not causal-halved)
    attention = L * 4 * d * contexts  # QK^T and AV
    logits = 2 * d * V * N  # one row of logits per generated token
    assert count_step_flops(prepared.step) == pytest.approx(dense + attention + logits, rel=0.01)


# ---------------------------------------------------------------- peaks


@pytest.mark.parametrize(
    "model, simd, dtype, expected",
    [
        ("Intel Xeon", ["avx2", "fma", "avx512f"], "fp32", 64),
        ("Intel Xeon", ["avx2", "fma", "avx512f", "avx512_bf16"], "bf16", 128),
        ("Intel Xeon", ["avx512f", "amx_bf16", "avx512_bf16"], "bf16", 1024),
        ("AMD EPYC 9R14", ["avx2", "fma", "avx512f", "avx512_bf16"], "fp32", 32),  # Zen 4
        ("AMD Ryzen 9 9950X", ["avx2", "fma", "avx512f", "avx_vnni"], "fp32", 64),  # Zen 5
        ("Intel Core i9", ["avx2", "fma"], "fp32", 32),
        ("Intel Core i9", ["avx2", "fma"], "bf16", 32),
        ("Neoverse", ["asimd"], "fp32", 16),
    ],
)
def test_cpu_flops_per_cycle(model, simd, dtype, expected):
    assert peak.cpu_flops_per_cycle({"model": model, "simd": simd}, dtype)[0] == expected


@pytest.mark.parametrize(
    "simd, dtype, measured, expected, says",
    [
        (["avx512f", "avx512_bf16"], "bf16", 29.3, 32, "flags imply 128"),  # slow vdpbf16ps
        (["avx512f"], "fp32", 60.2, 64, "loop issues 60"),  # confirms the table
        (["avx512f", "avx512_fp16"], "fp16", 300.0, 128, "loop issues 300"),  # never above it
        (["avx512f", "amx_bf16"], "bf16", 29.3, 1024, "AMX"),  # the loop does not use AMX
        (["avx512f"], "fp32", None, 64, "AVX-512"),
    ],
)
def test_measured_issue_rate_corrects_the_flags_table(simd, dtype, measured, expected, says):
    per_cycle, why = peak.cpu_flops_per_cycle({"model": "Intel Xeon", "simd": simd}, dtype, measured)
    assert per_cycle == expected and says in why


def test_issue_rate_loops_run_on_this_cpu():
    import platform
    import shutil

    from aipcbench.devices.cpuissue import measure_flops_per_cycle
    from aipcbench.devices.detect import read_cpu_info
    from aipcbench.devices.timing import best_rate

    simd = set(read_cpu_info().get("simd", []))
    if platform.machine() != "x86_64" or not shutil.which("cc") or not {"avx2", "fma"} <= simd:
        pytest.skip("needs x86-64 with AVX2/FMA and a C compiler")
    found = measure_flops_per_cycle(simd, 3.0, ["fp32", "int8"], best_rate, seconds=0.02)
    assert set(found) == {"fp32"}  # no kernel for int8: absent, not guessed
    assert 1 < found["fp32"]["flops_per_cycle"] < 1000
    assert "register-only loop" in found["fp32"]["method"]
    assert measure_flops_per_cycle(simd, None, ["fp32"], best_rate) == {}  # no clock: nothing to divide by


def test_cpu_rated_peak_formula_is_written_out():
    flops, formula = peak.cpu_rated_peak(
        {"model": "Intel", "simd": ["avx512f"], "physical_cores": 2}, 3.6, "fp32"
    )
    assert flops == pytest.approx(2 * 3.6e9 * 64)
    assert formula.startswith("2 cores x 3.60 GHz (measured) x 64 fp32 FLOP/cycle")


def test_gemm_probe_measures_something_plausible():
    from aipcbench.devices.probe import measure_gemm_flops

    result = measure_gemm_flops("cpu", "fp32", seconds=0.05)
    assert result["flop_per_s"] > 1e8 and result["size"] == 2048 and result["repeats"] >= 3


def test_cpu_clock_measurement_is_plausible():
    from aipcbench.devices.cpuclock import measure_clock_ghz
    from aipcbench.devices.timing import best_rate

    ghz, method = measure_clock_ghz(best_rate, 0.05)
    assert 0.5 < ghz < 7.0, method
