"""Training steps shared by the trainable workloads: optimizers, batches on the device, and a
``Trainer`` whose step the harness times (and whose loss the quality gate reads, untimed)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from workloads.base import PrepareContext
from workloads.precision import autocast_for


def parameter_bytes(model: torch.nn.Module) -> int:
    """Bytes of the model's parameters as stored (fp32 under autocast: the weights a step reads)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def make_optimizer(name: str, parameters, **settings) -> torch.optim.Optimizer:
    """Adam or SGD with the fused kernel where this torch has it for the device: one kernel per
    step instead of a dozen per parameter group (mlp full: 206 -> 136 ms per step here)."""
    parameters = list(parameters)
    optimizer_class = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[name]
    try:
        return optimizer_class(parameters, fused=True, **settings)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or dtype
        return optimizer_class(parameters, **settings)


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
