"""One text-generation cell for any causal LM: dtype or quantization, fidelity, the timed step.

GPT-2 and ``causal-lm`` both end here once their model is built or loaded: the model is cast to
the cell's dtype, or, for ``int8``/``int4``, its fidelity reference is taken and its linear
layers quantized; then one step is one greedy generation of ``new_tokens`` after a
``prompt_tokens`` prompt, timed per token (``workloads.textgen``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from aipcbench.catalog.model_memory import activation_bytes
from aipcbench.errors import DataError
from workloads import fidelity
from workloads.base import QUANTIZED_DTYPES, PrepareContext, PreparedWorkload, RunDefinition
from workloads.inputs import seeded_generator
from workloads.precision import TORCH_DTYPES
from workloads.quantize import quantize_linears, quantized_weight_bytes
from workloads.textgen import DECODERS, TokenClock, greedy_decode, weight_stream

PROMPT_TEXT = (
    "The cheapest way to train a model depends on how often you train it. A founder "
    "who buys a workstation pays once and then only for electricity, while renting "
)


@dataclass(frozen=True)
class Lengths:
    """A generation workload's defaults: prompt and new tokens per step (fewer in --quick),
    and what one run is (generations x the full new-token count)."""

    prompt_tokens: int
    new_tokens: int
    quick_new_tokens: int
    run_generations: int = 1_000

    def resolve(self, ctx: PrepareContext) -> tuple[int, int, int]:
        """(prompt tokens, new tokens per timed step, new tokens per generation of a run)."""
        run_new = ctx.options.new_tokens or self.new_tokens
        step_new = ctx.options.new_tokens or (self.quick_new_tokens if ctx.quick else self.new_tokens)
        return ctx.options.prompt_tokens or self.prompt_tokens, step_new, run_new


@dataclass
class LoadedModel:
    """A model ready for a dtype, and what the results should say about where it came from."""

    model: torch.nn.Module
    label: str  # e.g. "GPT-2 (124M)"
    weights_source: str  # pretrained | random-init
    weights_note: str
    directory: Path | None  # where a tokenizer may be found
    layers: int
    kv_heads: int
    head_dim: int
    parameters: int  # counted before any packing hides weights from parameters()
    layout: str = "transformers modules"


def prompt_ids(
    directory: Path | None, batch: int, length: int, vocab: int, seed: int
) -> tuple[torch.Tensor, str, object]:
    """The prompt as token ids: tokenised text when a tokenizer is present, else fixed ids."""
    if directory is not None and any((directory / f).is_file() for f in ("tokenizer.json", "vocab.json")):
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        except Exception as exc:
            raise DataError(f"{directory}: tokenizer files unreadable: {exc}") from None
        ids = tokenizer(PROMPT_TEXT * (1 + length // 8))["input_ids"][:length]
        return torch.tensor([ids] * batch), "tokenised English prompt", tokenizer
    ids = torch.randint(0, vocab, (1, length), generator=seeded_generator(seed))
    return ids.repeat(batch, 1), "fixed random token ids (no tokenizer files found)", None


def to_cell_dtype(ctx: PrepareContext, loaded: LoadedModel, vocab: int, tokenizer=None) -> dict:
    """Cast to the cell's dtype, or quantize (measuring fidelity first); returns the details."""
    device = torch.device(ctx.device_id)
    model = loaded.model
    if ctx.dtype not in QUANTIZED_DTYPES:
        loaded.model = model.to(device=device, dtype=TORCH_DTYPES[ctx.dtype]).eval()
        return {}
    model = model.to(device=device, dtype=torch.float32).eval()
    ids, prompts = fidelity.fidelity_prompts(vocab, ctx.seed, device, tokenizer)
    reference = fidelity.log_probs(model, ids)
    method = quantize_linears(model, ctx.dtype, ctx.device_type)
    details = {
        "quantization": method,
        "fidelity": {
            "reference_dtype": "fp32",
            "prompts": prompts,
            **fidelity.compare(reference, fidelity.log_probs(model, ids)),
        },
    }
    loaded.model = model
    return details


def generation_workload(
    ctx: PrepareContext, loaded: LoadedModel, batch: int, lengths: Lengths
) -> PreparedWorkload:
    """Longer than 60 lines: the generation cell assembled in one place (model, fidelity, timed steps,
    metrics), as a workload file reads.
    """
    prompt_tokens, new_tokens, run_new_tokens = lengths.resolve(ctx)
    run_generations = lengths.run_generations
    vocab = int(loaded.model.config.get_text_config().vocab_size)
    ids, prompt_note, tokenizer = prompt_ids(loaded.directory, batch, prompt_tokens, vocab, ctx.seed)
    quant = to_cell_dtype(ctx, loaded, vocab, tokenizer)
    model = loaded.model
    if quant and tokenizer is not None and loaded.weights_source == "pretrained":
        quant["fidelity"]["perplexity_note"] = (
            "perplexity of the quantized model on workloads/data/perplexity.txt"
        )
        quant["fidelity"]["perplexity"] = fidelity.perplexity(
            model, fidelity.perplexity_tokens(tokenizer, 512), torch.device(ctx.device_id)
        )
    if ctx.compile:
        model.forward = torch.compile(model.forward, dynamic=True)
    ids = ids.to(ctx.device_id)
    mask = torch.ones_like(ids)
    clock = TokenClock(ctx.clock, prompt_tokens)
    dtype_bytes = TORCH_DTYPES[ctx.dtype].itemsize if ctx.dtype in TORCH_DTYPES else None
    weight_bytes = quantized_weight_bytes(model) if quant else loaded.parameters * dtype_bytes
    eos = getattr(model.config, "eos_token_id", None)

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

    kv_bytes = activation_bytes(ctx.dtype, accelerator=ctx.device_type != "cpu")
    return PreparedWorkload(
        step=lean_step if ctx.options.decode == "lean" else generate_step,
        items_per_step=batch * new_tokens,
        item_unit="tokens",
        mode="generate",
        run=RunDefinition(
            f"{run_generations:,} generations of {run_new_tokens} new tokens after a "
            f"{prompt_tokens}-token prompt",
            run_generations * run_new_tokens,
        ),
        data_source="synthetic" if loaded.weights_source != "pretrained" else "real",
        data_note=f"{loaded.weights_note}; prompt: {prompt_note}"
        + (f"; times {new_tokens}-token generations" if new_tokens != run_new_tokens else ""),
        weights_source=loaded.weights_source,
        extra_metrics=lambda last_n: {
            **clock.metrics(last_n, batch),
            **weight_stream(clock.metrics(last_n, batch), weight_bytes),
        },
        parameters=loaded.parameters,
        details={
            "model": loaded.label,
            "batch": batch,
            "new_tokens": new_tokens,
            "prompt_tokens": prompt_tokens,
            "decoding": DECODERS[ctx.options.decode],
            "weight_bytes": weight_bytes,
            # keys and values of every layer for the whole sequence, at the end of a step
            "kv_cache_bytes": 2
            * loaded.layers
            * batch
            * (prompt_tokens + new_tokens)
            * loaded.kv_heads
            * loaded.head_dim
            * kv_bytes,
            "weight_layout": loaded.layout,
            **quant,
        },
    )
