"""Compressing a classifier for inference: 50 % magnitude pruning and quantized weights, each
with what it costs in agreement with the dense fp32 model on a fixed batch.

Pruning (``torch.nn.utils.prune.l1_unstructured`` on every Linear/Conv2d weight, then made
permanent) leaves the tensors dense: the same kernels multiply the zeros, so a pruned cell
takes the dense cell's time. It is measured, not assumed, so the report can show that a
saving needs sparse kernels or structured pruning, not zeros alone.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune

from workloads import fidelity
from workloads.base import QUANTIZED_DTYPES, PrepareContext, Unsupported
from workloads.quantize import quantize_linears

PRUNED_FRACTION = 0.5
PRUNED_SUFFIX = "-pruned"


def prune_weights(model: nn.Module, fraction: float = PRUNED_FRACTION) -> float:
    """Zero the smallest ``fraction`` of each Linear/Conv2d weight; returns the measured share
    of zeros over those weights."""
    zeros = total = 0
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            prune.l1_unstructured(module, "weight", amount=fraction)
            prune.remove(module, "weight")  # bake the mask in: a plain dense tensor again
            zeros += int((module.weight == 0).sum())
            total += module.weight.numel()
    return zeros / total if total else 0.0


@torch.inference_mode()
def _log_probs(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(model(inputs).float(), dim=-1)


def compress(ctx: PrepareContext, model: nn.Module, inputs: torch.Tensor) -> dict:
    """Prune (``*-pruned`` sizes) and/or quantize (int8/int4) ``model`` in place, in eval mode;
    returns the details to record. ``inputs`` is the fixed batch fidelity is measured on."""
    details: dict = {}
    pruned = ctx.size.endswith(PRUNED_SUFFIX)
    if not pruned and ctx.dtype not in QUANTIZED_DTYPES:
        return details
    reference = _log_probs(model, inputs)
    if pruned:
        details["pruned_fraction"] = prune_weights(model)
        details["pruning"] = (
            f"{PRUNED_FRACTION:.0%} magnitude pruning (torch.nn.utils.prune.l1_unstructured) of every "
            "Linear/Conv2d weight; tensors stay dense, so the kernels still multiply the zeros"
        )
    if ctx.dtype in QUANTIZED_DTYPES:
        if ctx.compile:
            raise Unsupported(f"{ctx.dtype} with --compile is not wired up")
        details["quantization"] = quantize_linears(model, ctx.dtype, ctx.device_type)
    details["fidelity"] = {
        "reference_dtype": "fp32, dense",
        "prompts": f"a fixed batch of {inputs.shape[0]} inputs",
        **fidelity.compare(reference, _log_probs(model, inputs)),
    }
    return details
