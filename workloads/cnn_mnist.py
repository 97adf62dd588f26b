"""The small classic CNN for 28x28 grey digits, trained with Adam.

conv 32 3x3 -> ReLU -> max-pool 2 -> conv 64 3x3 -> ReLU -> max-pool 2 -> flatten -> dense 10
(the Keras "simple MNIST convnet" shape; the softmax lives in the cross-entropy loss). One run
= 10 epochs over the 60,000 training images, at batch 128.
"""

from __future__ import annotations

import torch
from torch import nn

from workloads import datasets
from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, WorkloadSpec
from workloads.inputs import image_data
from workloads.training import Trainer, batches_of, make_optimizer, parameter_bytes

TRAIN_IMAGES, EPOCHS, BATCH = 60_000, 10, 128


def build_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 32, 13, 13)
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 64, 5, 5)
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, 10),  # (B, 10)
    )


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device_id)
    model = build_model().to(device)
    real = datasets.load_mnist(ctx.data_dir, "train")
    images, labels, source, note = image_data(ctx, real, BATCH * 8, (1, 28, 28), "MNIST")
    optimizer = make_optimizer("adam", model.parameters(), lr=1e-3)
    trainer = Trainer(
        ctx, model, optimizer, nn.functional.cross_entropy, batches_of(images, labels, BATCH, device)
    )
    return PreparedWorkload(
        step=trainer.step,
        mode="train",
        evaluate_loss=trainer.evaluate_loss,
        items_per_step=BATCH,
        item_unit="images",
        data_source=source,
        data_note=note,
        run=RunDefinition(
            f"{EPOCHS} epochs over {TRAIN_IMAGES:,} MNIST training images", EPOCHS * TRAIN_IMAGES
        ),
        parameters=sum(p.numel() for p in model.parameters()),
        details={"batch": BATCH, "optimizer": "Adam", "weight_bytes": parameter_bytes(model)},
    )


SPEC = WorkloadSpec(
    name="cnn-mnist",
    summary="two-conv CNN on 28x28 MNIST digits, Adam, batch 128",
    sizes=("train",),
    prepare=prepare,
    trainable=True,
    preload=("torch._dynamo",),  # every optimizer's constructor imports it: 1 s
)
