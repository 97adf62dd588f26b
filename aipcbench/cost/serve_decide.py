"""The serving answer for one ``[[serve]]`` item: every option's monthly cost at the item's load
(formulas in ``cost.serve_plan``), the cheapest, and one sentence with its range and the request
volume where self-hosting and an API swap places.

Capacity per option (output tokens/s at the item's latency target): measured by ``aipcbench
serve`` when a serving record of that model and quantization exists on that device (this
machine: the records' own device; a candidate or a rented GPU: a record on that accelerator),
else the batched-decode estimate (``cost.serving_estimate``) with its range.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.cost.machine import MachineProfile
from aipcbench.cost.serve_mix import best_mix
from aipcbench.cost.serve_plan import (
    HOURS_PER_MONTH,
    ServeItem,
    ServeOption,
    api_monthly,
    flip_requests_per_day,
    machines_for,
    own_monthly,
)
from aipcbench.cost.serving import Capacity, api_prices, capacity_estimate, capacity_from_record, served_model
from aipcbench.numbers import usd
from aipcbench.results.record import device_kind
from aipcbench.results.serving import ServingRecord

RENTALS_SHOWN = 4


@dataclass(frozen=True)
class ServeDecision:
    item: ServeItem
    options: tuple[ServeOption, ...]  # cheapest first
    winner: ServeOption
    flip_requests_per_day: float | None
    sentence: str
    notes: tuple[str, ...]


def measured_capacities(
    records: list[ServingRecord], catalog: Catalog, item: ServeItem
) -> dict[str, Capacity]:
    """accelerator key (or "this machine") -> the best measured capacity of the item's model."""
    out: dict[str, Capacity] = {}
    for record in records:
        if record.status != "ok" or record.model != item.model or record.quantization != item.quantization:
            continue
        capacity = capacity_from_record(record)
        if capacity is None:
            continue
        is_gpu = device_kind(record.device) == "cuda"
        spec = catalog.spec_for_device_name(record.device_name) if is_gpu else None
        key = spec.key if spec else ("this machine" if record.device == "cpu" else record.device_name)
        if key not in out or capacity.tokens_per_s.central > out[key].tokens_per_s.central:
            out[key] = capacity
    return out


def _capacity(catalog, key: str | None, item: ServeItem, measured: dict[str, Capacity]) -> Capacity | None:
    if key is None:
        return measured.get("this machine")
    if key in measured:
        return measured[key]
    model = served_model(catalog, item.model, item.quantization, item.prompt_tokens, item.output_tokens)
    if model is None:
        return None
    return capacity_estimate(catalog, key, model, item.target.ttft_p95_s, item.target.tpot_p95_s)[0]


def _ends(compute, capacity: Capacity) -> tuple[float, float, float]:
    """(central, low cost, high cost): a higher capacity is the lower cost."""
    span = capacity.tokens_per_s
    return compute(span.central), compute(span.high), compute(span.low)


def own_options(catalog, item: ServeItem, machines: list[MachineProfile], measured) -> tuple[list, list[str]]:
    options, notes = [], []
    for machine in machines:
        capacity = _capacity(catalog, machine.accelerator, item, measured)
        if capacity is None:
            what = (
                machine.accelerator or "this machine (run aipcbench serve with this model and quantization)"
            )
            notes.append(f"{machine.name}: {item.model} {item.quantization} cannot be priced on {what}")
            continue
        results = {}
        for name, rate in zip(("central", "low", "high"), _ends(lambda c: c, capacity)):
            results[name] = own_monthly(item, rate, machine, capacity.power_w)
        n, note = results["central"][1], results["central"][2]
        options.append(
            ServeOption(
                f"{n} x {machine.name}",
                "own",
                results["central"][0],
                results["low"][0],
                results["high"][0],
                n,
                capacity.method,
                note,
                capacity.tokens_per_s.central,
                machine,
                capacity.power_w,
            )
        )
    return options, notes


