"""Adapting a causal language model to new text: LoRA adapters or a full fine-tune.

``--model`` names the model as for ``causal-lm`` (a catalog shape, random weights labelled, or a
safetensors directory). Sizes:

- ``lora`` (default): ``peft`` LoRA adapters of rank 16 (``--lora-rank``; alpha twice the rank,
  no dropout) on every attention and MLP projection (``--lora-targets attention``: the attention
  projections only, as in the LoRA paper), the base frozen at the cell's dtype; AdamW at 2e-4;
- ``full``: every weight trained, fp32 master weights under autocast at the cell's dtype; AdamW
  at 2e-5;
- ``qlora``: LoRA over 4-bit base weights needs ``bitsandbytes`` on a CUDA GPU; elsewhere the
  cell is skipped with that reason.

Under ``--nproc-per-node N`` (torchrun) a ``full`` fine-tune is fully sharded (FSDP2's
``fully_shard`` on every decoder layer, then the model: each rank holds 1/N of the weights,
gradients and AdamW state) and LoRA is data parallel (DDP over the adapters); each rank trains
its own batches.

A step is one optimizer step on a batch of token sequences (4 x 128 tokens on a CPU, 8 x 512 on a
GPU; ``--prompt-tokens`` sets the length), causal-LM loss on every token. The data is a fixed
set of 8 batches of random token ids (no text can be downloaded here; said in the results): the
loss falls as the model learns them, which is the quality gate. One run = one epoch over 10 M
training tokens. Before anything is built the step's memory is checked against the device
(``aipcbench.catalog.train_memory``) and the prediction is recorded beside the measured peak.
``--checkpointing`` recomputes each layer's activations in backward (transformers' gradient
checkpointing, non-reentrant so a frozen base works under LoRA): less memory, about a third more
compute; the fit check and the record say which.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import torch

from aipcbench.catalog.model_memory import GIB
from aipcbench.catalog.train_memory import train_memory_need
from aipcbench.errors import UserInputError
from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, Unsupported, WorkloadSpec
from workloads.causal_lm import agreed_parameters, check_model_option, device_memory_bytes, resolve
from workloads.lm_models import load_pretrained, random_model, transformers_config
from workloads.precision import TORCH_DTYPES, autocast_for

RUN_TOKENS = 10_000_000
DATA_BATCHES = 8
LLAMA_ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
LORA_TARGETS = {  # (architecture, --lora-targets) -> peft's target_modules (names or a regex)
    ("gpt2", "all"): ["c_attn", "c_proj", "c_fc"],
    ("gpt2", "attention"): r".*\.attn\.(c_attn|c_proj)",  # c_proj is also the MLP's output
    ("llama", "all"): [*LLAMA_ATTENTION, "gate_proj", "up_proj", "down_proj"],
    ("llama", "attention"): LLAMA_ATTENTION,
    ("qwen2", "all"): [*LLAMA_ATTENTION, "gate_proj", "up_proj", "down_proj"],
    ("qwen2", "attention"): LLAMA_ATTENTION,
}
LEARNING_RATE = {"lora": 2e-4, "full": 2e-5}


def _shape_and_model(ctx: PrepareContext, method: str):
    """The model's shape (for the fit check) and a builder for the model itself."""
    shape, directory = resolve(ctx.options.model, ctx.data_dir)
    if directory is not None:
        shape = replace(shape, parameters=float(agreed_parameters(directory)))
    base_dtype = torch.float32 if method == "full" else TORCH_DTYPES[ctx.dtype]

    def build():
        device = torch.device(ctx.device_id)
        if directory is not None:
            model, _ = load_pretrained(directory)
            return model.to(device=device, dtype=base_dtype), "pretrained", f"{shape.name} from {directory}"
        model = random_model(transformers_config(shape), device, ctx.seed, base_dtype)
        return model, "random-init", f"no weights for {shape.name}: random init of its cited shape"

    return shape, build


def check_fit(ctx: PrepareContext, shape, method: str, batch: int, seq: int) -> float:
    accelerator, options = ctx.device_type != "cpu", ctx.options
    need = train_memory_need(
        shape,
        method,
        ctx.dtype,
        batch,
        seq,
        options.checkpointing,
        accelerator,
        options.lora_rank,
        options.lora_targets,
    )
    total = need.total_bytes
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    if distributed and method == "full":  # FSDP: each rank holds 1/N of the training state
        state = need.weights_bytes + need.gradients_bytes + need.optimizer_bytes
        total -= state * (1 - 1 / torch.distributed.get_world_size())
    available, where = device_memory_bytes(ctx.device_id)
    if total > available:
        raise Unsupported(
            f"does not fit: {method} fine-tune of {shape.name} at {ctx.dtype}, batch {batch} x {seq} "
            f"tokens needs {total / GIB:.1f} GiB a process; {where}"
        )
    return total


