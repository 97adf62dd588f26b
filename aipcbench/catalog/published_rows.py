"""Rows of the published-measurement catalogs: a GPU figure someone else measured, with the
exact configuration it measured, and that configuration's counted demand.

``published.csv`` holds the figures (each with its source, date and the differences from what
aipcbench runs); ``use`` says what a row may do: ``check`` rows calibrate the estimator and are
predicted leaving each out (``aipcbench estimate --check --published``): eager rows the step
estimator, serving-engine rows (vLLM) the serving estimator; ``context`` rows are
kept for the record with the reason they cannot be modelled (a different framework, data
loading as the bottleneck, kernels aipcbench does not run). ``published_demand.csv`` holds what
each eager check row's step asks of a device, counted on the meta device (``run.demand``) with the
torch and transformers versions named, so pricing and the check stay torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLISHED_USES = ("check", "context")
PUBLISHED_TIMED = ("decode", "generation", "train-step")
# engines that run a decode step as one captured graph: the serving estimator's fixed cost per
# step models them (``cost.published_serving``), not eager PyTorch's cost per kernel op
SERVING_ENGINES = ("vllm",)


@dataclass(frozen=True)
class PublishedRow:
    id: str
    workload: str  # causal-lm | vgg16-imagenet
    model: str  # catalog model key, or network (vgg16 | vgg16-bn)
    batch: float
    dtype: str  # fp32 | bf16 | fp16 | int8 | nf4 ...
    engine: str  # transformers-eager | pytorch-eager | vllm | tensorflow ...
    device: str  # device_specs key
    figure: float
    figure_unit: str  # tokens/s (all sequences together) | images/s
    timed: str  # decode | generation | train-step: what the figure's time covers
    use: str
    prompt_tokens: float | None = None
    new_tokens: float | None = None
    image_size: float | None = None
    optimizer_step: str = "yes"
    engine_version: str = ""
    differences: str = ""  # from aipcbench's own cell, or why a context row is not modelled
    source: str = ""
    as_of: str = ""

    def __post_init__(self) -> None:
        if self.use not in PUBLISHED_USES:
            raise ValueError(f"field 'use': one of {', '.join(PUBLISHED_USES)}")
        if self.timed not in PUBLISHED_TIMED:
            raise ValueError(f"field 'timed': one of {', '.join(PUBLISHED_TIMED)}")
        if self.figure <= 0 or self.batch < 1:
            raise ValueError("fields 'figure' and 'batch' must be positive")

    @property
    def served(self) -> bool:
        """A serving engine's figure: checked by the serving estimator, not counted per op."""
        return self.engine in SERVING_ENGINES

    @property
    def items_per_step(self) -> float:
        """What one counted step produces, in the figure's unit (tokens or images)."""
        if self.timed == "train-step":
            return self.batch
        new = self.new_tokens or 0
        return self.batch * (new - 1 if self.timed == "decode" else new)

    @property
    def seconds_per_step(self) -> float:
        return self.items_per_step / self.figure


@dataclass(frozen=True)
class PublishedDemand:
    """One check row's step, counted on the meta device (``run.demand``)."""

    id: str
    flop_count: float
    conv_flop_count: float
    kernel_ops: float
    eager_bytes: float
    counted_with: str = ""  # torch and transformers versions: op counts follow the library


PUBLISHED_SCHEMAS = {
    "published": (
        PublishedRow,
        ("id",),
        {
            "batch": True,
            "figure": True,
            "prompt_tokens": False,
            "new_tokens": False,
            "image_size": False,
        },
    ),
    "published_demand": (
        PublishedDemand,
        ("id",),
        {n: True for n in ("flop_count", "conv_flop_count", "kernel_ops", "eager_bytes")},
    ),
}
