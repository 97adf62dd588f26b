"""Any causal language model: greedy generation, prefill and decode timed apart.

``--model`` names a catalog shape (``aipcbench fit --list``: GPT-2 124M/355M, Qwen2.5-0.5B-,
Llama-3.2-1B- and Llama-3.1-8B-shaped) or a Hugging Face model directory (safetensors only). A
catalog shape finds real weights the way GPT-2 does (``--data-dir/KEY``, ``$AIPCBENCH_MODEL_DIR``,
``./data/KEY``) and otherwise runs with random weights, labelled so: same shapes, FLOPs and bytes.

Before anything is built the cell checks that the model fits: weights at the dtype (and the
fp32 copy a quantized model is made from, with packing temporaries) + KV cache + activations
against the device's memory (``aipcbench.catalog.model_memory``); a model that cannot fit
is skipped with the figures, never left to the out-of-memory killer.

Sizes: ``batch1`` (one user) and ``batched`` (8 sequences on a CPU, 32 on a GPU). Defaults: a
32-token prompt and 64 new tokens (``--prompt-tokens``, ``--new-tokens``); one run = 1,000
generations.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import torch

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_folder import stored_parameters
from aipcbench.catalog.model_memory import GIB, WEIGHT_BYTES, memory_need
from aipcbench.catalog.rows import ModelConfig
from aipcbench.errors import DataError, UserInputError
from aipcbench.host_memory import available_host_bytes
from workloads.base import (
    DTYPES,
    QUANTIZED_DTYPES,
    PrepareContext,
    PreparedWorkload,
    Unsupported,
    WorkloadSpec,
    device_kind,
)
from workloads.generation import Lengths, LoadedModel, generation_workload
from workloads.lm_models import (
    built_parameters,
    load_pretrained,
    random_model,
    read_config,
    shape_of,
    transformers_config,
)
from workloads.precision import TORCH_DTYPES

LENGTHS = Lengths(prompt_tokens=32, new_tokens=64, quick_new_tokens=16, run_generations=1_000)


def resolve(name: str, data_dir: Path | None) -> tuple[ModelConfig, Path | None]:
    """The model's shape, and the directory of its weights when there is one."""
    catalog = {m.key: m for m in load_catalog().model_configs}
    if name in catalog:
        shape = catalog[name]
        places = [data_dir / name] if data_dir else []
        places += [Path(os.environ["AIPCBENCH_MODEL_DIR"])] if os.environ.get("AIPCBENCH_MODEL_DIR") else []
        places.append(Path("data") / name)
        directory = next((p for p in places if (p / "config.json").is_file()), None)
        return shape, directory
    directory = Path(name)
    if not directory.is_dir():
        raise UserInputError(
            f"--model: '{name}' is neither a catalog model ({', '.join(catalog)}) nor a directory"
        )
    return shape_of(read_config(directory), str(directory), directory.name), directory


def check_model_option(options) -> None:
    """``--model`` checked before any cell starts (one line, exit 2): a catalog key, or a
    directory with a config of a supported architecture and safetensors weights."""
    if options.model in {m.key for m in load_catalog().model_configs}:
        return
    _, directory = resolve(options.model, None)  # a missing directory, config or architecture
    if not any(directory.glob("*.safetensors")):
        pickled = (directory / "pytorch_model.bin").is_file()
        raise UserInputError(
            f"--model: {directory}: no model.safetensors"
            + (
                " (only pickled pytorch_model.bin, never loaded: convert it with save_pretrained)"
                if pickled
                else ""
            )
        )


def device_memory_bytes(device_id: str) -> tuple[float, str]:
    """Memory the cell may use: a GPU's total, or the host's available memory for the CPU."""
    if device_kind(device_id) == "cuda":
        free, total = torch.cuda.mem_get_info(torch.device(device_id))
        return float(total), f"{total / GIB:.1f} GiB on {device_id}"
    available = available_host_bytes() if device_id == "cpu" else None
    if available is not None:
        return available, f"{available / GIB:.1f} GiB available host memory"
    return float("inf"), "unknown"


