"""What only a real NVIDIA GPU can check (skipped elsewhere; run by scripts/gpu-reference.sh):
CUDA-synchronised timing, NVML energy against integrated power, GPU memory figures, nccl with
one rank, and a parent process that never holds a CUDA context."""

from __future__ import annotations

import pytest

from aipcbench import results

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
FAST = ["--warmup", "2", "--min-steps", "5", "--min-time", "1", "--max-time", "3", "--no-report"]


def test_a_cuda_cell_records_synchronised_times_nvml_energy_and_allocator_memory(cli, tmp_path):
    code, _, err = cli(
        "run",
        "--devices",
        "cuda:0",
        "--workloads",
        "mlp:full,gpt2-generate:batch1",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 0, err
    doc = results.load(next(tmp_path.glob("run-*.json")))
    for record in doc.records:
        assert record.status == "ok", record.reason
        assert record.step_time.median_s > 0 and record.flops.achieved_flop_per_s > 0
        assert record.energy.method in ("nvml-counter", "nvml-power"), record.energy.note
        assert record.energy.per_run_j and record.energy.per_run_j > 0
        assert record.memory.method == "cuda-allocator-peak" and record.memory.peak_bytes > 0
    # the parent never initialised CUDA: every cell ran in its own process
    assert not torch.cuda.is_initialized()


def test_nvml_counter_agrees_with_integrated_power():
    from aipcbench.devices.energy import NvmlCounterMeter, NvmlPowerMeter
    from aipcbench.devices.nvml import open_device

    nvml, handle, note = open_device(0, None)
    assert nvml is not None, note
    counter, power = NvmlCounterMeter(nvml, handle), NvmlPowerMeter(nvml, handle)
    a = torch.randn(8192, 8192, device="cuda")
    counter.start()
    power.start()
    for _ in range(200):
        a @ a
    torch.cuda.synchronize()
    by_counter, by_power = counter.stop(), power.stop()
    assert by_counter.joules and by_power.joules
    assert abs(by_counter.joules / by_power.joules - 1) < 0.25, (by_counter, by_power)


def test_nccl_data_parallel_with_one_rank(cli, tmp_path):
    code, _, err = cli(
        "run",
        "--devices",
        "cuda:0",
        "--workloads",
        "mlp:tiny",
        "--nproc-per-node",
        "1",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 0, err
    (record,) = results.load(next(tmp_path.glob("run-*.json"))).records
    assert record.status == "ok" and record.data_parallel.backend == "nccl"


def test_causal_lm_on_cuda_fits_generates_and_quantizes_where_torchao_is(cli, tmp_path):
    """A Qwen2.5-0.5B-shaped model at bf16, int8 and int4: ok, or int8/int4 skipped with the
    reason when torchao is not installed (it is the CUDA path; the CPU kernels are torch's)."""
    code, _, err = cli(
        "run",
        "--devices",
        "cuda:0",
        "--workloads",
        "causal-lm:batch1",
        "--model",
        "qwen2.5-0.5b",
        "--dtype",
        "bf16,int8,int4",
        "--new-tokens",
        "16",
        "--results-dir",
        str(tmp_path),
        *FAST,
    )
    assert code == 0, err
    records = {r.dtype: r for r in results.load(next(tmp_path.glob("run-*.json"))).records}
    assert records["bf16"].status == "ok" and records["bf16"].memory.peak_bytes > 0
    for dtype in ("int8", "int4"):
        record = records[dtype]
        assert record.status == "ok" or (record.status == "skipped" and "torchao" in record.reason), (
            record.reason
        )
        if record.status == "ok":
            assert 0 <= record.workload_facts.details["fidelity"]["top1_agreement"] <= 1
