"""Build-or-rent comparisons assembled from results files, the catalog and a machine profile.

For every cell measured on the local host (workload, size, dtype; its fastest device), this
prices one run locally and on every cloud offer, with the run time on each offer taken from
the best evidence available and labelled:

1. ``measured``: a results file from a device of the offer's accelerator model (brought back
   from a rented instance, or shipped in results/reference/);
2. ``estimated``: scaled from a measured device by the ratio of rated peaks at the cell's dtype
   (compute-bound cells), or of memory bandwidth (token generation, which streams every weight
   per token). Cells whose source measurement is overhead-bound (under 5 % of the GEMM peak
   there) are not scaled: a peak ratio would promise a speed-up that dispatch overhead
   forbids, so those offers say "not estimated".

Torch-free, like everything on the report side.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from aipcbench import cost
from aipcbench.catalog import Catalog, CloudOffer, DeviceSpec
from aipcbench.machine import MachineProfile
from aipcbench.results import ResultsDocument

OVERHEAD_BOUND_MFU = 0.05


@dataclass(frozen=True)
class Evidence:
    seconds_per_run: float | None
    method: str  # measured | estimated | not-estimated
    basis: str


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
    local: cost.LocalCost
    valid_run: bool
    data_source: str
    offers: tuple[OfferCost, ...]
    cheapest: str
    cheapest_usd: float
    break_even: cost.BreakEven | None
    break_even_against: str
    payback_months: float | None
    runs_per_month_at_usage: float
    world_size: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        ranks = f" x{self.world_size} ranks" if self.world_size else ""
        return f"{self.workload}:{self.size} {self.dtype}{ranks}"


@dataclass(frozen=True)
class _Measured:
    """One ok record with what pricing needs from its results file."""

    record: dict[str, Any]
    host: str
    device_name: str
    spec: DeviceSpec | None
    facts: dict[str, Any]

    @property
    def seconds(self) -> float:
        return self.record["run"]["seconds_per_run"]

    @property
    def key(self) -> tuple[str, str, str, int]:
        """A cell's identity across machines; data-parallel world sizes are priced apart."""
        record = self.record
        return (record["workload"], record["size"], record["dtype"], record.get("world_size") or 0)


def _measured_records(documents: list[ResultsDocument], catalog: Catalog) -> list[_Measured]:
    out = []
    for document in documents:
        names = {d.get("id"): d.get("name", "") for d in document.environment.get("devices", [])}
        facts = document.data.get("devices_measured") or {}
        for record in document.records:
            run = record.get("run") or {}
            if record.get("status") != "ok" or not run.get("seconds_per_run"):
                continue
            if record.get("mode") == "overhead":
                continue  # the null workload prices the harness, not work
            name = names.get(record["device"], "")
            out.append(
                _Measured(
                    record,
                    document.environment.get("host", "?"),
                    name,
                    catalog.spec_for_device_name(name),
                    facts.get(record["device"], {}),
                )
            )
    return out


def _source_peak(source: _Measured, dtype: str) -> float | None:
    rated = (source.facts.get("rated_peaks") or {}).get(dtype) or {}
    if rated.get("flops"):
        return rated["flops"]
    if source.spec is not None and source.spec.peak_tflops(dtype):
        return source.spec.peak_tflops(dtype) * 1e12
    return None


def _source_bandwidth(source: _Measured) -> tuple[float | None, str]:
    if source.spec is not None and source.spec.memory_bw_gbps:
        return source.spec.memory_bw_gbps * 1e9, "rated"
    measured = (source.facts.get("measured_bandwidth") or {}).get("bytes_per_s")
    return measured, "measured"


def estimate(source: _Measured, target: DeviceSpec | None) -> Evidence:
    """Scale the source's time per run to the target accelerator, or say why not."""
    record, dtype = source.record, source.record["dtype"]
    where = f"{source.device_name or record['device']} on {source.host}"
    if target is None:
        return Evidence(None, "not-estimated", "no spec row for this accelerator in the catalog")
    if record.get("mode") == "generate":
        source_bw, kind = _source_bandwidth(source)
        if not source_bw or not target.memory_bw_gbps:
            return Evidence(None, "not-estimated", "memory bandwidth unknown")
        ratio = target.memory_bw_gbps * 1e9 / source_bw
        basis = (
            f"x{ratio:,.1f} memory bandwidth ({target.memory_bw_gbps:g} GB/s rated vs "
            f"{source_bw / 1e9:.1f} GB/s {kind} on {where}): decoding streams the weights"
        )
        return Evidence(source.seconds / ratio, "estimated", basis)
    mfu = record.get("mfu_measured")
    if mfu is not None and mfu < OVERHEAD_BOUND_MFU:
        return Evidence(
            None,
            "not-estimated",
            f"overhead-bound on {where} ({mfu:.1%} of its GEMM peak): a peak ratio "
            "would overstate the speed-up",
        )
    source_peak, target_peak = _source_peak(source, dtype), target.peak_tflops(dtype)
    if not source_peak or not target_peak:
        return Evidence(None, "not-estimated", f"no rated {dtype} peak for one side")
    ratio = target_peak * 1e12 / source_peak
    basis = (
        f"x{ratio:,.1f} rated {dtype} peak ({target_peak:g} TFLOP/s vs "
        f"{source_peak / 1e12:.3g} TFLOP/s on {where}): compute-bound"
    )
    return Evidence(source.seconds / ratio, "estimated", basis)


