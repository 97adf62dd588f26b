"""Data-parallel cells under ``torchrun``: agreeing on the work, gathering, aggregating.

Every rank runs the same worker; PyTorch's DistributedDataParallel (gloo on CPU, nccl on
CUDA) keeps the replicas in step. The rules, written once here and tested:

- **Step count.** Ranks must run the same number of steps (each step ends in an all-reduce), so
  the count is agreed before timing: every rank times its warm-up steps, the slowest median
  wins, and all ranks run max(min_steps, min_time / that median) steps, capped by the policy.
- **Step time** of step i is the slowest rank's: the step is done when the last rank is.
- **Throughput** = global items per step (items per rank x world size) / median step time.
- **Energy** is summed over devices: sensors that see a whole device (NVML, RAPL) count once per
  device however many ranks share it; per-process estimates (estimate-tdp) are summed.
- **Peak memory** is kept per rank/device, never summed or averaged.
- **Scaling efficiency** = throughput(N) / (N x throughput(1)), with N = 1 measured in the same
  run (``--ddp-sweep 1,2,4``).
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass
from typing import Any

from aipcbench.devices.timing import Measurement
from aipcbench.results.record import CellRecord, DataParallel, Energy, Flops, Memory, RankMemory, TimingPolicy
from aipcbench.run import cell_record, quality

WHOLE_DEVICE_METHODS = ("nvml-counter", "nvml-power", "rapl")


@dataclass(frozen=True)
class Rank:
    rank: int
    local_rank: int
    world_size: int
    backend: str


def from_env(device_kind: str) -> Rank | None:
    """Initialise the process group if torchrun started us (WORLD_SIZE set), else None."""
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return None
    import torch.distributed as dist

    backend = "nccl" if device_kind == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return Rank(
        int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", 0)), int(os.environ["WORLD_SIZE"]), backend
    )


def agreed_steps(local_median_s: float, policy: TimingPolicy) -> int:
    """The step count every rank will run (all-reduce MAX of the warm-up medians)."""
    import torch
    import torch.distributed as dist

    slowest = torch.tensor([local_median_s], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        slowest = slowest.cuda()
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    return steps_for(float(slowest.item()), policy)


def steps_for(step_s: float, policy: TimingPolicy) -> int:
    """max(min_steps, min_time / step time), within max_steps and max_time."""
    wanted = math.ceil(policy.min_time_s / step_s) if step_s > 0 else policy.max_steps
    capped = min(wanted, policy.max_steps, max(1, int(policy.max_time_s / max(step_s, 1e-9))))
    return max(policy.min_steps, capped)


def gather(obj: Any) -> list[Any]:
    import torch.distributed as dist

    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def slowest_per_step(per_rank: list[list[float]]) -> list[float]:
    """Step i's time is the slowest rank's step i."""
    return [max(values) for values in zip(*per_rank)]


def total_energy(readings: list[dict[str, Any]]) -> tuple[float | None, str | None]:
    """Joules over the window by the rules above; None if any needed reading is missing."""
    seen_devices, total, methods = set(), 0.0, set()
    for reading in readings:
        if reading.get("joules") is None:
            return None, reading.get("method")
        methods.add(reading["method"])
        if reading["method"] in WHOLE_DEVICE_METHODS:
            if reading["device"] in seen_devices:
                continue
            seen_devices.add(reading["device"])
        total += reading["joules"]
    return total, "+".join(sorted(methods)) if methods else None


def scaling_efficiency(items_per_s_n: float, world_size: int, items_per_s_1: float) -> float:
    return items_per_s_n / (world_size * items_per_s_1)


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class RankFigures:
    """What one process measured for a cell, before any aggregation across ranks."""

    measurement: Measurement
    warmup_s: tuple[float, ...]
    energy: Any  # EnergyReading or None
    memory: dict[str, Any]
    losses: tuple[float | None, float | None, float | None]  # initial, start, end
    optimizer_steps: int
    flops_per_step: int | None
    flops_note: str
    setup_s: float
    first_step_s: float
    device_id: str


def aggregate(
    base: dict[str, Any], rank: Rank, prepared: Any, policy: TimingPolicy, figures: RankFigures
) -> CellRecord | None:
    """Gather every rank's figures on rank 0 and aggregate them by the rules above (None on
    the other ranks).

    Longer than 60 lines: the aggregation rules across ranks (time, items, energy, memory), each a few
    lines, kept together as the one statement of those rules.
    """
    mine = {
        "rank": rank.rank,
        "device": figures.device_id,
        "samples_s": list(figures.measurement.samples_s),
        "window_s": figures.measurement.window_s,
        "energy": {
            "joules": figures.energy.joules if figures.energy else None,
            "method": figures.energy.method if figures.energy else None,
            "device": figures.device_id,
        },
        "memory": figures.memory,
    }
    everyone = gather(mine)
    if rank.rank != 0:
        return None
    per_rank = tuple(tuple(r["samples_s"]) for r in everyone)
    window = max(r["window_s"] for r in everyone)
    aggregated = Measurement(tuple(slowest_per_step(per_rank)), (), window, "agreed-step-count")
    global_items = prepared.items_per_step * rank.world_size
    joules, method = total_energy([r["energy"] for r in everyone])
    throughput, run = cell_record.throughput_and_run(
        aggregated, global_items, prepared.run.description, prepared.run.items_per_run
    )
    record = CellRecord(
        **base,
        workload_facts=cell_record.workload_facts(prepared, global_items),
        timing=cell_record.timing(
            policy,
            figures.setup_s,
            figures.first_step_s,
            aggregated,
            figures.warmup_s,
            per_rank,
            "step time = slowest rank's; throughput = global items / it",
        ),
        step_time=cell_record.step_time(aggregated.samples_s),
        stability=cell_record.stability(aggregated.samples_s),
        throughput=throughput,
        run=run,
        quality=quality.judge(*figures.losses, figures.optimizer_steps),
        flops=Flops(
            figures.flops_per_step * rank.world_size if figures.flops_per_step is not None else None,
            figures.flops_note + " (one rank's count x world size)",
        ),
        memory=Memory(
            peak_bytes=max((r["memory"].get("peak_memory_bytes") or 0) for r in everyone),
            method=everyone[0]["memory"].get("peak_memory_method"),
            per_rank=tuple(
                RankMemory(
                    r["rank"],
                    r["device"],
                    r["memory"].get("peak_memory_bytes"),
                    r["memory"].get("peak_memory_method"),
                )
                for r in everyone
            ),
        ),
        energy=Energy(joules, window, method, "summed over devices (whole-device sensors once per device)"),
        data_parallel=DataParallel(rank.world_size, rank.backend, prepared.items_per_step),
    )
    return record
