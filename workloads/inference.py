"""The step of an inference cell: one forward pass per call over batches already on the
device, under the cell's autocast (none for fp32 or quantized weights), compiled if asked."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable

import torch

from workloads.base import QUANTIZED_DTYPES, PrepareContext
from workloads.precision import autocast_for


def forward_step(
    ctx: PrepareContext, model: torch.nn.Module, inputs: list[torch.Tensor]
) -> Callable[[], None]:
    runnable = torch.compile(model) if ctx.compile else model
    autocast = contextlib.nullcontext if ctx.dtype in QUANTIZED_DTYPES else autocast_for(ctx)
    cycle = itertools.cycle(inputs)

    @torch.inference_mode()
    def step() -> None:
        with autocast():
            runnable(next(cycle))

    return step
