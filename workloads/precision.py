"""Precision: the torch dtype of each of aipcbench's dtype names, and mixed-precision autocast."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from workloads.base import PrepareContext, Unsupported

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_for(ctx: PrepareContext) -> Callable[[], contextlib.AbstractContextManager]:
    """A factory of the autocast context for the cell's dtype (fp32: no autocast).

    Mixed precision the way training uses it: weights and optimizer state stay fp32, matmuls
    and convolutions run in the reduced type inside ``torch.autocast``.
    """
    if ctx.dtype == "fp32":
        return contextlib.nullcontext
    dtype = TORCH_DTYPES[ctx.dtype]
    if not torch.amp.is_autocast_available(ctx.device_type):
        raise Unsupported(f"autocast is not available on {ctx.device_type}")
    if ctx.device_type == "cuda" and dtype is torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise Unsupported(f"{ctx.device_id} does not support bf16")
    return lambda: torch.autocast(ctx.device_type, dtype=dtype)
