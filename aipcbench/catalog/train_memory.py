"""The memory one training step of a language model needs: a full fine-tune or LoRA adapters.

    weights      = parameters x bytes they are kept in (full: fp32 master weights, whatever the
                   compute dtype; LoRA: the cell's dtype, frozen)
    trainable    = full: every parameter; LoRA: rank x (inputs + outputs) of every adapted matrix
                   (attention and MLP projections of every layer)
    gradients    = trainable x 4 bytes (fp32)
    optimizer    = trainable x 8 bytes (AdamW: two fp32 moments)
    activations  = layers x batch x seq x hidden x (34 + 5 x heads x seq / hidden) x act / 2
                   (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
                   Transformer Models", eq. 1: bytes of 16-bit activations a layer keeps for
                   backward, attention scores materialised; scaled to the activation dtype);
                   with gradient checkpointing only each layer's input is kept
                   (layers x batch x seq x hidden x act) plus one layer recomputed
    logits       = batch x seq x vocabulary x 4 x 2 (fp32 logits and their gradient)
    overhead     = 0.5 GiB on an accelerator (``model_memory.OVERHEAD_BYTES``): ASSUMPTION

Pure and torch-free; the fine-tune workload checks it before building anything and records it
beside the measured peak (tests/test_finetune.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog.model_memory import FLOAT_BYTES, OVERHEAD_BYTES
from aipcbench.catalog.rows import ModelConfig

METHODS = ("lora", "full")
LORA_RANK = 16  # the peft examples' and most recipes' default range is 8-64; 16 is the middle
# which projections get adapters: "all" (attention and MLP, most recipes now) or "attention"
# (q, k, v and the output projection: the LoRA paper's own choice)
LORA_TARGETS = ("all", "attention")


def adapted_matrices(model: ModelConfig, targets: str = "all") -> list[tuple[float, float]]:
    """(inputs, outputs) of one layer's matrices LoRA adapts: the attention projections, and
    the MLP's too unless ``targets`` is "attention"."""
    h, inner = model.hidden, model.intermediate
    if model.architecture == "gpt2":  # c_attn (q, k, v together), attn c_proj; c_fc, mlp c_proj
        attention, mlp = [(h, 3 * h), (h, h)], [(h, inner), (inner, h)]
    else:
        q, kv = model.heads * model.head_dim, model.kv_heads * model.head_dim
        attention, mlp = [(h, q), (h, kv), (h, kv), (q, h)], [(h, inner), (h, inner), (inner, h)]
    return attention if targets == "attention" else attention + mlp


def lora_parameters(model: ModelConfig, rank: int = LORA_RANK, targets: str = "all") -> float:
    return model.layers * rank * sum(a + b for a, b in adapted_matrices(model, targets))


@dataclass(frozen=True)
class TrainNeed:
    weights_bytes: float
    trainable_parameters: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    logits_bytes: float
    overhead_bytes: float

    @property
    def total_bytes(self) -> float:
        return (
            self.weights_bytes
            + self.gradients_bytes
            + self.optimizer_bytes
            + self.activations_bytes
            + self.logits_bytes
            + self.overhead_bytes
        )


def train_memory_need(
    model: ModelConfig,
    method: str,
    dtype: str,
    batch: int,
    seq: int,
    checkpointing: bool = False,
    accelerator: bool = True,
    rank: int = LORA_RANK,
    targets: str = "all",
) -> TrainNeed:
    if method not in METHODS or dtype not in FLOAT_BYTES:
        raise ValueError(f"method one of {', '.join(METHODS)} and a float dtype, got {method!r}, {dtype!r}")
    act = FLOAT_BYTES[dtype]
    if method == "full":
        weights, trainable = model.parameters * 4.0, model.parameters
    else:
        trainable = lora_parameters(model, rank, targets)
        weights = model.parameters * FLOAT_BYTES[dtype] + trainable * 4.0  # adapters in fp32
    per_layer = batch * seq * model.hidden * (34 + 5 * model.heads * seq / model.hidden) * act / 2
    if checkpointing:
        activations = model.layers * batch * seq * model.hidden * act + per_layer
    else:
        activations = model.layers * per_layer
    return TrainNeed(
        weights_bytes=weights,
        trainable_parameters=trainable,
        gradients_bytes=trainable * 4.0,
        optimizer_bytes=trainable * 8.0,
        activations_bytes=activations,
        logits_bytes=batch * seq * model.vocab * 4.0 * 2,
        overhead_bytes=OVERHEAD_BYTES if accelerator else 0.0,
    )
