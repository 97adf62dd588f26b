"""The tensors a workload trains on: real data when it is found, otherwise synthetic data of the
real set's shape with a learnable signal (said in the record, never silently)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from workloads.base import PrepareContext


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
