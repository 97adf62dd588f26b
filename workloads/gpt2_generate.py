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

from aipcbench.errors import DataError
from workloads import packed_linear
from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, WorkloadSpec
from workloads.inputs import seeded_generator
from workloads.precision import TORCH_DTYPES
from workloads.textgen import DECODERS, TokenClock, find_weights, greedy_decode, weight_stream

PROMPT_TOKENS, NEW_TOKENS, QUICK_NEW_TOKENS, RUN_GENERATIONS = 32, 128, 32, 1_000
HUB_REPOS = ("models--gpt2", "models--openai-community--gpt2")
PROMPT_TEXT = (
    "The cheapest way to train a model depends on how often you train it. A founder "
    "who buys a workstation pays once and then only for electricity, while renting "
)


def load_model(directory: Path):
    """GPT-2 from safetensors (or a weights-only ``torch.load`` of a .bin); errors name the file."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config_path = directory / "config.json"
    try:
        config = GPT2Config.from_json_file(str(config_path))
    except Exception as exc:
        raise DataError(f"{config_path}: not a readable GPT-2 config: {exc}") from None
    if getattr(config, "model_type", None) != "gpt2":
        raise DataError(f"{config_path}: model_type is not gpt2")
    safetensors_path, bin_path = directory / "model.safetensors", directory / "pytorch_model.bin"
    if safetensors_path.is_file():
        try:
            return GPT2LMHeadModel.from_pretrained(
                str(directory), local_files_only=True, use_safetensors=True
            )
        except Exception as exc:
            raise DataError(
                f"{safetensors_path}: cannot load: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            ) from None
    if bin_path.is_file():
        try:
            state = torch.load(bin_path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise DataError(
                f"{bin_path}: refused: it holds pickled objects beyond plain tensors "
                f"({type(exc).__name__}), and aipcbench never unpickles code. Convert the "
                "checkpoint to model.safetensors where you trust it (transformers: "
                "model.save_pretrained(DIR, safe_serialization=True)) and point aipcbench at DIR"
            ) from None
        try:
            model = GPT2LMHeadModel(config)
            model.load_state_dict(state, strict=False)
            return model
        except Exception as exc:
            raise DataError(
                f"{bin_path}: weights do not fit a GPT-2 of this config: {type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:200]}"
            ) from None
    raise DataError(f"{directory}: config.json but no model.safetensors or pytorch_model.bin")


def random_model(device: torch.device, seed: int):
    """GPT-2 124M with GPT-2's initialisation scheme (normal(0, 0.02) weights, zero biases,
    unit layer norms), built on the meta device and filled in place: about twice as fast as
    letting ``transformers`` initialise module by module."""
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.device("meta"):
        model = GPT2LMHeadModel(GPT2Config())
    model = model.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif ".ln_" in name:
                parameter.fill_(1.0)
            else:
                parameter.normal_(0.0, 0.02, generator=generator)
    model.tie_weights()  # the output projection shares the token embedding
    return model


def prompt_ids(directory: Path | None, batch: int, seed: int) -> tuple[torch.Tensor, str]:
    """The prompt as token ids: tokenised text when a tokenizer is present, else fixed ids."""
    if directory is not None and any((directory / f).is_file() for f in ("tokenizer.json", "vocab.json")):
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        except Exception as exc:
            raise DataError(f"{directory}: tokenizer files unreadable: {exc}") from None
        ids = tokenizer(PROMPT_TEXT * 4)["input_ids"][:PROMPT_TOKENS]
        return torch.tensor([ids] * batch), "tokenised English prompt"
    ids = torch.randint(0, 50257, (1, PROMPT_TOKENS), generator=seeded_generator(seed))
    return ids.repeat(batch, 1), "fixed random token ids (no tokenizer files found)"


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


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    device = torch.device(ctx.device_id)
    batch = 1 if ctx.size == "batch1" else (8 if ctx.device_type == "cpu" else 64)
    new_tokens = QUICK_NEW_TOKENS if ctx.quick else NEW_TOKENS
    directory = find_weights(ctx.data_dir, "gpt2", "AIPCBENCH_GPT2_DIR", HUB_REPOS)
    if directory is not None:
        model = load_model(directory)
        weights, weights_note = "pretrained", f"GPT-2 weights from {directory}"
    else:
        model = random_model(device, ctx.seed)
        weights, weights_note = (
            "random-init",
            (
                "no GPT-2 weights found (searched --data-dir/gpt2, $AIPCBENCH_GPT2_DIR, ./data/gpt2, "
                "the Hugging Face cache): random init from GPT-2's config, same shapes and FLOPs"
            ),
        )
    model = model.to(device=device, dtype=TORCH_DTYPES[ctx.dtype]).eval()
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    parameters = sum(p.numel() for p in model.parameters())
    layout = "transformers Conv1D (in, out)"
    if ctx.device_type == "cpu" and ctx.dtype in ("bf16", "fp16"):
        model, layout = matvec_layout(model), "nn.Linear (out, in), for CPU reduced-precision matvecs"
        if ctx.dtype == "bf16" and not ctx.compile and packed_linear.available():
            packed_linear.pack_linears(model)
            layout = "oneDNN pre-packed bf16 weights (blocked layout), for CPU matvecs"
    if ctx.compile:
        model.forward = torch.compile(model.forward, dynamic=True)
    ids, prompt_note = prompt_ids(directory, batch, ctx.seed)
    ids = ids.to(device)
    mask = torch.ones_like(ids)
    clock = TokenClock(ctx.clock, PROMPT_TOKENS)
    eos = model.config.eos_token_id
    decoding = ctx.options.decode

    @torch.inference_mode()
    def generate_step() -> None:
        clock.begin()
        model.generate(
            ids,
            attention_mask=mask,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=eos,
            streamer=clock,
        )

    def lean_step() -> None:
        greedy_decode(model, ids, new_tokens, clock, ctx.sync)

    step = lean_step if decoding == "lean" else generate_step

    return PreparedWorkload(
        step=step,
        items_per_step=batch * new_tokens,
        item_unit="tokens",
        mode="generate",
        run=RunDefinition(
            f"{RUN_GENERATIONS:,} generations of {NEW_TOKENS} new tokens after a "
            f"{PROMPT_TOKENS}-token prompt",
            RUN_GENERATIONS * NEW_TOKENS,
        ),
        data_source="synthetic" if directory is None else "real",
        data_note=f"{weights_note}; prompt: {prompt_note}"
        + (f"; quick mode times {new_tokens}-token generations" if ctx.quick else ""),
        weights_source=weights,
        extra_metrics=lambda last_n: {
            **clock.metrics(last_n, batch),
            **weight_stream(clock.metrics(last_n, batch), weight_bytes),
        },
        parameters=parameters,
        details={
            "batch": batch,
            "new_tokens": new_tokens,
            "prompt_tokens": PROMPT_TOKENS,
            "decoding": DECODERS[decoding],
            "weight_bytes": weight_bytes,
            # keys and values of every layer for the whole sequence, at the end of a step
            "kv_cache_bytes": 2
            * model.config.n_layer
            * batch
            * (PROMPT_TOKENS + new_tokens)
            * model.config.n_embd
            * TORCH_DTYPES[ctx.dtype].itemsize,
            "weight_layout": layout,
        },
    )


SPEC = WorkloadSpec(
    name="gpt2-generate",
    summary="GPT-2 124M greedy generation (transformers): prefill and decode timed apart",
    sizes=("batch1", "batched"),
    prepare=prepare,
    preload=("transformers.models.gpt2.modeling_gpt2",),  # 1.5-2.5 s to import
)
