"""The memory a language model needs for one configuration (dtype, batch, context).

    weights     = parameters x bytes per weight (int4: 0.5 + a 2-byte scale per group of 128)
    KV cache    = 2 (keys, values) x layers x batch x context x KV heads x head size x KV bytes
    activations = batch x context x (4 x hidden + intermediate) x activation bytes: one layer's
                  prefill activations, the largest live set of an inference pass
    overhead    = 0.5 GiB on an accelerator (runtime context and allocator): ASSUMPTION

KV cache and activations stay in 16-bit for quantized weights (what int8/int4 weight-only
kernels do); an fp32 model keeps them in fp32. Pure and torch-free, beside the model shapes it
reads so that both the cost side (``aipcbench fit``) and a workload's own fit check use it;
pinned to hand calculations in tests/test_fit.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog.rows import ModelConfig

GIB = 2**30
WEIGHT_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 1.0, "int4": 0.5 + 2.0 / 128}
ACTIVATION_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 2.0, "int4": 2.0}
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
    act = ACTIVATION_BYTES[dtype]
    return MemoryNeed(
        weights_bytes=model.parameters * WEIGHT_BYTES[dtype],
        kv_cache_bytes=2 * model.layers * batch * context * model.kv_heads * model.head_dim * act,
        activations_bytes=batch * context * (4 * model.hidden + model.intermediate) * act,
        overhead_bytes=OVERHEAD_BYTES if accelerator else 0.0,
    )
