"""Pretraining a language model from scratch: how many FLOPs, how long on which GPUs, and what it
costs, with a range, before anyone raises money for it.

    tokens D    = 20 x parameters unless given (Hoffmann et al. 2022, "Training Compute-Optimal
                  Large Language Models": about 20 tokens per parameter)
    FLOPs       = D x (6 N + 12 x layers x width x sequence)   (forward and backward: 6 FLOPs a
                  parameter a token, plus attention's scores and mixing; PaLM, Chowdhery et al.
                  2022, appendix B)
    time        = FLOPs / (GPUs x bf16 peak x MFU x scaling)
    MFU         = the GPU bf16 compute-efficiency row of catalog/data/estimator.csv (15-65 %,
                  central 40 %: published large-scale training MFU), the one the estimator uses
    scaling     = 1 for one GPU; ASSUMPTION 0.80-0.95 (central 0.90) inside an NVLink node,
                  0.60-0.90 (0.75) across GPUs on PCIe without NVLink (gradients cross the host)
    memory/GPU  = 16 bytes a parameter (bf16 weights and gradients, fp32 master weights and two
                  AdamW moments) / GPUs (fully sharded) + checkpointed activations of one
                  sequence (``catalog.train_memory``)
    cost        = rented: hours x the offer's hourly price; owned: the run's share of the
                  machine's month (``cost.cash``; busy around the clock) + power x hours x
                  electricity

A fine-tune (a plan's ``[[finetune]]``) is the same arithmetic on its own tokens (default one
epoch over 10 M) with the method's FLOPs and memory:

    full        6 FLOPs a parameter a token, memory as above
    LoRA        4 (forward 2, backward 2 for the activations' gradients; the frozen weights get
                no gradient) to 6 (no saving at all, as the fine-tune workload measured for a
                124 M model on CPU, where peft's small extra matmuls cost more than they save),
                central 4.8 (Hu et al. 2021, "LoRA", section 4.2: 25 % faster than a full
                fine-tune of GPT-3 175B, 6 / 1.25); memory ``train_memory_need(model, "lora",
                "bf16", 1, sequence, checkpointing=True)`` on every GPU (replicated, not sharded)

Pure and torch-free; pinned to a hand calculation in tests/test_pretrain.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog, DeviceSpec
from aipcbench.catalog.model_memory import GIB
from aipcbench.catalog.rows import ModelConfig
from aipcbench.catalog.train_memory import train_memory_need
from aipcbench.cost.estimate import Span
from aipcbench.units import DAYS_PER_MONTH, SECONDS_PER_HOUR

TOKENS_PER_PARAMETER = 20.0
NVLINK_SCALING = Span(0.80, 0.90, 0.95)  # ASSUMPTION, see the module docstring
PCIE_SCALING = Span(0.60, 0.75, 0.90)  # ASSUMPTION
NVLINK_GPUS = ("H100-SXM", "H200", "A100-40GB", "A100-80GB", "B200", "V100")
# FLOPs a parameter a token, forward and backward, by method (see the module docstring)
FLOPS_PER_PARAMETER = {"full": Span(6.0, 6.0, 6.0), "lora": Span(4.0, 4.8, 6.0)}
FINETUNE_TOKENS = 1e7  # one epoch over 10 M tokens: a fine-tune's default run


def training_flops(model: ModelConfig, tokens: float, sequence: int, per_parameter: float = 6.0) -> float:
    width = model.heads * model.head_dim
    return tokens * (per_parameter * model.parameters + 12 * model.layers * width * sequence)


def flops_range(model: ModelConfig, tokens: float, sequence: int, method: str = "full") -> Span:
    """The run's FLOPs at the method's low, central and high FLOPs a parameter."""
    per = FLOPS_PER_PARAMETER[method]
    return Span(
        *(training_flops(model, tokens, sequence, getattr(per, end)) for end in ("low", "central", "high"))
    )


@dataclass(frozen=True)
class PretrainOption:
    name: str
    accelerator: str
    gpus: int
    hours: Span  # low (fast) / central / high (slow)
    usd: Span | None  # None: no price
    memory_per_gpu_bytes: float
    fits: bool
    kind: str  # rent | own
    method: str = "estimate"  # estimate | measured (a fine-tune cell measured on this machine)


def _scaling(spec: DeviceSpec, gpus: int) -> Span:
    if gpus == 1:
        return Span(1.0, 1.0, 1.0)
    return NVLINK_SCALING if spec.key in NVLINK_GPUS else PCIE_SCALING


def _hours(flops: Span, spec: DeviceSpec, gpus: int, mfu: Span) -> Span | None:
    peak = spec.peak_tflops("bf16")
    if not peak:
        return None
    scaling = _scaling(spec, gpus)
    rate = {
        end: gpus * peak * 1e12 * getattr(mfu, end) * getattr(scaling, end)
        for end in ("low", "central", "high")
    }
    return Span(
        flops.low / rate["high"] / SECONDS_PER_HOUR,
        flops.central / rate["central"] / SECONDS_PER_HOUR,
        flops.high / rate["low"] / SECONDS_PER_HOUR,
    )


def memory_per_gpu(model: ModelConfig, sequence: int, gpus: int, method: str = "full") -> float:
    if method == "lora":  # every GPU holds the frozen weights and the adapters' state
        return train_memory_need(model, "lora", "bf16", 1, sequence, checkpointing=True).total_bytes
    activations = train_memory_need(model, "full", "bf16", 1, sequence, checkpointing=True)
    return (
        model.parameters * 16 / gpus
        + activations.activations_bytes
        + activations.logits_bytes
        + activations.overhead_bytes
    )


def plan_pretraining(
    catalog: Catalog,
    model: ModelConfig,
    tokens: float,
    sequence: int,
    owned: list = (),
    method: str = "full",
) -> tuple[float, list[PretrainOption]]:
    """(central FLOPs, every rented offer and owned candidate) for training ``model`` on
    ``tokens`` from scratch or, ``method`` "lora", as adapters."""
    mfu_row = catalog.estimator_row("gpu", "compute_efficiency", "bf16")
    mfu = Span(mfu_row.low, mfu_row.central, mfu_row.high)
    flops = flops_range(model, tokens, sequence, method)
    options = []
    for offer in catalog.cloud_offers:
        spec = catalog.spec(offer.accelerator)
        hours = _hours(flops, spec, offer.gpu_count, mfu) if spec else None
        if hours is None or not spec.memory_gb:
            continue
        memory = memory_per_gpu(model, sequence, offer.gpu_count, method)
        price = offer.on_demand_per_hour
        usd = Span(hours.low * price, hours.central * price, hours.high * price)
        name = f"{offer.provider} {offer.instance_type}"
        options.append(
            PretrainOption(
                name, spec.key, offer.gpu_count, hours, usd, memory, memory <= spec.memory_gb * GIB, "rent"
            )
        )
    for machine, gpus in owned:
        options.append(_owned(machine, gpus, catalog, model, flops, sequence, mfu, method))
    return flops.central, sorted(
        options, key=lambda o: (not o.fits, o.usd.central if o.usd else float("inf"))
    )


def _owned(machine, gpus: int, catalog: Catalog, model: ModelConfig, flops: Span, sequence: int, mfu, method):
    from aipcbench.cost import cash

    spec = catalog.spec(machine.accelerator)
    hours = _hours(flops, spec, gpus, mfu)
    memory = memory_per_gpu(model, sequence, gpus, method)
    # a pretraining run keeps the machine busy around the clock: its month spread over every hour
    hardware = (cash.hardware_usd_per_month(machine) + cash.upkeep_usd_per_month(machine)) / (
        24 * DAYS_PER_MONTH
    )
    per_hour = hardware + (machine.power_w or 0) / 1000 * cash.usd_per_kwh(machine)
    usd = Span(hours.low * per_hour, hours.central * per_hour, hours.high * per_hour)
    return PretrainOption(
        machine.name, spec.key, gpus, hours, usd, memory, memory <= spec.memory_gb * GIB, "own"
    )
