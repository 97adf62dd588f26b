"""The serving estimator calibrated and checked on published serving-engine measurements.

The serving estimator (``cost.serving_estimate``) uses the step estimator's memory model:
weights read once per decode step for the whole batch, the KV cache read per sequence, compute
at large batch, concurrency capped by memory. Its constants come from the published rows too:

- memory efficiency: what memory-bound published decode rows reached of the rated bandwidth
  (``cost.published``: weight streaming moves the same bytes whichever engine launches it);
- the engine's fixed cost per decode step: what is left of each published vLLM row's time once
  its weight stream and prefill are taken out, the median per device class, the prior's range
  widened to take every row in (``catalog/data/estimator.csv`` where no row covers a class);
- compute efficiency: the prior (no published serving row is compute-bound).

``check_published`` predicts every check row leaving itself out: eager rows with the step
estimator, serving rows with this one. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aipcbench.catalog import Catalog
from aipcbench.catalog.published_rows import PublishedRow
from aipcbench.cost.estimate import Span
from aipcbench.cost.published import Prediction, joined_span, leave_one_out, published_constants
from aipcbench.cost.serving_estimate import (
    BITS_PER_WEIGHT,
    ENDS,
    Constants,
    Device,
    ServedModel,
    at_batch,
    constants,
    step_bound,
)
from aipcbench.errors import DataError


@dataclass(frozen=True)
class ServingRow:
    """A published serving-engine figure with the model and device the estimator needs."""

    row: PublishedRow
    model: ServedModel
    device: Device

    @property
    def batch(self) -> int:
        return int(self.row.batch)

    def implied_overhead_s(self, c: Constants) -> float:
        """The fixed cost per step that makes ``at_batch`` give the published figure:
        a generation of o tokens for B sequences takes o x (decode + h) + B x (prefill + h)."""
        model, device, batch = self.model, self.device, self.batch
        bandwidth = device.bandwidth_bytes_per_s * c.memory_efficiency.central
        peak = device.peak_flop_per_s * c.compute_efficiency.central
        decode = max(model.step_bytes(batch) / bandwidth, model.step_flops(batch) / peak)
        prefill = max(model.weight_bytes / bandwidth, model.prefill_flops() / peak)
        o = model.output_tokens
        total = batch * o / self.row.figure
        return max(0.0, (total - o * decode - batch * prefill) / (o + batch))


def serving_rows(catalog: Catalog) -> list[ServingRow]:
    """The catalog's serving check rows, ready to estimate (one line if one cannot be)."""
    shapes = {m.key: m for m in catalog.model_configs}
    found = []
    for row in catalog.published:
        if row.use != "check" or not row.served:
            continue
        spec, shape = catalog.spec(row.device), shapes.get(row.model)
        device = Device.from_spec(spec, row.dtype) if spec else None
        if shape is None or device is None or row.dtype not in BITS_PER_WEIGHT:
            raise DataError(
                f"published row {row.id}: a serving row needs a catalog model, a device with "
                "bandwidth and peak, and a dtype the serving estimator knows"
            )
        if row.timed != "generation" or not row.prompt_tokens or not row.new_tokens:
            raise DataError(f"published row {row.id}: a serving row times a whole generation (generation)")
        model = ServedModel.of(shape, row.dtype, int(row.prompt_tokens), int(row.new_tokens))
        found.append(ServingRow(row, model, device))
    return found


def serving_constants(
    catalog: Catalog, device_class: str, quantization: str, exclude: str = ""
) -> Constants | None:
    """The serving estimator's constants for a class (see the module's docstring), fitted on
    every serving row of the class but ``exclude``."""
    prior = constants(catalog, device_class, quantization)
    if prior is None:
        return None
    dtype = "fp32" if device_class == "cpu" or quantization == "fp32" else "bf16"
    step = published_constants(catalog, device_class, dtype)
    memory = [s for s in step.sources if s.startswith("memory_efficiency from")] if step else []
    shared = replace(prior, memory_efficiency=step.memory_efficiency) if memory else prior
    pool = [r for r in serving_rows(catalog) if r.device.device_class == device_class and r.row.id != exclude]
    if not pool:
        return replace(shared, sources=tuple(memory) + prior.sources)
    overhead = joined_span(prior.step_overhead_s, [r.implied_overhead_s(shared) for r in pool], None)
    fitted = f"serving_step_overhead_s from published {', '.join(r.row.id for r in pool)}"
    return replace(shared, step_overhead_s=overhead, sources=(fitted, *memory, *prior.sources))


def serving_leave_one_out(catalog: Catalog) -> list[Prediction]:
    """Each serving row predicted with the fixed cost per step fitted on the others."""
    rows = serving_rows(catalog)
    predictions = []
    for held in rows:
        c = serving_constants(catalog, held.device.device_class, held.model.quantization, exclude=held.row.id)
        if c is None:
            where = held.device.device_class
            raise DataError(f"published row {held.row.id}: no serving constants for {where}")
        tokens = {end: at_batch(held.model, held.device, c, held.batch, end)[0] for end in ENDS}
        others = tuple(
            r.row.id for r in rows if r is not held and r.device.device_class == held.device.device_class
        )
        bound = step_bound(held.model, held.device, c, held.batch)
        predictions.append(Prediction(held.row, Span(*tokens.values()), f"{bound} + step", others))
    return predictions


def check_published(catalog: Catalog) -> list[Prediction]:
    """Every published check row predicted leaving itself out: eager rows, then serving rows."""
    return leave_one_out(catalog) + serving_leave_one_out(catalog)
