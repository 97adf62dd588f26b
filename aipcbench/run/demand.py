"""Demand without timing: what one step of a configuration nobody ran here asks of a device.

A published measurement (``catalog/data/published.csv``) names a configuration: Llama-3.1-8B,
batch 1, 64 prompt tokens, 64 new, bf16; or VGG16 training on 224x224 images at batch 12. To
compare the estimator with it, the step is counted exactly as a measured cell's is
(``run.step_counts``: FLOPs, kernel ops, eager bytes), but on the meta device: shapes without
memory or arithmetic, so an 8B model is counted on a laptop in seconds.

Two identities keep language models fast to count, both exact for a transformer decoder (tested
against a full count): layers are identical, so a 1-layer and a 2-layer count give the rest
(count(L) = count(1) + (L - 1) x (count(2) - count(1))); and each decode step's demand grows
linearly with the context (its KV-cache reads and appends), so a generation of N new tokens
follows from counts of 1, 2 and 3 new tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from aipcbench.errors import UserInputError
from aipcbench.results.record import FLOAT_DTYPES
from aipcbench.run.step_counts import StepCount, count_step

METHOD = "counted on the meta device (run.demand): one step as the workload runs it, not timed"
NETWORKS = ("vgg16", "vgg16-bn")  # torchvision's layouts, for published training measurements
TIMED = ("decode", "generation", "train-step")


@dataclass(frozen=True)
class Configuration:
    """One step to count. ``timed`` says what a figure for it covers: ``decode`` (the new tokens
    after the first, the prefill left out, as optimum-benchmark reports), ``generation``
    (prefill and every new token) or ``train-step``."""

    model: str = ""  # a catalog model key (language models)
    network: str = ""  # vgg16 | vgg16-bn (training)
    batch: int = 1
    dtype: str = "bf16"
    prompt_tokens: int = 0
    new_tokens: int = 0
    image_size: int = 224
    optimizer_step: bool = True
    timed: str = "generation"

    @property
    def items(self) -> int:
        """What one step produces: tokens generated (and timed), or images trained on."""
        if self.timed == "train-step":
            return self.batch
        return self.batch * (self.new_tokens - 1 if self.timed == "decode" else self.new_tokens)

    def check(self) -> None:
        """One line for a configuration that cannot be counted."""
        if self.dtype not in FLOAT_DTYPES:
            raise UserInputError(
                f"--dtype: only {', '.join(FLOAT_DTYPES)} can be counted without running "
                "(quantized kernels are built from real weights)"
            )
        if bool(self.model) == bool(self.network):
            raise UserInputError("name either --model (a language model) or --network (training)")
        if self.batch < 1 or (self.model and (self.prompt_tokens < 1 or self.new_tokens < 1)):
            raise UserInputError("--batch, --prompt-tokens and --new-tokens must be at least 1")
        if self.timed not in TIMED or (self.timed == "decode" and self.new_tokens < 2):
            raise UserInputError(f"timed: one of {', '.join(TIMED)} (decode needs 2 new tokens or more)")
        if self.network and self.network not in NETWORKS:
            raise UserInputError(f"--network: one of {', '.join(NETWORKS)}")
        if self.network and not 32 <= self.image_size <= 1024:
            raise UserInputError("--image-size: 32 to 1024 pixels")


def count_configuration(config: Configuration, catalog=None) -> StepCount:
    """The demand of one step of ``config`` (see the module's docstring); model shapes from
    ``catalog`` (the shipped one when None, so ``--catalog`` shapes count too)."""
    config.check()
    if config.network:
        return _count_training(config)
    from aipcbench.catalog import load_catalog

    shapes = {m.key: m for m in (catalog or load_catalog()).model_configs}
    if config.model not in shapes:
        raise UserInputError(f"--model: '{config.model}' is not a catalog model ({', '.join(shapes)})")
    shape = shapes[config.model]
    per_layers = [_generation(replace(shape, layers=float(n)), config) for n in (1, 2)]
    total = _line(per_layers[0], per_layers[1], int(shape.layers) - 1)
    if config.timed == "decode":  # the first token comes out of the prefill
        prefill = [_count_lm(replace(shape, layers=float(n)), config, 1) for n in (1, 2)]
        total = _minus(total, _line(prefill[0], prefill[1], int(shape.layers) - 1))
    return total


def _generation(shape, config: Configuration) -> StepCount:
    """A whole generation of ``config.new_tokens``, from counts of 1, 2 and 3 new tokens."""
    n = config.new_tokens
    if n <= 3:
        return _count_lm(shape, config, n)
    one, two, three = (_count_lm(shape, config, k) for k in (1, 2, 3))
    first, second = _minus(two, one), _minus(three, two)  # decode steps 1 and 2
    growth = _minus(second, first)  # per step of context
    steps = n - 1
    return _combine(one, first, steps, growth, steps * (steps - 1) // 2)


def _count_lm(shape, config: Configuration, new_tokens: int) -> StepCount:
    import torch
    from transformers import AutoModelForCausalLM

    from workloads.lm_models import transformers_config
    from workloads.precision import TORCH_DTYPES
    from workloads.textgen import greedy_decode

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(transformers_config(shape), dtype=TORCH_DTYPES[config.dtype])
    model.eval()
    ids = torch.zeros(config.batch, config.prompt_tokens, dtype=torch.long, device="meta")
    with torch.inference_mode():
        return count_step(lambda: greedy_decode(model, ids, new_tokens))


def _count_training(config: Configuration) -> StepCount:
    import torch
    from torch import nn

    from workloads.precision import TORCH_DTYPES
    from workloads.vgg16_cifar10 import imagenet_vgg16

    with torch.device("meta"):
        model = imagenet_vgg16(batch_norm=config.network == "vgg16-bn").to(TORCH_DTYPES[config.dtype])
        images = torch.empty(
            config.batch, 3, config.image_size, config.image_size, dtype=model[0].weight.dtype
        )
        labels = torch.zeros(config.batch, dtype=torch.long)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, foreach=True)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(images), labels).backward()
        if config.optimizer_step:
            optimizer.step()

    return count_step(step)


def _values(count: StepCount) -> list[int]:
    return [getattr(count, f.name) for f in fields(StepCount)]


def _combine(base: StepCount, a: StepCount, k: int, b: StepCount, m: int) -> StepCount:
    """base + k x a + m x b, field by field."""
    return StepCount(*(x + k * y + m * z for x, y, z in zip(_values(base), _values(a), _values(b))))


def _minus(a: StepCount, b: StepCount) -> StepCount:
    return StepCount(*(x - y for x, y in zip(_values(a), _values(b))))


def _line(one: StepCount, two: StepCount, extra: int) -> StepCount:
    """count(1 + extra) of a straight line through count(1) and count(2)."""
    return _combine(one, _minus(two, one), extra, _minus(one, one), 0)


def configuration_of(row) -> Configuration:
    """The configuration a published row measured (``catalog.published_rows.PublishedRow``)."""
    language = row.workload == "causal-lm"
    return Configuration(
        model=row.model if language else "",
        network="" if language else row.model,
        batch=int(row.batch),
        dtype=row.dtype,
        prompt_tokens=int(row.prompt_tokens or 0),
        new_tokens=int(row.new_tokens or 0),
        image_size=int(row.image_size or 224),
        optimizer_step=row.optimizer_step != "no",
        timed=row.timed,
    )


def published_demand_table(rows) -> str:
    """``published_demand.csv`` for the check rows: counted here, written with the versions
    that counted them (``python -m aipcbench.run.demand > aipcbench/catalog/data/...``)."""
    import torch
    import transformers

    versions = f"torch {torch.__version__}; transformers {transformers.__version__}"
    lines = [
        "# aipcbench-catalog published_demand v1",
        "id,flop_count,conv_flop_count,kernel_ops,eager_bytes,counted_with",
    ]
    for row in rows:
        if row.use != "check" or row.served:  # a serving engine is not counted per op
            continue
        n = count_configuration(configuration_of(row))
        lines.append(f"{row.id},{n.flop_count},{n.conv_flop_count},{n.kernel_ops},{n.bytes_eager},{versions}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from aipcbench.catalog import load_catalog

    print(published_demand_table(load_catalog().published), end="")
