"""The memory a language model needs for one configuration (dtype, batch, context).

    weights     = parameters x bytes per weight (int4: 0.5 + a 16-bit scale and a 16-bit zero
                  point per group of 128, what the int4 kernels store)
    KV cache    = 2 (keys, values) x layers x batch x context x KV heads x head size x KV bytes
    activations = batch x context x (4 x hidden + intermediate) x activation bytes: one layer's
                  prefill activations, the largest live set of an inference pass
    overhead    = 0.5 GiB on an accelerator (runtime context and allocator): ASSUMPTION

KV cache and activations of a weight-quantized model: 16-bit on an accelerator (what int8/int4
weight-only kernels there take), fp32 on a CPU (torch's int8 and int4 CPU kernels take float
activations and aipcbench's decode keeps an fp32 cache): ``activation_bytes``, the one rule the
fit formula and the workloads share. A float model keeps them in its own dtype.

Pure and torch-free, beside the model shapes it reads so that both the cost side (``aipcbench
fit``) and a workload's own fit check use it; pinned to hand calculations in tests/test_fit.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog.rows import ModelConfig

GIB = 2**30
INT4_GROUP = 128  # inputs that share one scale and one zero point
INT4_GROUP_BYTES = 4  # a bf16 scale and a bf16 zero point per group
FLOAT_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0}
WEIGHT_BYTES = {**FLOAT_BYTES, "int8": 1.0, "int4": 0.5 + INT4_GROUP_BYTES / INT4_GROUP}


def activation_bytes(dtype: str, accelerator: bool) -> float:
    """Bytes per activation and KV-cache element of a model at ``dtype`` (see the docstring)."""
    if dtype in FLOAT_BYTES:
        return FLOAT_BYTES[dtype]
    return 2.0 if accelerator else 4.0


OVERHEAD_BYTES = 0.5 * GIB  # ASSUMPTION: CUDA context + allocator slack on a GPU


@dataclass(frozen=True)
class MemoryNeed:
    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    overhead_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_cache_bytes + self.activations_bytes + self.overhead_bytes


def memory_need(
    model: ModelConfig, dtype: str, batch: int, context: int, accelerator: bool = True
) -> MemoryNeed:
    if dtype not in WEIGHT_BYTES:
        raise ValueError(f"unknown dtype {dtype!r} (known: {', '.join(WEIGHT_BYTES)})")
    act = activation_bytes(dtype, accelerator)
    return MemoryNeed(
        weights_bytes=model.parameters * WEIGHT_BYTES[dtype],
        kv_cache_bytes=2 * model.layers * batch * context * model.kv_heads * model.head_dim * act,
        activations_bytes=batch * context * (4 * model.hidden + model.intermediate) * act,
        overhead_bytes=OVERHEAD_BYTES if accelerator else 0.0,
    )