def _checkpoint(model) -> None:
    """Gradient checkpointing, non-reentrant (a frozen base under LoRA has no input that needs a
    gradient): transformers 5.x names it activation checkpointing, earlier versions gradient."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def _with_lora(model, architecture: str, rank: int, targets: str):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise Unsupported("LoRA needs peft: pip install 'aipcbench[finetune]'") from None
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,
        target_modules=LORA_TARGETS[(architecture, targets)],
        fan_in_fan_out=architecture == "gpt2",  # GPT-2's Conv1D stores its weight transposed
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    """Longer than 60 lines: the fit check, the model, the adapters, the data and the step, in
    the order a cell needs them; each part is a few lines."""
    method = ctx.size
    if method == "qlora":
        raise Unsupported("QLoRA needs bitsandbytes' 4-bit kernels on a CUDA GPU (not installed here)")
    if ctx.dtype not in TORCH_DTYPES:
        raise Unsupported(f"fine-tuning trains float weights, not {ctx.dtype}")
    batch, seq = (4, 128) if ctx.device_type == "cpu" else (8, 512)
    seq = ctx.options.prompt_tokens or (64 if ctx.quick else seq)
    shape, build = _shape_and_model(ctx, method)
    needed = check_fit(ctx, shape, method, batch, seq)
    torch.manual_seed(ctx.seed)
    model, weights_source, weights_note = build()
    if ctx.options.checkpointing:
        _checkpoint(model)
    if method == "lora":
        model = _with_lora(model, shape.architecture, ctx.options.lora_rank, ctx.options.lora_targets)
    model.train()
    runner, sharding = _distribute(model, method)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=LEARNING_RATE[method])
    autocast = autocast_for(ctx) if method == "full" else _no_autocast
    generator = torch.Generator().manual_seed(ctx.seed)  # the harness gives each rank its own seed
    vocab = int(shape.vocab)
    data = [
        torch.randint(0, vocab, (batch, seq), generator=generator).to(ctx.device_id)
        for _ in range(DATA_BATCHES)
    ]
    cycle = itertools.cycle(data)

    def step() -> None:
        ids = next(cycle)
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = runner(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def evaluate_loss() -> float:
        with autocast():
            return float(model(input_ids=data[0], labels=data[0]).loss.float())

    total = sum(p.numel() for p in model.parameters())
    return PreparedWorkload(
        step=step,
        items_per_step=batch * seq,
        item_unit="tokens",
        mode="train",
        run=RunDefinition(f"one epoch over {RUN_TOKENS:,} training tokens", RUN_TOKENS),
        data_source="synthetic",
        data_note=f"{weights_note}; data: {DATA_BATCHES} fixed batches of random token ids, cycled",
        weights_source=weights_source,
        evaluate_loss=evaluate_loss,
        parameters=total,
        details={
            "model": shape.name,
            "method": method,
            "batch": batch,
            "sequence_tokens": seq,
            "trainable_parameters": sum(p.numel() for p in trainable),
            "lora_rank": ctx.options.lora_rank if method == "lora" else None,
            "lora_targets": ctx.options.lora_targets if method == "lora" else None,
            "checkpointing": ctx.options.checkpointing,
            "optimizer": f"AdamW lr {LEARNING_RATE[method]:g}",
            "memory_need_bytes": needed,
            "sharding": sharding,
        },
    )


def _distribute(model, method: str):
    """(the module a step calls, how the state is spread in words): across torchrun's ranks a
    full fine-tune is sharded in place (FSDP2) and LoRA is wrapped for data parallelism (DDP)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return model, "one process"
    ranks = torch.distributed.get_world_size()
    if method == "full":
        from torch.distributed.fsdp import fully_shard

        for layer in _decoder_layers(model):
            fully_shard(layer)
        fully_shard(model)
        return model, f"FSDP2 fully_shard over {ranks} ranks (weights, gradients and AdamW state split)"
    wrapped = torch.nn.parallel.DistributedDataParallel(model)
    return wrapped, f"LoRA adapters replicated over {ranks} ranks, gradients all-reduced (DDP)"


def _decoder_layers(model):
    inner = getattr(model, "model", None) or getattr(model, "transformer", None)
    layers = getattr(inner, "layers", None) or getattr(inner, "h", None)
    return list(layers) if layers is not None else []


def _no_autocast():
    import contextlib

    return contextlib.nullcontext()


def check_options(options) -> None:
    check_model_option(options)
    if options.prompt_tokens is not None and not 8 <= options.prompt_tokens <= 32_768:
        raise UserInputError("--prompt-tokens: a fine-tune's sequence length is 8 to 32768 tokens")


SPEC = WorkloadSpec(
    name="finetune",
    summary="LoRA (peft) or full fine-tune of a causal LM on token sequences; qlora on CUDA",
    sizes=("lora", "full", "qlora"),
    prepare=prepare,
    trainable=True,
    preload=("transformers.models.llama.modeling_llama",),
    default_sizes=("lora",),
    check_options=check_options,
)