# Quantizing packs layer by layer from fp32 weights, with temporaries (int32 codes) on top:
# measured peak RSS over the fp32 weights, Llama-3.2-1B-shaped (4.9 GB fp32): 1.23x for int8,
# 1.48x for int4 (aipcbench run --workloads causal-lm:batch1 --model llama3.2-1b --dtype int8,int4).
BUILD_PEAK_FACTOR = 1.5
AGREEMENT = 0.01  # weights and config may differ by buffers or a tied head counted twice, no more


def agreed_parameters(directory: Path) -> int:
    """The parameters ``config.json`` builds, refused in one line when the safetensors files
    hold a different number (a config that lies would pass the fit check and be killed by the
    out-of-memory killer while building; weights that lie would load into the wrong model)."""
    config = read_config(directory)
    built, stored = built_parameters(config), stored_parameters(directory)
    if abs(built - stored) > AGREEMENT * max(built, stored):
        raise DataError(
            f"{directory}: config.json builds {built:,} parameters but the safetensors files hold "
            f"{stored:,}: refusing a model directory whose weights and config disagree"
        )
    return built


def check_fit(ctx: PrepareContext, shape: ModelConfig, batch: int, context: int) -> float:
    """The cell's predicted peak memory; skipped, with the figures, when it cannot fit."""
    need = memory_need(shape, ctx.dtype, batch, context, accelerator=ctx.device_type != "cpu")
    quantized = ctx.dtype in QUANTIZED_DTYPES
    build = shape.parameters * WEIGHT_BYTES["fp32"] * BUILD_PEAK_FACTOR if quantized else 0.0
    needed = max(need.total_bytes, build + need.overhead_bytes)
    have, where = device_memory_bytes(ctx.device_id)
    if needed > have:
        why = " (an fp32 copy is built before quantizing)" if build > need.total_bytes else ""
        raise Unsupported(
            f"does not fit: {shape.name} at {ctx.dtype}, batch {batch}, context {context:,} needs "
            f"{needed / GIB:.1f} GiB{why}; {where}"
        )
    return needed


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    shape, directory = resolve(ctx.options.model, ctx.data_dir)
    batch = 1 if ctx.size == "batch1" else (8 if ctx.device_type == "cpu" else 32)
    prompt_tokens, new_tokens, _ = LENGTHS.resolve(ctx)
    if directory is not None:  # the model is built from its config.json: count that, before loading
        shape = replace(shape, parameters=float(agreed_parameters(directory)))
    needed = check_fit(ctx, shape, batch, prompt_tokens + new_tokens)
    device = torch.device(ctx.device_id)
    if directory is not None:
        model, config = load_pretrained(directory)
        weights, note = "pretrained", f"{shape.name} weights from {directory}"
    else:
        config = transformers_config(shape)
        build = TORCH_DTYPES.get(ctx.dtype, torch.float32)  # quantized: built in fp32
        model = random_model(config, device, ctx.seed, build)
        weights = "random-init"
        note = f"no weights for {shape.name} found: random init of its cited shape ({shape.source})"
    full = shape_of(config, shape.key, shape.name)
    loaded = LoadedModel(
        model=model,
        label=shape.name,
        weights_source=weights,
        weights_note=note,
        directory=directory,
        layers=int(full.layers),
        kv_heads=int(full.kv_heads),
        head_dim=int(full.head_dim),
        parameters=sum(p.numel() for p in model.parameters()),
    )
    prepared = generation_workload(ctx, loaded, batch, LENGTHS)
    prepared.details["memory_need_bytes"] = needed  # predicted peak, beside the measured one
    return prepared


SPEC = WorkloadSpec(
    name="causal-lm",
    summary="any causal LM (catalog shape or safetensors directory): greedy generation, int8/int4",
    sizes=("batch1", "batched"),
    prepare=prepare,
    preload=("transformers.models.llama.modeling_llama",),
    dtypes=DTYPES,
    check_options=check_model_option,
)
