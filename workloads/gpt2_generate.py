"""GPT-2 (124M) greedy text generation with Hugging Face ``transformers``.

One step is one greedy generation: a 32-token prompt (prefill) then a fixed number of new
tokens (decode); an end-of-text token never stops it early, so every step does the same work.
Two decode loops (``--decode``, shared with any causal LM in ``workloads.textgen``): ``lean``
(default), a plain loop over the transformers module and its KV cache, and ``generate``,
``transformers.generate`` itself, kept as the reference users compare with; both give the
same tokens (tested). Prefill and decode are timed apart by stamping the clock at every token
(after a device sync): time to first token, per-token latency, decode tokens/s, and the weight
bytes streamed per second.

Sizes: ``batch1`` (latency: one user) and ``batched`` (throughput: 8 sequences on a CPU, 64 on
a GPU). One run = 1,000 generations of 128 new tokens after a 32-token prompt.

Weights: a Hugging Face GPT-2 directory (``config.json`` + ``model.safetensors``, tokenizer files
optional) under ``--data-dir``/gpt2, ``$AIPCBENCH_GPT2_DIR`` or the Hugging Face cache. Without
one, the model is randomly initialised from GPT-2's configuration: identical shapes and FLOPs,
meaningless text, and ``weights_source: random-init`` in the results.
"""

from __future__ import annotations

from pathlib import Path

import torch

from aipcbench.errors import DataError, UserInputError
from workloads import packed_linear
from workloads.base import DTYPES, QUANTIZED_DTYPES, PrepareContext, PreparedWorkload, WorkloadSpec
from workloads.generation import Lengths, LoadedModel, generation_workload
from workloads.lm_models import load_pretrained, random_model
from workloads.precision import TORCH_DTYPES
from workloads.textgen import find_weights

PROMPT_TOKENS, NEW_TOKENS, QUICK_NEW_TOKENS, RUN_GENERATIONS = 32, 128, 32, 1_000
LENGTHS = Lengths(PROMPT_TOKENS, NEW_TOKENS, QUICK_NEW_TOKENS, RUN_GENERATIONS)
HUB_REPOS = ("models--gpt2", "models--openai-community--gpt2")


def load_model(directory: Path):
    """GPT-2 from safetensors, by the one loading policy of language models
    (``lm_models.load_pretrained``: no pickles, no partial checkpoints); errors name the file."""
    try:
        model, config = load_pretrained(directory)
    except UserInputError as exc:  # found by search, not named by --model: a data problem
        raise DataError(str(exc).removeprefix("--model: ")) from None
    if getattr(config, "model_type", None) != "gpt2":
        raise DataError(f"{directory / 'config.json'}: model_type is not gpt2")
    return model


def matvec_layout(model):
    """Store every ``Conv1D`` weight as an ``nn.Linear`` (out, in) instead of GPT-2's (in, out).

    Same weights and the same product (``Conv1D`` computes ``x @ W + b``, ``Linear`` computes
    ``x @ W'.T + b`` with ``W' = W.T``), so the same greedy tokens (tested). Why: at batch 1
    every projection is a matrix-vector product, and PyTorch's CPU kernels for bf16/fp16 stream
    an (out, in) matrix as contiguous dot products faster than an (in, out) one: decode
    1.13x bf16, 1.25x fp16 on a 2-core AVX-512 Xeon, while fp32 gains nothing beyond noise
    (``bash scripts/bench.sh -k matvec_layout -s``), so it is used only where it helps."""
    from torch import nn
    from transformers.pytorch_utils import Conv1D

    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, Conv1D):
                fan_in, fan_out = child.weight.shape
                linear = nn.Linear(fan_in, fan_out, device="meta")
                linear.weight = nn.Parameter(child.weight.detach().t().contiguous(), requires_grad=False)
                linear.bias = nn.Parameter(child.bias.detach().clone(), requires_grad=False)
                setattr(module, name, linear)
    return model


def random_gpt2(device: torch.device, seed: int):
    """GPT-2 124M with GPT-2's initialisation, in fp32 (``workloads.lm_models.random_model``)."""
    from transformers import GPT2Config

    return random_model(GPT2Config(), device, seed, torch.float32)


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    device = torch.device(ctx.device_id)
    batch = 1 if ctx.size == "batch1" else (8 if ctx.device_type == "cpu" else 64)
    directory = find_weights(ctx.data_dir, "gpt2", "AIPCBENCH_GPT2_DIR", HUB_REPOS)
    if directory is not None:
        model = load_model(directory)
        weights, weights_note = "pretrained", f"GPT-2 weights from {directory}"
    else:
        model = random_gpt2(device, ctx.seed)
        weights, weights_note = (
            "random-init",
            (
                "no GPT-2 weights found (searched --data-dir/gpt2, $AIPCBENCH_GPT2_DIR, ./data/gpt2, "
                "the Hugging Face cache): random init from GPT-2's config, same shapes and FLOPs"
            ),
        )
    parameters = sum(p.numel() for p in model.parameters())
    layout = "transformers Conv1D (in, out)"
    if ctx.dtype in QUANTIZED_DTYPES:  # the quantizers take nn.Linear layers
        model, layout = matvec_layout(model), "nn.Linear (out, in), quantized"
    elif ctx.device_type == "cpu" and ctx.dtype in ("bf16", "fp16"):
        model = matvec_layout(model.to(TORCH_DTYPES[ctx.dtype]))
        layout = "nn.Linear (out, in), for CPU reduced-precision matvecs"
        if ctx.dtype == "bf16" and not ctx.compile and packed_linear.available():
            packed_linear.pack_linears(model)
            layout = "oneDNN pre-packed bf16 weights (blocked layout), for CPU matvecs"
    config = model.config
    loaded = LoadedModel(
        model=model,
        label="GPT-2 (124M)" if directory is None else f"GPT-2 from {directory.name}",
        weights_source=weights,
        weights_note=weights_note,
        directory=directory,
        layers=config.n_layer,
        kv_heads=config.n_head,
        head_dim=config.n_embd // config.n_head,
        parameters=parameters,
        layout=layout,
    )
    return generation_workload(ctx, loaded, batch, LENGTHS)


SPEC = WorkloadSpec(
    name="gpt2-generate",
    summary="GPT-2 124M greedy generation (transformers): prefill and decode timed apart",
    sizes=("batch1", "batched"),
    prepare=prepare,
    preload=("transformers.models.gpt2.modeling_gpt2",),  # 1.5-2.5 s to import
    dtypes=DTYPES,
)
