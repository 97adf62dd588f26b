"""Pieces shared by the PyTorch workloads: precision, training steps, synthetic data."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Sequence

import torch

from workloads.base import PrepareContext, Unsupported

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_for(ctx: PrepareContext) -> Callable[[], contextlib.AbstractContextManager]:
    """A factory of the autocast context for the cell's dtype (fp32: no autocast).

    Mixed precision the way training uses it: weights and optimizer state stay fp32, matmuls
    and convolutions run in the reduced type inside ``torch.autocast``.
    """
    if ctx.dtype == "fp32":
        return contextlib.nullcontext
    dtype = TORCH_DTYPES[ctx.dtype]
    if not torch.amp.is_autocast_available(ctx.device_type):
        raise Unsupported(f"autocast is not available on {ctx.device_type}")
    if ctx.device_type == "cuda" and dtype is torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise Unsupported(f"{ctx.device_id} does not support bf16")
    return lambda: torch.autocast(ctx.device_type, dtype=dtype)


def make_optimizer(name: str, parameters, **settings) -> torch.optim.Optimizer:
    """Adam or SGD with the fused kernel where this torch has it for the device: one kernel per
    step instead of a dozen per parameter group (mlp full: 206 -> 136 ms per step here)."""
    parameters = list(parameters)
    optimizer_class = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[name]
    try:
        return optimizer_class(parameters, fused=True, **settings)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or dtype
        return optimizer_class(parameters, **settings)


def seeded_generator(seed: int) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def synthetic_classification(
    count: int, shape: Sequence[int], classes: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs of the real data's shape with a learnable signal, so training loss can fall.

    Each class has a fixed random template; an input is its class's template plus noise of
    the same scale. A model that learns nothing stays at ln(classes) loss.
    """
    generator = seeded_generator(seed)
    templates = torch.randn((classes, *shape), generator=generator)
    labels = torch.randint(0, classes, (count,), generator=generator)
    noise = torch.randn((count, *shape), generator=generator)
    return templates[labels] + noise, labels


def batches_of(
    inputs: torch.Tensor, targets: torch.Tensor, batch_size: int, device: torch.device
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Move the data to the device once and cut it into full batches (views, no copies)."""
    if len(inputs) < batch_size:
        raise ValueError(f"dataset of {len(inputs)} items is smaller than batch {batch_size}")
    inputs = inputs.to(device)
    targets = targets.to(device)
    count = len(inputs) // batch_size
    return [
        (inputs[i * batch_size : (i + 1) * batch_size], targets[i * batch_size : (i + 1) * batch_size])
        for i in range(count)
    ]


class Trainer:
    """One optimizer step per call over a cycle of prepared batches.

    The step returns nothing and never calls ``.item()``: reading a value would force a device
    sync inside the step. Loss for the quality gate is read by ``evaluate_loss`` on a fixed
    batch, outside the timed window.
    """

    def __init__(
        self,
        ctx: PrepareContext,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        batches: list[tuple[torch.Tensor, torch.Tensor]],
    ):
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # data-parallel: gradients are all-reduced inside backward (gloo or nccl)
            device_ids = [torch.device(ctx.device_id).index] if ctx.device_type == "cuda" else None
            model = torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
        self.model = torch.compile(model) if ctx.compile else model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.autocast = autocast_for(ctx)
        self.batches = batches
        self._cycle = itertools.cycle(batches)
        self.scaler = (
            torch.amp.GradScaler(ctx.device_type)
            if ctx.dtype == "fp16" and ctx.device_type == "cuda"
            else None
        )

    def step(self) -> None:
        inputs, targets = next(self._cycle)
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            loss = self.loss_fn(self.model(inputs), targets)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()

    @torch.no_grad()
    def evaluate_loss(self) -> float:
        """Training-mode loss on the first batch, leaving the model exactly as it was.

        Training mode (batch statistics) is what the optimizer minimises; eval mode would use
        batch-norm running averages that lag far behind in a short benchmark. The running
        averages this forward pass updates are restored afterwards.
        """
        inputs, targets = self.batches[0]
        buffers = [(b, b.clone()) for b in self.model.buffers()]
        try:
            with self.autocast():
                return float(self.loss_fn(self.model(inputs), targets).float())
        finally:
            for live, saved in buffers:
                live.copy_(saved)


def image_data(
    ctx: PrepareContext,
    real,  # datasets.ImageSet | None
    count: int,
    shape: Sequence[int],
    dataset_name: str,
) -> tuple[torch.Tensor, torch.Tensor, str, str]:
    """``count`` images as float tensors (normalised) and labels, real when found.

    Returns (images, labels, data_source, data_note). Synthetic images have the real set's
    shape and a learnable class signal.
    """
    if real is not None:
        if len(real.images) < count:
            reps = -(-count // len(real.images))
            images, labels = real.images.repeat(reps, 0)[:count], real.labels.repeat(reps)[:count]
        else:
            images, labels = real.images[:count], real.labels[:count]
        tensor = torch.from_numpy(images.astype("float32") / 255.0)
        tensor = (tensor - tensor.mean()) / (tensor.std() + 1e-6)
        note = f"{dataset_name} from {real.source} ({len(real.images):,} images in the file)"
        return tensor, torch.from_numpy(labels), "real", note
    images, labels = synthetic_classification(count, shape, 10, ctx.seed)
    note = (
        f"{dataset_name} not found (searched --data-dir, $AIPCBENCH_DATA_DIR, ./data, "
        f"~/.cache/aipcbench): synthetic images of the same shape with a learnable signal"
    )
    return images, labels, "synthetic", note
