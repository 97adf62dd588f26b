"""Multi-layer perceptron classifiers trained with Adam and cross-entropy.

- ``tiny``: the classic 3 -> 4 -> 2 classifier at batch 32. Its step is a few microseconds of
  arithmetic, so what it measures is framework dispatch overhead: useful as the lower bound of
  any step on a device (GPUs lose to CPUs here).
- ``full``: 784 -> 4096 -> 4096 -> 10 at batch 256, MNIST-shaped but big enough that the two
  4096-wide matmuls keep the device's matrix units busy.
- ``infer`` and ``infer-pruned``: the ``full`` network's forward pass at batch 256, dense and
  with 50 % of its weights pruned (``workloads.compression``); only these run ``int8``/``int4``
  weights. Asked for by name (``--workloads mlp:infer,mlp:infer-pruned``): not in the default
  suite.

Data is synthetic (class templates plus noise, see ``synthetic_classification``): the point is
the arithmetic, and a learnable signal lets the quality gate check that training works.
"""

from __future__ import annotations

import torch
from torch import nn

from workloads.base import (
    DTYPES,
    QUANTIZED_DTYPES,
    PrepareContext,
    PreparedWorkload,
    RunDefinition,
    Unsupported,
    WorkloadSpec,
)
from workloads.compression import compress
from workloads.inference import forward_step
from workloads.inputs import synthetic_classification
from workloads.training import Trainer, batches_of, make_optimizer, parameter_bytes

# size -> (layer widths, batch, dataset size, epochs per run)
SIZES = {
    "tiny": ((3, 4, 2), 32, 1_024, 100),
    "full": ((784, 4096, 4096, 10), 256, 60_000, 10),
    "infer": ((784, 4096, 4096, 10), 256, 60_000, 1),
    "infer-pruned": ((784, 4096, 4096, 10), 256, 60_000, 1),
}


def build_model(widths: tuple[int, ...]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last: it feeds the loss)."""
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        if index:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers)


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    if ctx.size.startswith("infer"):
        return prepare_inference(ctx)
    if ctx.dtype in QUANTIZED_DTYPES:
        raise Unsupported(f"{ctx.dtype} weights are for inference: use mlp:infer")
    widths, batch, dataset_size, epochs = SIZES[ctx.size]
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device_id)
    model = build_model(widths).to(device)
    optimizer = make_optimizer("adam", model.parameters(), lr=1e-3 if ctx.size == "full" else 1e-2)
    # The timed steps cycle over a pool of batches already on the device; the pool is smaller
    # than the dataset a run covers, which changes nothing for the arithmetic.
    pool = min(dataset_size, batch * 8)
    inputs, labels = synthetic_classification(pool, (widths[0],), widths[-1], ctx.seed)
    trainer = Trainer(
        ctx, model, optimizer, nn.functional.cross_entropy, batches_of(inputs, labels, batch, device)
    )
    return PreparedWorkload(
        step=trainer.step,
        items_per_step=batch,
        item_unit="samples",
        mode="train",
        run=RunDefinition(f"{epochs} epochs over {dataset_size:,} samples", epochs * dataset_size),
        data_source="synthetic",
        data_note="synthetic class templates plus noise (an MLP benchmark has no canonical data set)",
        evaluate_loss=trainer.evaluate_loss,
        parameters=sum(p.numel() for p in model.parameters()),
        details={
            "widths": list(widths),
            "batch": batch,
            "optimizer": "Adam",
            "weight_bytes": parameter_bytes(model),
        },
    )


def prepare_inference(ctx: PrepareContext) -> PreparedWorkload:
    """Forward passes of the ``full`` network, optionally pruned and/or quantized."""
    widths, batch, dataset_size, _ = SIZES[ctx.size]
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device_id)
    model = build_model(widths).to(device).eval()
    inputs, _ = synthetic_classification(batch * 2, (widths[0],), widths[-1], ctx.seed)
    inputs = inputs.to(device)
    details = compress(ctx, model, inputs[:batch])
    return PreparedWorkload(
        step=forward_step(ctx, model, [inputs[:batch], inputs[batch:]]),
        items_per_step=batch,
        item_unit="samples",
        mode="infer",
        run=RunDefinition(f"one pass over {dataset_size:,} samples", dataset_size),
        data_source="synthetic",
        data_note="synthetic inputs; untrained weights (inference arithmetic does not depend on training)",
        parameters=sum(p.numel() for p in build_model(widths).parameters()),
        details={"widths": list(widths), "batch": batch, **details},
    )


SPEC = WorkloadSpec(
    name="mlp",
    summary="MLP classifier trained with Adam: tiny 3-4-2 (dispatch-bound) and 784-4096-4096-10",
    sizes=tuple(SIZES),
    prepare=prepare,
    trainable=True,
    preload=("torch._dynamo",),  # every optimizer's constructor imports it: 1 s
    default_sizes=("tiny", "full"),
    dtypes=DTYPES,
)
