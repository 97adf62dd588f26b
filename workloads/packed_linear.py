"""``nn.Linear`` layers whose weights oneDNN has pre-packed, for bf16 inference on a CPU.

Why: at batch 1 each projection of a decoder is a matrix-vector product that only streams its
weights. PyTorch's default CPU bf16 path streams GPT-2's 48 projection matrices at 11-13.5 GB/s
on a 2-core AVX-512 Xeon; oneDNN's matmul on weights re-laid out once into its blocked format
(what ``torch.compile``'s CPU freezing pass does) streams them at 18-19 GB/s, with outputs equal
to the last bit: GPT-2 batch-1 decode 1.34x (1.28-1.36 over 8 interleaved rounds), the same
greedy tokens. fp32 is faster unpacked there (26 vs 20 GB/s) and so is fp16 (decode 0.85x), so
only bf16 is packed.

``FlopCounterMode`` has no formula for the oneDNN op, so one is registered here
(2 x rows x in x out, as for ``addmm``): FLOP counts stay those of the unpacked model (tested).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn
from torch.utils.flop_counter import flop_registry, register_flop_formula


def _has_ops() -> bool:
    """This torch build has oneDNN and the two ops (x86 and Arm CPU builds do)."""
    try:
        return torch.backends.mkldnn.is_available() and all(
            hasattr(torch.ops.mkldnn, op) for op in ("_linear_pointwise", "_reorder_linear_weight")
        )
    except (AttributeError, RuntimeError):
        return False


@functools.cache
def available() -> bool:
    """The ops exist *and* this CPU can pack bf16 weights: oneDNN's bf16 reorder needs
    AVX512BW/VL/DQ or AVX-NE-CONVERT, which an AVX2-only core (e.g. an AMD EPYC without
    AVX-512) lacks even though the build has the op. Asked once, on a 16x16 weight."""
    if not _has_ops():
        return False
    try:
        torch.ops.mkldnn._reorder_linear_weight(torch.zeros(16, 16, dtype=torch.bfloat16), 1)
    except RuntimeError:
        return False
    return True


class PackedLinear(nn.Module):
    """``y = x @ W.T + b`` through oneDNN, with ``W`` packed once at construction."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        # a plain attribute, not a buffer: an opaque oneDNN tensor has no storage to save or move
        self.packed_weight = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), 1)
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight, self.bias, "none", [], "")


def pack_linears(model: nn.Module) -> int:
    """Replace every ``nn.Linear`` of ``model`` by a ``PackedLinear``; returns how many. A
    weight tied to an embedding (GPT-2's output layer) is packed as a copy: the embedding
    keeps its own."""
    replaced = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Linear):
                setattr(module, name, PackedLinear(child))
                replaced += 1
    return replaced


def _linear_flops(x_shape, w_shape, *args, out_shape=None, **kwargs) -> int:
    out_features, in_features = w_shape
    return 2 * math.prod(x_shape[:-1]) * in_features * out_features


if _has_ops() and torch.ops.mkldnn._linear_pointwise not in flop_registry:
    register_flop_formula(torch.ops.mkldnn._linear_pointwise)(_linear_flops)
