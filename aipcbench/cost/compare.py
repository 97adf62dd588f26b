"""Build-or-rent comparisons assembled from results files, the catalog and a machine profile.

For every cell measured on the local host (workload, size, dtype; its fastest device), this
prices one run locally and on every cloud offer; each offer's run time comes from the evidence
ladder (``cost.evidence``) and is labelled with how it was obtained.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aipcbench.catalog import Catalog, CloudOffer
from aipcbench.cost import cash, formulas
from aipcbench.cost.estimate import Observation
from aipcbench.cost.evidence import (
    CellKey,
    Evidence,
    MeasuredCell,
    evidence_for,
    measured_cells,
    observations,
)
from aipcbench.cost.local_energy import local_energy
from aipcbench.cost.machine import MachineProfile
from aipcbench.results.store import ResultsDocument
from aipcbench.units import DAYS_PER_MONTH, SECONDS_PER_HOUR


@dataclass(frozen=True)
class OfferCost:
    provider: str
    instance_type: str
    region: str
    accelerator: str
    gpu_count: int
    evidence: Evidence
    on_demand_usd: float | None
    spot_usd: float | None
    amortised_usd: float | None
    usd_per_hour: float
    source: str
    as_of: str
    on_demand_usd_low: float | None = None  # at the evidence's low and high times per run
    on_demand_usd_high: float | None = None
    billing_increment_s: float = 1.0
    billing_minimum_s: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.provider} {self.instance_type}"


def cheapest_priced(offers: Iterable[OfferCost]) -> OfferCost | None:
    """The cheapest offer with an on-demand price per run (offers are kept sorted by it)."""
    return min(
        (o for o in offers if o.on_demand_usd is not None), key=lambda o: o.on_demand_usd, default=None
    )


@dataclass(frozen=True)
class CellComparison:
    workload: str
    size: str
    dtype: str
    mode: str
    host: str
    device: str
    device_name: str
    seconds_per_run: float
    run_description: str
    energy_j_per_run: float | None
    energy_method: str | None
    local: formulas.LocalCost
    valid_run: bool
    data_source: str
    offers: tuple[OfferCost, ...]
    cheapest: str
    cheapest_usd: float
    break_even: formulas.BreakEven | None
    break_even_against: str
    payback_months: float | None
    runs_per_month_at_usage: float
    world_size: int = 0
    notes: tuple[str, ...] = field(default=())
    evidence: dict[str, Evidence] = field(default_factory=dict, repr=False)  # per accelerator
    local_method: str = "measured"  # how the local time was obtained: measured, or the ladder's rung
    # What a run is made of, for prices per item ($ per million tokens) and compression tables
    items_per_run: float | None = None
    item_unit: str = ""
    details: dict = field(default_factory=dict, repr=False)  # the workload's, free-form
    parameter_count: int | None = None

    @property
    def label(self) -> str:
        ranks = f" x{self.world_size} ranks" if self.world_size else ""
        return f"{self.workload}:{self.size} {self.dtype}{ranks}"

    @property
    def cheapest_offer(self) -> OfferCost | None:
        return cheapest_priced(self.offers)


def _offer_cost(offer: CloudOffer, evidence: Evidence, startup_s: float) -> OfferCost:
    seconds = evidence.seconds_per_run

    def billed(run_s: float | None) -> float | None:
        if run_s is None:
            return None
        return formulas.cloud_cost_per_run(
            run_s, offer.on_demand_per_hour, offer.billing_increment_s, offer.billing_minimum_s, startup_s
        )

    on_demand = spot = amortised = None
    if seconds is not None:
        on_demand = billed(seconds)
        amortised = formulas.amortised_cloud_cost(seconds, offer.on_demand_per_hour)
        if offer.spot_per_hour_low is not None:
            spot = formulas.cloud_cost_per_run(
                seconds,
                offer.spot_per_hour_low,
                offer.billing_increment_s,
                offer.billing_minimum_s,
                startup_s,
            )
    return OfferCost(
        offer.provider,
        offer.instance_type,
        offer.region,
        offer.accelerator,
        offer.gpu_count,
        evidence,
        on_demand,
        spot,
        amortised,
        offer.on_demand_per_hour,
        offer.source,
        offer.as_of,
        billed(evidence.seconds_low) if seconds is not None else None,
        billed(evidence.seconds_high) if seconds is not None else None,
        offer.billing_increment_s,
        offer.billing_minimum_s,
    )


def _local_notes(local: MeasuredCell) -> tuple[str, ...]:
    return () if local.record.valid_run else ("training loss did not fall: not a valid run",)


def _compare_cell(
    local: MeasuredCell,
    same_cell: dict[str, list[MeasuredCell]],
    catalog: Catalog,
    machine: MachineProfile,
    hardware_per_hour: float,
    startup_s: float,
    seen: list[Observation],
    skipped: list[str],
) -> CellComparison | None:
    # the counts are the same on every device; the local record is the one the user chose
    """Longer than 60 lines: one cell priced on this machine and on every offer, in the order the comparison
    record is filled; to be split when the money model (issue 23) reworks it.
    """
    source = (
        local
        if local.record.demand is not None
        else min(
            [m for group in same_cell.values() for m in group] or [local],
            key=lambda m: m.record.demand is None,
        )
    )
    record = local.record
    accelerators = {o.accelerator for o in catalog.cloud_offers} | ({machine.accelerator} - {None})
    evidence = {
        accelerator: evidence_for(accelerator, same_cell, source, catalog, seen)
        for accelerator in accelerators
    }
    energy_j, energy_method, energy_note = local_energy(local, machine)
    seconds, notes = local.seconds, _local_notes(local) + ((energy_note,) if energy_note else ())
    local_method = "measured"
    device, device_name, host = record.device, local.device_name, local.host
    if machine.accelerator and machine.accelerator != (local.spec.key if local.spec else None):
        # a machine the user is considering, with another accelerator: its time from the ladder
        chosen = evidence[machine.accelerator]
        if chosen.seconds_per_run is None:
            skipped.append(
                f"{record.workload}:{record.size} {record.dtype} on {machine.name}: {chosen.basis}"
            )
            return None
        seconds, device, host = (
            chosen.seconds_per_run,
            machine.accelerator,
            f"{machine.name} (not measured here)",
        )
        device_name = catalog.spec(machine.accelerator).name
        energy_j = machine.power_w * seconds if machine.power_w else None
        energy_method = "estimate-power-x-time" if machine.power_w else None
        local_method = chosen.method
        notes = (
            f"run time on the {machine.accelerator}: {chosen.method}, {chosen.basis}",
            "electricity = rated power x that time (estimated)"
            if machine.power_w
            else "no power given: $0 electricity",
        )
    local_cost = formulas.local_cost_per_run(seconds, energy_j, hardware_per_hour, cash.usd_per_kwh(machine))
    offers = tuple(
        sorted(
            (_offer_cost(o, evidence[o.accelerator], startup_s) for o in catalog.cloud_offers),
            key=lambda c: (c.on_demand_usd is None, c.on_demand_usd or 0.0),
        )
    )
    cheapest_cloud = cheapest_priced(offers)
    cheapest, cheapest_usd = f"local ({machine.name})", local_cost.total_usd
    if cheapest_cloud and cheapest_cloud.on_demand_usd < cheapest_usd:
        cheapest, cheapest_usd = cheapest_cloud.label, cheapest_cloud.on_demand_usd
    usage_runs = machine.hours_per_day * SECONDS_PER_HOUR * DAYS_PER_MONTH / seconds
    breakeven = payback = None
    against = ""
    if cheapest_cloud is not None:
        against = f"{cheapest_cloud.label} on-demand"
        breakeven = formulas.break_even(
            cash.hardware_usd_per_month(machine) + cash.upkeep_usd_per_month(machine),
            local_cost.electricity_usd,
            cheapest_cloud.on_demand_usd,
            seconds,
            machine.hours_per_day,
        )
        payback = formulas.payback_months(
            machine.price_usd, usage_runs, local_cost.electricity_usd, cheapest_cloud.on_demand_usd
        )
    return CellComparison(
        world_size=record.world_size,
        workload=record.workload,
        size=record.size,
        dtype=record.dtype,
        mode=record.mode or "",
        host=host,
        device=device,
        device_name=device_name,
        seconds_per_run=seconds,
        run_description=record.run.description if record.run else "",
        energy_j_per_run=energy_j,
        energy_method=energy_method,
        local=local_cost,
        valid_run=record.valid_run,
        data_source=record.data_source,
        offers=offers,
        cheapest=cheapest,
        cheapest_usd=cheapest_usd,
        break_even=breakeven,
        break_even_against=against,
        payback_months=payback,
        runs_per_month_at_usage=usage_runs,
        notes=notes,
        evidence=evidence,
        local_method=local_method,
        items_per_run=record.run.items_per_run if record.run else None,
        item_unit=record.workload_facts.item_unit if record.workload_facts else "",
        details=dict(record.workload_facts.details) if record.workload_facts else {},
        parameter_count=record.workload_facts.parameter_count if record.workload_facts else None,
    )


def compare(
    documents: list[ResultsDocument],
    catalog: Catalog,
    machine: MachineProfile,
    local_host: str | None = None,
    startup_s: float = 0.0,
    skipped: list[str] | None = None,
) -> list[CellComparison]:
    """One comparison per cell measured on the local host (default: the newest file's host)."""
    measured = measured_cells(documents, catalog)
    if not measured:
        return []
    if local_host is None:
        local_host = documents[-1].host
    local_cells: dict[CellKey, MeasuredCell] = {}
    for m in measured:
        if m.host == local_host and (m.key not in local_cells or m.seconds < local_cells[m.key].seconds):
            local_cells[m.key] = m
    hardware_per_hour = cash.hardware_usd_per_hour(machine)
    by_cell: dict[CellKey, dict[str, list[MeasuredCell]]] = {}
    for m in measured:
        if m.spec is not None:
            by_cell.setdefault(m.key, {}).setdefault(m.spec.key, []).append(m)
    seen = observations(measured, catalog)
    reasons: list[str] = [] if skipped is None else skipped
    found = [
        _compare_cell(
            local, by_cell.get(key, {}), catalog, machine, hardware_per_hour, startup_s, seen, reasons
        )
        for key, local in local_cells.items()
    ]
    return [c for c in found if c is not None]
