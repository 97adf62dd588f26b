"""Causal language models: which one a cell runs, built from a cited shape or loaded safely.

A model is named by a catalog key (``catalog/data/model_configs.csv``: GPT-2 124M/355M and
Qwen2.5-0.5B-, Llama-3.2-1B- and Llama-3.1-8B-shaped configurations) or by a Hugging Face
model directory. Without weights a catalog shape is built on the meta device and filled with
random values: the same shapes, FLOPs, bytes and memory as the real model, meaningless text, and
``weights_source: random-init`` in the results. A directory is loaded from safetensors only,
never with remote code and never by unpickling: a checkpoint that is only ``pytorch_model.bin``
is refused with how to convert it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from aipcbench.catalog.model_folder import require_safetensors
from aipcbench.catalog.rows import ModelConfig
from aipcbench.errors import DataError, UserInputError

# transformers model types aipcbench builds and loads (their forward takes past_key_values)
ARCHITECTURES = ("gpt2", "llama", "qwen2")


def transformers_config(shape: ModelConfig):
    """The transformers configuration of a catalog shape."""
    from transformers import GPT2Config, LlamaConfig, Qwen2Config

    tied = shape.tie_embeddings == "yes"
    if shape.architecture == "gpt2":
        return GPT2Config(
            n_layer=int(shape.layers),
            n_embd=int(shape.hidden),
            n_head=int(shape.heads),
            n_inner=int(shape.intermediate),
            vocab_size=int(shape.vocab),
            n_positions=int(shape.max_context),
            tie_word_embeddings=tied,
        )
    family = {"llama": LlamaConfig, "qwen2": Qwen2Config}[shape.architecture]
    return family(
        vocab_size=int(shape.vocab),
        hidden_size=int(shape.hidden),
        intermediate_size=int(shape.intermediate),
        num_hidden_layers=int(shape.layers),
        num_attention_heads=int(shape.heads),
        num_key_value_heads=int(shape.kv_heads),
        head_dim=int(shape.head_dim),
        max_position_embeddings=int(shape.max_context),
        tie_word_embeddings=tied,
    )


def shape_of(config, key: str, name: str) -> ModelConfig:
    """The catalog-style shape of a loaded model's configuration (for the memory-fit check)."""
    text = getattr(config, "get_text_config", lambda: config)()
    hidden = int(getattr(text, "hidden_size", 0) or getattr(text, "n_embd", 0))
    heads = int(getattr(text, "num_attention_heads", 0) or getattr(text, "n_head", 0))
    layers = int(getattr(text, "num_hidden_layers", 0) or getattr(text, "n_layer", 0))
    if not (hidden and heads and layers):
        raise DataError(f"{name}: config.json lacks the hidden size, heads or layers of a causal LM")
    head_dim = int(getattr(text, "head_dim", 0) or hidden // heads)
    return ModelConfig(
        key=key,
        name=name,
        parameters=0.0,  # filled in from the built model
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=int(getattr(text, "num_key_value_heads", 0) or heads),
        head_dim=head_dim,
        intermediate=int(getattr(text, "intermediate_size", 0) or getattr(text, "n_inner", 0) or 4 * hidden),
        vocab=int(getattr(text, "vocab_size", 0)),
        max_context=int(getattr(text, "max_position_embeddings", 0) or getattr(text, "n_positions", 0)),
        architecture=str(getattr(text, "model_type", "")),
        tie_embeddings="yes" if getattr(text, "tie_word_embeddings", False) else "no",
        source=name,
    )


def read_config(directory: Path):
    """A model directory's configuration, refused in one line when it is missing or foreign."""
    from transformers import AutoConfig

    path = directory / "config.json"
    if not path.is_file():
        raise UserInputError(f"--model: {directory} has no config.json (not a Hugging Face model directory)")
    try:
        config = AutoConfig.from_pretrained(str(directory), local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise UserInputError(
            f"--model: {path}: not a usable config: {' '.join(str(exc).split())[:160]}"
        ) from None
    model_type = getattr(config, "model_type", None)
    if model_type not in ARCHITECTURES:
        raise UserInputError(
            f"--model: {path}: architecture '{model_type}' is not supported "
            f"(supported: {', '.join(ARCHITECTURES)})"
        )
    return config


def load_pretrained(directory: Path):
    """A causal LM from ``model.safetensors`` (or a sharded safetensors index), nothing else: a
    pickled ``pytorch_model.bin`` is refused with how to convert it, and a checkpoint that leaves
    any of the model's weights missing (they would stay random under a "pretrained" label) is
    refused naming them. The one loading policy of every language-model workload."""
    from transformers import AutoModelForCausalLM

    config = read_config(directory)
    require_safetensors(directory)
    try:
        model, info = AutoModelForCausalLM.from_pretrained(
            str(directory),
            config=config,
            local_files_only=True,
            use_safetensors=True,
            trust_remote_code=False,
            output_loading_info=True,
        )
    except Exception as exc:
        single = directory / "model.safetensors"
        named = single if single.is_file() else directory / "model.safetensors.index.json"
        reason = " ".join(str(exc).split())[:200]
        raise DataError(f"{named}: cannot load: {type(exc).__name__}: {reason}") from None
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        raise DataError(
            f"{directory}: a partial checkpoint: {len(missing)} of the model's weights are missing "
            f"(first: {', '.join(missing[:3])}); they would stay random under a 'pretrained' label"
        )
    return model, config


MAX_LAYERS = 1024  # beyond any published decoder; a config claiming more is refused unbuilt
MAX_WIDTH = 2**20


def built_parameters(config) -> int:
    """Parameters of the model ``config`` builds, counted on the meta device: the figure the
    fit check must use, since the model is built from the config, not from the weight files."""
    from transformers import AutoModelForCausalLM

    shape = shape_of(config, "", "")
    widths = (shape.hidden, shape.intermediate, shape.vocab, shape.heads * shape.head_dim)
    if shape.layers > MAX_LAYERS or max(widths) > MAX_WIDTH:
        raise DataError(
            f"config.json: {shape.layers:g} layers, widths up to {max(widths):g}: not a model to build"
        )
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def random_model(config, device: torch.device, seed: int, dtype: torch.dtype):
    """A model of ``config`` with GPT-2-style initialisation (normal(0, 0.02) matrices, zero
    biases, unit norm weights), built on the meta device and filled in place at ``dtype``:
    about twice as fast as letting ``transformers`` initialise module by module, and never
    holding a second copy (an 8B model is 16 GiB in bf16)."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    model = model.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, 0.02, generator=generator)
            elif name.endswith("bias"):
                parameter.zero_()
            else:  # layer/RMS norm weights
                parameter.fill_(1.0)
        _recompute_rotary(model, device)
    model.tie_weights()
    return model


def _recompute_rotary(model, device: torch.device) -> None:
    """``to_empty`` leaves computed buffers (rotary inverse frequencies) uninitialised: build
    each rotary module again, on the CPU where its constructor computes them, and copy them in."""
    for name, module in list(model.named_modules()):
        if name and hasattr(module, "inv_freq") and hasattr(module, "config"):
            fresh = type(module)(module.config)
            for buffer_name, buffer in fresh.named_buffers():
                getattr(module, buffer_name).copy_(buffer.to(device))


def with_parameters(shape: ModelConfig, model) -> ModelConfig:
    return replace(shape, parameters=float(sum(p.numel() for p in model.parameters())))
