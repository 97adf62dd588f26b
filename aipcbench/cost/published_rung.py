"""The ladder's published rung: a cell's time on a GPU nobody here ran it on, from a published
measurement of nearly the same configuration.

"Nearly the same" is a rule with three parts:

1. the published row is a ``check`` row on that GPU, in eager PyTorch (what aipcbench's
   workloads run; a serving engine's figure prices serving, not a cell), with the cell's model,
   batch and dtype (a language-model cell: its record's details name them);
2. what still differs (prompt and output lengths, the prefill in or out of the figure,
   ``generate()``'s extras against aipcbench's own loop) is corrected by the step estimator,
   calibrated on the published rows: correction = the cell's estimated time per token over the
   row's, both on that GPU;
3. the correction is at most 2x either way. Beyond that the estimate says more than the row
   does, and the cell falls to the estimate rungs.

Time per run = published time per item x the cell's items per step x correction x steps per
run. Range: from the uncorrected figure to twice the correction (the correction could be off by
its own size), and at least +-10 % (a published median's run-to-run spread is not published).
Torch-free.
"""

from __future__ import annotations

from aipcbench.catalog import Catalog
from aipcbench.cost.estimate import Demand, estimate_step
from aipcbench.cost.published import CheckRow, check_rows, published_constants
from aipcbench.results.record import CellRecord

MAX_CORRECTION = 2.0
SPREAD = 0.10  # ASSUMPTION: published medians' run-to-run spread, which the sources do not give


def cell_configuration(record: CellRecord, catalog: Catalog) -> tuple[str, int] | None:
    """A language-model cell's (catalog model key, batch): its shape's catalog name, or a model
    directory whose parameter count is a catalog shape's (real weights of that architecture);
    None for anything else."""
    facts = record.workload_facts
    if facts is None or facts.item_unit != "tokens" or facts.mode != "generate":
        return None  # the published language-model rows time generation, not training
    name, batch = str(facts.details.get("model", "")), facts.details.get("batch")
    model = next(
        (
            m.key
            for m in catalog.model_configs
            if m.name == name or (facts.parameter_count and m.parameters == facts.parameter_count)
        ),
        None,
    )
    if model is None or not isinstance(batch, int):
        return None
    return model, batch


def candidates(record: CellRecord, accelerator: str, catalog: Catalog) -> list[CheckRow]:
    """The check rows that ran the cell's model, batch and dtype on ``accelerator``, eagerly."""
    configuration = cell_configuration(record, catalog)
    if configuration is None:
        return []
    model, batch = configuration
    if not any(
        r.device == accelerator and r.model == model and r.use == "check" and not r.served
        for r in catalog.published
    ):
        return []  # checked before counting the rows: most cells on most GPUs stop here
    return [
        r
        for r in check_rows(catalog)
        if (r.row.device, r.row.model, int(r.row.batch), r.row.dtype)
        == (accelerator, model, batch, record.dtype)
    ]


def correction(record: CellRecord, row: CheckRow, catalog: Catalog) -> float | None:
    """The cell's estimated seconds per item over the row's, on the row's GPU."""
    demand = Demand.of(record)
    constants = published_constants(catalog, row.target.device_class, record.dtype)
    if demand is None or constants is None or record.workload_facts is None:
        return None
    mine = estimate_step(demand, row.target, constants)
    theirs = estimate_step(row.demand, row.target, constants)
    if mine is None or theirs is None:
        return None
    per_item = mine.seconds.central / record.workload_facts.items_per_step
    return per_item / (theirs.seconds.central / row.row.items_per_step)


def published_seconds_per_run(
    record: CellRecord, steps_per_run: float, accelerator: str, catalog: Catalog
) -> tuple[float, float, float, str] | None:
    """(low, central, high seconds per run, basis) from the closest published row, or None."""
    best = None
    for row in candidates(record, accelerator, catalog):
        factor = correction(record, row, catalog)
        if factor is None or not 1 / MAX_CORRECTION <= factor <= MAX_CORRECTION:
            continue
        if best is None or abs(factor - 1) < abs(best[1] - 1):
            best = (row, factor)
    if best is None or record.workload_facts is None:
        return None
    row, factor = best
    per_step = row.row.seconds_per_step / row.row.items_per_step * record.workload_facts.items_per_step
    central = per_step * factor * steps_per_run
    ends = (per_step * steps_per_run, per_step * factor * factor * steps_per_run)
    low, high = min(*ends, central * (1 - SPREAD)), max(*ends, central * (1 + SPREAD))
    published = row.row
    basis = (
        f"published {published.id}: {published.figure:g} {published.figure_unit} ({published.timed}, "
        f"{published.prompt_tokens or 0:g}+{published.new_tokens or 0:g} tokens, {published.engine} "
        f"{published.engine_version}; {published.source.split(';')[0]}, {published.as_of}), corrected "
        f"x{factor:.2f} "
        "by the calibrated estimator for this cell's lengths and decode loop"
    )
    return low, central, high, basis