def _evidence(
    offer: CloudOffer, same_cell: dict[str, list[_Measured]], source: _Measured, catalog: Catalog
) -> Evidence:
    """Measured on the offer's accelerator if any results say so, else estimated from
    ``source`` (the fastest measured GPU for the cell, or the local device)."""
    same_hardware = same_cell.get(offer.accelerator)
    if same_hardware:
        seconds = statistics.median(m.seconds for m in same_hardware)
        hosts = sorted({m.host for m in same_hardware})
        return Evidence(
            seconds,
            "measured",
            f"median of {len(same_hardware)} run(s) on {offer.accelerator} ({', '.join(hosts)})",
        )
    return estimate(source, catalog.spec(offer.accelerator))


def _offer_cost(offer: CloudOffer, evidence: Evidence, startup_s: float) -> OfferCost:
    seconds = evidence.seconds_per_run
    on_demand = spot = amortised = None
    if seconds is not None:
        on_demand = cost.cloud_cost_per_run(
            seconds, offer.on_demand_per_hour, offer.billing_increment_s, offer.billing_minimum_s, startup_s
        )
        amortised = cost.amortised_cloud_cost(seconds, offer.on_demand_per_hour)
        if offer.spot_per_hour_low is not None:
            spot = cost.cloud_cost_per_run(
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
    )


def compare(
    documents: list[ResultsDocument],
    catalog: Catalog,
    machine: MachineProfile,
    local_host: str | None = None,
    startup_s: float = 0.0,
) -> list[CellComparison]:
    """One comparison per cell measured on the local host (default: the newest file's host)."""
    measured = _measured_records(documents, catalog)
    if not measured:
        return []
    if local_host is None:
        local_host = documents[-1].environment.get("host", "?")
    local_cells: dict[tuple[str, str, str, int], _Measured] = {}
    for m in measured:
        if m.host == local_host and (m.key not in local_cells or m.seconds < local_cells[m.key].seconds):
            local_cells[m.key] = m
    hardware_per_hour = cost.hardware_usd_per_hour(
        machine.price_usd, machine.residual_usd, machine.lifetime_years, machine.hours_per_day
    )
    by_cell: dict[tuple[str, str, str, int], dict[str, list[_Measured]]] = {}
    for m in measured:
        if m.spec is not None:
            by_cell.setdefault(m.key, {}).setdefault(m.spec.key, []).append(m)
    comparisons = []
    for key, local in local_cells.items():
        same_cell = by_cell.get(key, {})
        gpu_sources = [m for group in same_cell.values() for m in group]
        source = min(gpu_sources, key=lambda m: m.seconds) if gpu_sources else local
        record = local.record
        seconds = local.seconds
        local_cost = cost.local_cost_per_run(
            seconds, record.get("energy_j_per_run"), hardware_per_hour, machine.electricity_usd_per_kwh
        )
        offers = tuple(
            sorted(
                (
                    _offer_cost(o, _evidence(o, same_cell, source, catalog), startup_s)
                    for o in catalog.cloud_offers
                ),
                key=lambda c: (c.on_demand_usd is None, c.on_demand_usd or 0.0),
            )
        )
        priced = [o for o in offers if o.on_demand_usd is not None]
        cheapest_cloud = priced[0] if priced else None
        cheapest, cheapest_usd = f"local ({machine.name})", local_cost.total_usd
        if cheapest_cloud and cheapest_cloud.on_demand_usd < cheapest_usd:
            cheapest = f"{cheapest_cloud.provider} {cheapest_cloud.instance_type}"
            cheapest_usd = cheapest_cloud.on_demand_usd
        usage_runs = machine.hours_per_day * 3600 * cost.DAYS_PER_MONTH / seconds
        breakeven = payback = None
        against = ""
        if cheapest_cloud is not None:
            against = f"{cheapest_cloud.provider} {cheapest_cloud.instance_type} on-demand"
            breakeven = cost.break_even(
                machine.price_usd,
                machine.residual_usd,
                machine.lifetime_years,
                local_cost.electricity_usd,
                cheapest_cloud.on_demand_usd,
                seconds,
            )
            payback = cost.payback_months(
                machine.price_usd, usage_runs, local_cost.electricity_usd, cheapest_cloud.on_demand_usd
            )
        notes = []
        if record.get("energy_j_per_run") is None:
            notes.append("local energy not measured: electricity counted as $0")
        elif record.get("energy_method") == "estimate-tdp":
            notes.append("local energy is an estimate (rated power x utilisation)")
        quality = record.get("quality")
        valid = not quality or bool(quality.get("valid_run"))
        if not valid:
            notes.append("training loss did not fall: not a valid run")
        comparisons.append(
            CellComparison(
                world_size=key[3],
                workload=key[0],
                size=key[1],
                dtype=key[2],
                mode=record.get("mode", ""),
                host=local.host,
                device=record["device"],
                device_name=local.device_name,
                seconds_per_run=seconds,
                run_description=record["run"].get("description", ""),
                energy_j_per_run=record.get("energy_j_per_run"),
                energy_method=record.get("energy_method"),
                local=local_cost,
                valid_run=valid,
                data_source=record.get("data_source", ""),
                offers=offers,
                cheapest=cheapest,
                cheapest_usd=cheapest_usd,
                break_even=breakeven,
                break_even_against=against,
                payback_months=payback,
                runs_per_month_at_usage=usage_runs,
                notes=tuple(notes),
            )
        )
    return comparisons
