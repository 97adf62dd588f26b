"""The evidence ladder: how long a cell's run takes on an accelerator, and how we know.

For a cell (workload, size, dtype, world size) and a target accelerator from the catalog, the
best evidence wins and is labelled:

1. ``measured``: a results file has the cell on a device of that accelerator model (brought back
   from a rented instance, shipped in results/reference/, or the user's own): the median of
   those runs, their spread as the range;
2. ``published``: a published measurement of nearly the same configuration on that GPU
   (``cost.published_rung`` says what "nearly" is), corrected by the estimator for what differs;
3. ``calibrated-estimate``: the roofline-and-dispatch estimate (``cost.estimate``) from the
   cell's counted FLOPs, bytes and ops, scaled by what measurements on devices of the target's
   class showed (measured / estimated, median);
4. ``estimate``: the same without a measurement of that class to calibrate it.

Every estimate has a low / central / high time per run and names its bound. Only a cell with
nothing counted (results from aipcbench < 0.3 without FLOPs) is ``not-estimated``.

Torch-free, like everything on the cost and report side.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from aipcbench.catalog import Catalog, DeviceSpec
from aipcbench.cost.estimate import (
    Demand,
    Observation,
    StepEstimate,
    Target,
    calibrated,
    calibration,
    estimate_step,
)
from aipcbench.cost.published import published_constants
from aipcbench.cost.published_rung import published_seconds_per_run
from aipcbench.results.device_facts import DeviceFacts
from aipcbench.results.record import CellRecord, device_kind
from aipcbench.results.store import ResultsDocument

CellKey = tuple[str, str, str, int]  # workload, size, dtype, world size (0: one process)


@dataclass(frozen=True)
class Evidence:
    seconds_per_run: float | None
    method: str  # measured | published | calibrated-estimate | estimate | not-estimated
    basis: str
    seconds_low: float | None = None
    seconds_high: float | None = None
    bound: str = ""  # compute | memory | dispatch for estimates


@dataclass(frozen=True)
class MeasuredCell:
    """One measured record with what pricing needs from its results file."""

    record: CellRecord
    host: str
    device_name: str
    spec: DeviceSpec | None
    facts: DeviceFacts
    target: Target | None = field(default=None, compare=False)

    @property
    def seconds(self) -> float:
        return self.record.run.time_s  # type: ignore[union-attr]  # measured cells have one

    @property
    def key(self) -> CellKey:
        """A cell's identity across machines; data-parallel world sizes are priced apart."""
        record = self.record
        return (record.workload, record.size, record.dtype, record.world_size)

    @property
    def where(self) -> str:
        return f"{self.host} {self.record.device}"

    @property
    def steps_per_run(self) -> float | None:
        run, facts = self.record.run, self.record.workload_facts
        if run is None:
            return None
        if run.steps_per_run:
            return run.steps_per_run
        return run.items_per_run / facts.items_per_step if facts else None


def measured_cells(documents: list[ResultsDocument], catalog: Catalog) -> list[MeasuredCell]:
    """Every record with a time per run, except the null workload (it prices the harness)."""
    out = []
    for document in documents:
        for record in document.records:
            if not record.measured or record.mode == "overhead":
                continue
            name = document.device_name(record.device)
            spec = catalog.spec_for_device_name(name)
            facts = document.facts(record.device)
            if spec is not None:
                target = Target.from_spec(spec)
            elif facts.rated_peaks:
                target = Target.from_facts(
                    f"{document.host} {record.device}",
                    name or record.device,
                    device_kind(record.device),
                    facts,
                )
            else:
                target = None
            out.append(MeasuredCell(record, document.host, name, spec, facts, target))
    return out


def _estimate(record: CellRecord, target: Target, catalog: Catalog) -> StepEstimate | None:
    demand = Demand.of(record)
    constants = published_constants(catalog, target.device_class, record.dtype)
    if demand is None or constants is None:
        return None
    return estimate_step(demand, target, constants)


def observations(measured: list[MeasuredCell], catalog: Catalog) -> list[Observation]:
    """Each measured step against its uncalibrated estimate on the device that measured it."""
    found = []
    for cell in measured:
        if cell.target is None or cell.record.world_size or cell.record.step_time is None:
            continue
        estimate = _estimate(cell.record, cell.target, catalog)
        if estimate is not None:
            found.append(
                Observation(
                    cell.target.device_class,
                    cell.where,
                    cell.record.step_time.median_s,
                    estimate.seconds.central,
                )
            )
    return found


def estimate_on(
    source: MeasuredCell, target: Target, catalog: Catalog, seen: list[Observation], exclude: str = ""
) -> Evidence:
    """The ladder's estimate rungs: ``source``'s counts on ``target``, calibrated where the
    target's class was measured (leaving out ``exclude``, a host and device)."""
    record = source.record
    if record.world_size:
        return Evidence(None, "not-estimated", "data-parallel cells are priced only where measured")
    estimate = _estimate(record, target, catalog)
    steps = source.steps_per_run
    if estimate is None or not steps:
        why = (
            "no op and byte counts in this results file (aipcbench < 0.3): FLOPs alone would hide the "
            "memory and dispatch floors; re-run `aipcbench run` to estimate it"
        )
        if Demand.of(record) is not None:
            why = f"no rated {record.dtype} peak or bandwidth for {target.name} in the catalog"
        return Evidence(None, "not-estimated", why)
    factor, how = calibration(seen, target.device_class, exclude)
    estimate = calibrated(estimate, factor, how)
    per_run = estimate.per_run(steps)
    method = "calibrated-estimate" if how else "estimate"
    basis = f"{estimate.basis}; counts from {source.device_name or record.device} on {source.host}"
    return Evidence(per_run.central, method, basis, per_run.low, per_run.high, estimate.bound)


def evidence_for(
    accelerator: str,
    same_cell: dict[str, list[MeasuredCell]],
    source: MeasuredCell,
    catalog: Catalog,
    seen: list[Observation],
) -> Evidence:
    """Measured on ``accelerator`` if any results say so, else published for nearly the same
    configuration, else estimated from ``source``'s counts."""
    same_hardware = same_cell.get(accelerator)
    if same_hardware:
        times = [m.seconds for m in same_hardware]
        hosts = sorted({m.host for m in same_hardware})
        return Evidence(
            statistics.median(times),
            "measured",
            f"median of {len(same_hardware)} run(s) on {accelerator} ({', '.join(hosts)})",
            min(times),
            max(times),
        )
    steps = source.steps_per_run
    found = published_seconds_per_run(source.record, steps, accelerator, catalog) if steps else None
    if found is not None and not source.record.world_size:
        low, central, high, basis = found
        return Evidence(central, "published", basis, low, high)
    spec = catalog.spec(accelerator)
    if spec is None:
        return Evidence(None, "not-estimated", "no spec row for this accelerator in the catalog")
    return estimate_on(source, Target.from_spec(spec), catalog, seen)
