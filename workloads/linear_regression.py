"""Least-squares linear regression trained by gradient descent on the mean squared error.

- ``classic``: the textbook fit of y = 2x + noise with one feature, full-batch SGD over 1,000
  points; like ``mlp tiny`` it measures per-step overhead more than arithmetic.
- ``wide``: 1,024 features, mini-batches of 4,096, the shape of a real tabular regression.
"""

from __future__ import annotations

import torch
from torch import nn

from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, WorkloadSpec
from workloads.inputs import seeded_generator
from workloads.training import Trainer, batches_of, make_optimizer, parameter_bytes

# size -> (features, batch, dataset size, epochs per run, learning rate)
SIZES = {
    "classic": (1, 1_000, 1_000, 1_000, 0.01),
    "wide": (1_024, 4_096, 100_000, 10, 0.01),
}


def make_data(features: int, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """y = x . w + noise with w = 2 for every feature (so ``classic`` is y = 2x + noise)."""
    generator = seeded_generator(seed)
    inputs = torch.rand((count, features), generator=generator) * 2 - 1
    weights = torch.full((features, 1), 2.0)
    noise = 0.1 * torch.randn((count, 1), generator=generator)
    return inputs, inputs @ weights + noise


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    features, batch, dataset_size, epochs, lr = SIZES[ctx.size]
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device_id)
    model = nn.Linear(features, 1).to(device)
    optimizer = make_optimizer("sgd", model.parameters(), lr=lr)
    pool = min(dataset_size, batch * 4)
    inputs, targets = make_data(features, pool, ctx.seed)
    trainer = Trainer(
        ctx, model, optimizer, nn.functional.mse_loss, batches_of(inputs, targets, batch, device)
    )
    return PreparedWorkload(
        step=trainer.step,
        items_per_step=batch,
        item_unit="samples",
        mode="train",
        run=RunDefinition(f"{epochs:,} epochs over {dataset_size:,} samples", epochs * dataset_size),
        data_source="synthetic",
        data_note="generated y = 2x + noise (the classic regression exercise is defined on such data)",
        evaluate_loss=trainer.evaluate_loss,
        parameters=features + 1,
        details={
            "features": features,
            "batch": batch,
            "optimizer": "SGD",
            "lr": lr,
            "weight_bytes": parameter_bytes(model),
        },
    )


SPEC = WorkloadSpec(
    name="linear-regression",
    summary="least-squares fit by SGD: y=2x with one feature, and 1,024 features",
    sizes=tuple(SIZES),
    prepare=prepare,
    trainable=True,
    preload=("torch._dynamo",),  # every optimizer's constructor imports it: 1 s
)
