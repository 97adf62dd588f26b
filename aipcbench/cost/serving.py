"""What serving a model costs per million tokens at the latency target, on every option: this
machine (measured with ``aipcbench serve``), candidate builds and rented GPUs (measured where a
serving record of that accelerator exists, else the batched-decode estimate with its range) and
hosted APIs.

    own:  $/1M output = (hardware per hour of use + power x electricity) / (tokens/s x 3600) x 10^6
    rent: $/1M output = instance $/h / (tokens/s x GPUs x 3600) x 10^6  (one replica per GPU)
    API:  $/1M output = output price + input price x prompt / output tokens

tokens/s is the aggregate output rate of the best level (or estimated batch) that keeps the
latency target: what a fully used server delivers. Pure and torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.catalog.rows import ModelConfig
from aipcbench.cost import cash
from aipcbench.cost.estimate import Span
from aipcbench.cost.machine import MachineProfile
from aipcbench.cost.published_serving import serving_constants
from aipcbench.cost.serving_estimate import (
    BITS_PER_WEIGHT,
    Device,
    ServedModel,
    ServingEstimate,
    estimate_serving,
)
from aipcbench.cost.tokens import api_usd_per_mtok, comparable
from aipcbench.results.serving import ServingRecord
from aipcbench.units import J_PER_KWH, SECONDS_PER_HOUR

MILLION = 1e6


@dataclass(frozen=True)
class Capacity:
    """Output tokens/s one machine or instance serves at the target, and how that is known."""

    tokens_per_s: Span
    method: str  # measured | estimate
    basis: str
    power_w: float | None = None  # measured server power at that level, if a sensor read it
    batch: int | None = None


@dataclass(frozen=True)
class ServingPrice:
    where: str
    kind: str  # own | rent | api
    usd_per_mtok: float
    usd_per_mtok_low: float | None
    usd_per_mtok_high: float | None
    capacity: Capacity | None  # None for an API
    usd_per_hour: float | None = None
    accelerator: str = ""
    machine: MachineProfile | None = None
    provenance: str = ""


def capacity_from_record(record: ServingRecord) -> Capacity | None:
    best = record.best_at_target()
    if best is None or not best.output_tokens_per_s:
        return None
    power = best.energy_j / best.window_s if best.energy_j and best.window_s else None
    basis = (
        f"measured by aipcbench serve: {record.engine} {record.engine_version}, {best.label}, "
        f"p95 TTFT {best.ttft.p95_s * 1000:.0f} ms"
        if best.ttft
        else "measured by aipcbench serve"
    )
    rate = best.output_tokens_per_s
    return Capacity(Span(rate, rate, rate), "measured", basis, power, best.concurrency)


def capacity_estimate(
    catalog: Catalog, accelerator: str, model: ServedModel, ttft_s: float | None, tpot_s: float | None
) -> tuple[Capacity | None, ServingEstimate | None]:
    spec = catalog.spec(accelerator)
    device = Device.from_spec(spec, model.quantization) if spec else None
    found = serving_constants(catalog, device.device_class, model.quantization) if device else None
    if device is None or found is None:
        return None, None
    estimate = estimate_serving(model, device, found, ttft_s, tpot_s)
    if estimate is None:
        return None, None
    return Capacity(estimate.tokens_per_s, "estimate", estimate.basis, None, estimate.batch), estimate


def own_usd_per_hour(machine: MachineProfile, power_w: float | None) -> float:
    """Hardware per hour of use plus electricity at ``power_w`` (the profile's power if None)."""
    hardware = cash.hardware_usd_per_hour(machine)
    watts = power_w if power_w is not None else (machine.power_w or 0.0)
    return hardware + watts / 1000 * cash.usd_per_kwh(machine)


def per_mtok(usd_per_hour: float, tokens_per_s: float) -> float:
    return usd_per_hour / (tokens_per_s * SECONDS_PER_HOUR) * MILLION


def price_of(where: str, kind: str, usd_per_hour: float, capacity: Capacity, **more) -> ServingPrice:
    span = capacity.tokens_per_s
    return ServingPrice(
        where,
        kind,
        per_mtok(usd_per_hour, span.central),
        per_mtok(usd_per_hour, span.high) if capacity.method != "measured" else None,
        per_mtok(usd_per_hour, span.low) if capacity.method != "measured" else None,
        capacity,
        usd_per_hour,
        provenance=capacity.method,
        **more,
    )


def api_prices(catalog: Catalog, parameters: float | None, prompt: int, output: int) -> list[ServingPrice]:
    prices = [
        ServingPrice(
            f"{p.provider} {p.model}",
            "api",
            api_usd_per_mtok(p, prompt, output),
            None,
            None,
            None,
            provenance=f"list price of {p.as_of} ({p.source})",
        )
        for p in catalog.api_prices
        if comparable(p, parameters)
    ]
    return sorted(prices, key=lambda p: p.usd_per_mtok)


def cloud_prices(
    catalog: Catalog,
    model: ServedModel,
    ttft_s: float | None,
    tpot_s: float | None,
    measured: dict[str, Capacity],
) -> list[ServingPrice]:
    """Every cloud offer whose GPU holds the model: measured capacity for its GPU if one exists."""
    out, cache = [], {}
    for offer in catalog.cloud_offers:
        if offer.accelerator not in cache:
            cache[offer.accelerator] = (
                measured.get(offer.accelerator)
                or capacity_estimate(catalog, offer.accelerator, model, ttft_s, tpot_s)[0]
            )
        capacity = cache[offer.accelerator]
        if capacity is None:
            continue
        replicas = max(offer.gpu_count, 1)
        scaled = Capacity(
            capacity.tokens_per_s.scaled(replicas),
            capacity.method,
            capacity.basis,
            capacity.power_w,
            capacity.batch,
        )
        out.append(
            price_of(
                f"{offer.provider} {offer.instance_type}",
                "rent",
                offer.on_demand_per_hour,
                scaled,
                accelerator=offer.accelerator,
            )
        )
    return sorted(out, key=lambda p: p.usd_per_mtok)


def served_model(
    catalog: Catalog, key: str, quantization: str, prompt: int, output: int
) -> ServedModel | None:
    model = next((m for m in catalog.model_configs if m.key == key), None)
    if model is None or quantization not in BITS_PER_WEIGHT:
        return None
    return ServedModel.of(model, quantization, prompt, output)


def model_config(catalog: Catalog, key: str) -> ModelConfig | None:
    return next((m for m in catalog.model_configs if m.key == key), None)


def energy_per_mtok_usd(record: ServingRecord, machine: MachineProfile) -> float | None:
    best = record.best_at_target()
    if best is None or best.energy_per_mtok_j is None:
        return None
    return best.energy_per_mtok_j / J_PER_KWH * cash.usd_per_kwh(machine)


@dataclass(frozen=True)
class ServingPrices:
    """One serving record's $ per 1M output tokens at its target, everywhere."""

    record: ServingRecord
    owned: tuple[ServingPrice, ...]  # this machine (measured) and candidate builds
    clouds: tuple[ServingPrice, ...]  # cheapest first
    apis: tuple[ServingPrice, ...]  # comparable ones, cheapest first
    notes: tuple[str, ...]


def serving_prices(
    record: ServingRecord, catalog: Catalog, machines: list[MachineProfile]
) -> ServingPrices | None:
    """None for a record without a level at its target (nothing to price)."""
    measured = capacity_from_record(record)
    if measured is None:
        return None
    model = served_model(
        catalog, record.model, record.quantization, record.prompt_tokens, record.output_tokens
    )
    target = record.target
    owned, notes = [], []
    for machine in machines:
        if machine.accelerator is None:
            if record.device == "cpu":
                owned.append(
                    price_of(
                        machine.name,
                        "own",
                        own_usd_per_hour(machine, measured.power_w),
                        measured,
                        machine=machine,
                    )
                )
            continue
        capacity = (
            capacity_estimate(catalog, machine.accelerator, model, target.ttft_p95_s, target.tpot_p95_s)[0]
            if model
            else None
        )
        if capacity is None:
            notes.append(
                f"{machine.name}: no estimate for {record.model} {record.quantization} "
                f"on {machine.accelerator}"
            )
            continue
        owned.append(
            price_of(
                machine.name,
                "own",
                own_usd_per_hour(machine, None),
                capacity,
                accelerator=machine.accelerator,
                machine=machine,
            )
        )
    clouds = cloud_prices(catalog, model, target.ttft_p95_s, target.tpot_p95_s, {}) if model else []
    if model is None:
        notes.append(f"{record.model}: not a catalog shape, so no estimate for other hardware")
    parameters = record.parameter_count or (model.parameters if model else None)
    apis = api_prices(catalog, parameters, record.prompt_tokens, record.output_tokens)
    return ServingPrices(record, tuple(owned), tuple(clouds), tuple(apis), tuple(notes))