def rent_options(catalog, item: ServeItem, measured) -> list[ServeOption]:
    options = []
    for offer in catalog.cloud_offers:
        capacity = _capacity(catalog, offer.accelerator, item, measured)
        if capacity is None:
            continue
        per_instance = max(offer.gpu_count, 1)

        def at_peak(rate, offer=offer, per_instance=per_instance):
            return (
                machines_for(item.peak_tokens_per_s, rate * per_instance)
                * offer.on_demand_per_hour
                * HOURS_PER_MONTH
            )

        def scaled(rate, offer=offer, per_instance=per_instance):
            return (
                max(1.0, item.average_tokens_per_s / (rate * per_instance))
                * offer.on_demand_per_hour
                * HOURS_PER_MONTH
            )

        name = f"{offer.provider} {offer.instance_type}"
        n = machines_for(item.peak_tokens_per_s, capacity.tokens_per_s.central * per_instance)
        options.append(
            ServeOption(f"{name}, {n} always on", "rent", *_ends(at_peak, capacity), n, capacity.method)
        )
        average = max(1.0, item.average_tokens_per_s / (capacity.tokens_per_s.central * per_instance))
        options.append(
            ServeOption(
                f"{name}, scaled with load",
                "rent-scaled",
                *_ends(scaled, capacity),
                average,
                capacity.method,
                "ideal autoscaling, at least one instance",
            )
        )
    return sorted(options, key=lambda o: o.monthly_usd)


def decide_serving(
    item: ServeItem, catalog: Catalog, records: list[ServingRecord], machines: list[MachineProfile]
) -> ServeDecision | None:
    measured = measured_capacities(records, catalog, item)
    owns, notes = own_options(catalog, item, machines, measured)
    rents = rent_options(catalog, item, measured)
    model = served_model(catalog, item.model, item.quantization, item.prompt_tokens, item.output_tokens)
    parameters = model.parameters if model else None
    apis = [
        ServeOption(p.where, "api", *(api_monthly(item, p.usd_per_mtok),) * 3, 0, "list price", p.provenance)
        for p in api_prices(catalog, parameters, item.prompt_tokens, item.output_tokens)
    ]
    best_own = min(owns, key=lambda o: o.monthly_usd, default=None)
    mix = best_mix(item, best_own, apis[0] if apis else None)
    mixed = [mix.option()] if mix else []
    options = sorted([*owns, *mixed, *rents[:RENTALS_SHOWN], *apis[:3]], key=lambda o: o.monthly_usd)
    if not options:
        return None
    winner = options[0]
    flip = flip_requests_per_day(item, best_own, apis[0]) if best_own is not None and apis else None
    sentence = _sentence(item, winner, best_own, rents[0] if rents else None, apis[0] if apis else None, flip)
    return ServeDecision(item, tuple(options), winner, flip, sentence, tuple(notes))


def _range(option: ServeOption) -> str:
    if option.method != "estimate" or abs(option.monthly_usd_high - option.monthly_usd_low) < 0.005:
        return ""
    return f" ({usd(option.monthly_usd_low)}-{usd(option.monthly_usd_high)})"


def _sentence(item, winner, best_own, cheapest_rent, cheapest_api, flip) -> str:
    what = f"{item.model} {item.quantization} at {item.requests_per_day:,.0f} requests a day"
    verbs = {"own": "Self-host", "rent": "Rent", "rent-scaled": "Rent", "api": "Use", "own+api": "Split"}
    text = f"{verbs[winner.kind]} {what} on {winner.name}: {usd(winner.monthly_usd)}/month{_range(winner)}"
    others = [o for o in (best_own, cheapest_rent, cheapest_api) if o is not None and o is not winner]
    if others:
        text += " vs " + ", ".join(f"{usd(o.monthly_usd)}{_range(o)} on {o.name}" for o in others)
    if flip is not None and best_own is not None:
        side = "an API is cheaper" if winner.kind != "api" else "self-hosting pays only"
        where = "below" if winner.kind != "api" else "above"
        text += f"; {side} {where} {flip:,.0f} requests a day"
    elif best_own is not None and cheapest_api is not None:
        machine = best_own.name.split(" x ", 1)[-1]
        machine = machine if machine.startswith("this ") else f"one {machine}"
        text += (
            f"; {cheapest_api.name} stays cheaper at any volume: {machine} "
            "at full load costs more per request"
        )
    return text + "."
