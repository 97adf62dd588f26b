"""Weight quantization of a model's linear layers, with PyTorch's own CPU kernels.

Why these kernels (measured side by side on a 2-core AMD EPYC, one 2048x2048 projection at
batch 1, fp32 weights 870 us): ``torch.ao.quantization.quantize_dynamic`` (fbgemm/x86 int8
weights, activations quantized per call) 182 us; torchao 0.18's ``Int8WeightOnlyConfig`` on the
CPU 1,772 us (it dequantizes the weights each call, slower than fp32), and its int4 CPU packing
format is refused by that release. So on a CPU: int8 = torch's dynamic quantization; int4 =
torch's int4 weight-packing kernel (``_weight_int4pack_mm_for_cpu``, groups of 128 with a scale
and zero point each, the layout torchao's int4 uses), wrapped in ``Int4Linear`` below. That
kernel takes bf16 activations: given fp32 ones it falls to a path 12x slower (2,304 vs 196 us
for a 768x2304 projection), so inputs are cast. On a CUDA GPU both come from torchao
(``pip install aipcbench[quant]``) when it is installed; anywhere else the cell is skipped
with the reason.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn
from torch.utils.flop_counter import flop_registry, register_flop_formula

from aipcbench.catalog.model_memory import INT4_GROUP
from workloads.base import Unsupported


class Int4Linear(nn.Module):
    """``nn.Linear`` with 4-bit weights: groups of ``INT4_GROUP`` inputs share a scale and a
    zero point (asymmetric), packed once for torch's CPU int4 matmul."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()  # (out, in)
        out_features, in_features = weight.shape
        groups = weight.reshape(out_features, in_features // INT4_GROUP, INT4_GROUP)
        low, high = groups.amin(-1), groups.amax(-1)
        scale = (high - low).clamp(min=1e-8) / 15
        codes = torch.clamp(torch.round((groups - low[..., None]) / scale[..., None]), 0, 15)
        self.register_buffer(
            "packed",
            torch._convert_weight_to_int4pack_for_cpu(
                codes.to(torch.int32).reshape(out_features, in_features), 1
            ),
        )
        # weight = (code - 8) * scale + zero, so zero = low + 8 * scale; layout (groups, out, 2)
        self.register_buffer(
            "scale_zero",
            torch.stack([scale, low + 8 * scale], -1).transpose(0, 1).contiguous().to(torch.bfloat16),
        )
        self.bias = (
            None if linear.bias is None else nn.Parameter(linear.bias.detach().float(), requires_grad=False)
        )
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (..., in)
        flat = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)  # fp32 input takes a 10x slower path
        y = torch._weight_int4pack_mm_for_cpu(flat, self.packed, INT4_GROUP, self.scale_zero)
        y = y.to(x.dtype)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)


def quantize_linears(model: nn.Module, dtype: str, device_type: str) -> str:
    """Quantize every ``nn.Linear`` of ``model`` in place; return how (for the results)."""
    if device_type == "cuda":
        return _torchao(model, dtype)
    if device_type != "cpu":
        raise Unsupported(f"{dtype}: no quantized kernel wired up for {device_type} devices")
    if dtype == "int8":
        if "x86" not in torch.backends.quantized.supported_engines and "fbgemm" not in (
            torch.backends.quantized.supported_engines
        ):
            raise Unsupported("int8: this torch build has no x86/fbgemm quantized engine")
        with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
            warnings.simplefilter("ignore")
            torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)
        return (
            "torch.ao dynamic int8 (x86/fbgemm): int8 weights per output channel, "
            "activations quantized per call"
        )
    replaced = _replace_linears(model)
    if not replaced:
        raise Unsupported(f"int4: no linear layer has a width divisible by {INT4_GROUP}")
    return (
        f"torch int4 CPU kernel (_weight_int4pack_mm_for_cpu): 4-bit weights, groups of {INT4_GROUP} "
        f"with bf16 scale and zero point, activations cast to bf16 for the matmul; "
        f"{replaced} linear layer{'' if replaced == 1 else 's'}"
    )


def _replace_linears(model: nn.Module) -> int:
    """Swap each quantizable ``nn.Linear`` for an ``Int4Linear``; layers too narrow stay as they are."""
    replaced = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and _int4_packable(child):
                setattr(module, name, Int4Linear(child))
                replaced += 1
    return replaced


def _int4_packable(linear: nn.Linear) -> bool:
    """The CPU packing kernel takes inputs in whole groups and outputs in multiples of 16
    (GPT-2's 50,257-wide output layer is neither, and stays in fp32)."""
    return linear.in_features % INT4_GROUP == 0 and linear.out_features % 16 == 0


def _torchao(model: nn.Module, dtype: str) -> str:
    try:
        from torchao.quantization import Int4WeightOnlyConfig, Int8WeightOnlyConfig, quantize_
    except ImportError:
        raise Unsupported(
            f"{dtype} on CUDA needs torchao (pip install 'aipcbench[quant]'): not installed"
        ) from None
    config = Int8WeightOnlyConfig() if dtype == "int8" else Int4WeightOnlyConfig(group_size=INT4_GROUP)
    if dtype == "int4":
        model.to(torch.bfloat16)  # torchao's int4 CUDA kernels take bf16 activations
    quantize_(model, config)
    return f"torchao {type(config).__name__} (weight-only)"


def quantized_weight_bytes(model: nn.Module) -> int:
    """Bytes of every weight the quantized model reads per pass: parameters, packed buffers,
    and the packed weights torch's dynamic-quantized linears keep outside ``parameters()``."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for name, b in model.named_buffers() if "inv_freq" not in name)
    for module in model.modules():
        packed = getattr(module, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            weight, bias = packed._weight_bias()
            total += weight.numel() * weight.element_size() + (0 if bias is None else bias.numel() * 4)
    return total


def _matmul_flops(x_shape, *args, out_shape=None, **kwargs) -> int:
    """2 x inputs x outputs per row: the FLOPs of the float product the kernel stands for."""
    return 2 * math.prod(x_shape) * out_shape[-1]


# FlopCounterMode does not know the quantized kernels: without these a quantized cell counts 0.
for _op in (torch.ops.quantized.linear_dynamic, torch.ops.aten._weight_int4pack_mm_for_cpu):
    if _op not in flop_registry:
        register_flop_formula(_op)(_matmul_flops)
