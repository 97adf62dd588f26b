"""A workload in one file: time a square matrix multiplication, as a forward pass.

Run it with ``aipcbench run --plugin examples/matmul_workload.py --workloads matmul``. Everything
a workload needs from the harness arrives in ``ctx`` (device, dtype, size, the device
synchroniser); it returns a ``PreparedWorkload`` whose ``step`` does one unit of work. The
harness owns the loop and the clock, counts the FLOPs in an untimed step, measures energy and
memory, and prices a run.
"""

import torch

import workloads
from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, WorkloadSpec
from workloads.precision import TORCH_DTYPES

SIZES = {"small": 256, "large": 2048}  # matrix side


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    side = SIZES[ctx.size]
    generator = torch.Generator().manual_seed(ctx.seed)
    a = torch.randn(side, side, generator=generator).to(ctx.device_id, TORCH_DTYPES[ctx.dtype])
    b = torch.randn(side, side, generator=generator).to(ctx.device_id, TORCH_DTYPES[ctx.dtype])

    @torch.inference_mode()
    def step() -> None:
        torch.matmul(a, b)

    return PreparedWorkload(
        step=step,
        items_per_step=1,
        item_unit="matmuls",
        mode="infer",  # priced like inference: by compute
        run=RunDefinition(f"10,000 {side}x{side} matmuls", 10_000),
        data_source="synthetic",
        data_note="random matrices",
        parameters=0,
        details={"side": side},
    )


workloads.register(
    WorkloadSpec(
        name="matmul",
        summary="one square matmul per step (a plugin example)",
        sizes=tuple(SIZES),
        prepare=prepare,
    )
)
