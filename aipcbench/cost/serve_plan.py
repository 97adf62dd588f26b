"""Serving in the monthly plan: ``[[serve]]`` items, what each option costs a month at that
load, and one sentence with its range and where it flips.

    [[serve]]
    model = "llama3.1-8b"          # a catalog model shape
    quantization = "q4_K_M"        # f16, q8_0, q4_K_M (GGUF) or fp32, bf16, fp16, int8, int4
    requests_per_day = 20_000      # or tokens_per_month (output tokens)
    prompt_tokens = 1500
    output_tokens = 300
    peak_to_average = 4            # the busiest hour's load over the day's average
    target_ttft_ms = 1000          # p95 time to first token; target_tpot_ms optional

Per option, with c the output tokens/s one machine or GPU serves at the target:
- own: n = ceil(peak tokens/s / c) machines, on all day: n x (price - residual) / (12 x lifetime)
  + n x 24 h x (idle + (load - idle) x average/(n x c)) x price per kWh;
- rent, sized at the peak and always on: n x $/h x 24 x 30.42;
- rent, scaled with the load (ideal autoscaling, at least one instance): max(1, average / c)
  x $/h x 24 x 30.42;
- API: requests a month x (prompt x input price + output x output price) / 10^6.
The range comes from c's range (an estimate's low and high ends). An API is cheaper than the
best own machine below F / (API $ per request - own electricity per request) requests a month,
F being the machine's fixed monthly cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aipcbench.cost import cash
from aipcbench.cost.plan_tables import checked_tables
from aipcbench.errors import DataError
from aipcbench.results.serving import LatencyTarget
from aipcbench.units import DAYS_PER_MONTH, SECONDS_PER_DAY, SECONDS_PER_HOUR

SERVE_KEYS = {
    "model",
    "quantization",
    "requests_per_day",
    "tokens_per_month",
    "prompt_tokens",
    "output_tokens",
    "peak_to_average",
    "target_ttft_ms",
    "target_tpot_ms",
}
DEFAULTS = {
    "quantization": "q4_K_M",
    "prompt_tokens": 512,
    "output_tokens": 256,
    "peak_to_average": 3.0,
    "target_ttft_ms": 1000.0,
}
LIMITS = {
    "requests_per_day": (0, 1e10),
    "tokens_per_month": (0, 1e15),
    "prompt_tokens": (1, 1e6),
    "output_tokens": (1, 1e6),
    "peak_to_average": (1, 1000),
    "target_ttft_ms": (1, 3.6e6),
    "target_tpot_ms": (0.01, 3.6e6),
}
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH


@dataclass(frozen=True)
class ServeItem:
    model: str
    quantization: str
    requests_per_day: float
    prompt_tokens: int
    output_tokens: int
    peak_to_average: float
    target: LatencyTarget
    assumed: tuple[str, ...] = ()

    @property
    def average_tokens_per_s(self) -> float:
        return self.requests_per_day * self.output_tokens / SECONDS_PER_DAY

    @property
    def peak_tokens_per_s(self) -> float:
        return self.average_tokens_per_s * self.peak_to_average

    @property
    def label(self) -> str:
        return f"{self.model} {self.quantization}, {self.requests_per_day:,.0f} requests a day"


def _number(where: str, key: str, value: Any) -> float:
    low, high = LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{where}: key '{key}' must be a number, got {value!r}")
    if not low <= value <= high:
        raise DataError(f"{where}: key '{key}' must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def read_serve_items(
    where_file: str, tables: Any, model_keys: set[str], quantizations: set[str]
) -> tuple[ServeItem, ...]:
    if tables is None:
        return ()
    checked = checked_tables(where_file, "serve", tables, SERVE_KEYS)
    return tuple(_item(where, table, model_keys, quantizations) for where, table in checked)


def _item(where: str, table: dict[str, Any], model_keys: set[str], quantizations: set[str]) -> ServeItem:
    model = table.get("model")
    if not isinstance(model, str) or model not in model_keys:
        raise DataError(f"{where}: key 'model' must be a catalog model ({', '.join(sorted(model_keys))})")
    assumed = tuple(
        f"{key} = {DEFAULTS[key]:g}" if not isinstance(DEFAULTS[key], str) else f"{key} = {DEFAULTS[key]}"
        for key in DEFAULTS
        if key not in table
    )
    values = {**DEFAULTS, **table}
    quantization = values["quantization"]
    if not isinstance(quantization, str) or quantization not in quantizations:
        raise DataError(f"{where}: key 'quantization' must be one of {', '.join(sorted(quantizations))}")
    if ("requests_per_day" in table) == ("tokens_per_month" in table):
        raise DataError(f"{where}: give exactly one of 'requests_per_day' and 'tokens_per_month'")
    numbers = {k: _number(where, k, values[k]) for k in LIMITS if k in values}
    output = int(numbers["output_tokens"])
    per_day = numbers.get("requests_per_day")
    if per_day is None:
        per_day = numbers["tokens_per_month"] / output / DAYS_PER_MONTH
    tpot = numbers.get("target_tpot_ms")
    return ServeItem(
        model,
        quantization,
        per_day,
        int(numbers["prompt_tokens"]),
        output,
        numbers["peak_to_average"],
        LatencyTarget(numbers["target_ttft_ms"] / 1000, tpot / 1000 if tpot else None),
        assumed,
    )


@dataclass(frozen=True)
class ServeOption:
    name: str
    kind: str  # own | rent (at peak) | rent-scaled | api
    monthly_usd: float
    monthly_usd_low: float
    monthly_usd_high: float
    machines: float  # machines or instances (fractional for ideal autoscaling); 0 for an API
    method: str  # measured | estimate | list price
    note: str = ""
    capacity_tokens_per_s: float | None = None  # one machine or instance, central
    machine: Any = None  # own: the MachineProfile
    load_w: float | None = None  # own: measured server power, if a sensor read it


def machines_for(peak_tokens_per_s: float, capacity: float) -> int:
    return max(1, math.ceil(peak_tokens_per_s / capacity - 1e-9))


def own_monthly(item: ServeItem, capacity: float, machine, load_w: float | None) -> tuple[float, int, str]:
    """(monthly $, machines, a note on what was not known) for owned machines on all day."""
    n = machines_for(item.peak_tokens_per_s, capacity)
    hardware = n * (cash.hardware_usd_per_month(machine) + cash.upkeep_usd_per_month(machine))
    load = load_w if load_w is not None else machine.power_w
    idle = machine.idle_power_w
    notes = []
    if load is None:
        notes.append("power unknown: electricity not counted")
    if idle is None:
        notes.append("idle power unknown: counted as 0 W")
    utilisation = min(item.average_tokens_per_s / (n * capacity), 1.0)
    watts = (idle or 0.0) + ((load or 0.0) - (idle or 0.0)) * utilisation
    energy = n * HOURS_PER_MONTH * max(watts, 0.0) / 1000 * cash.usd_per_kwh(machine)
    return hardware + energy, n, "; ".join(notes)


def api_monthly(item: ServeItem, usd_per_mtok_output: float) -> float:
    """``usd_per_mtok_output`` already bills the prompt in the item's ratio (``api_usd_per_mtok``)."""
    return item.requests_per_day * DAYS_PER_MONTH * item.output_tokens * usd_per_mtok_output / 1e6


def own_fixed_and_per_request(item: ServeItem, own: ServeOption) -> tuple[float, float]:
    """One owned machine's cost a month with no load (hardware + idle power), and the
    electricity one request adds above idle."""
    machine = own.machine
    fixed = cash.hardware_usd_per_month(machine) + cash.upkeep_usd_per_month(machine)
    idle = machine.idle_power_w or 0.0
    load = own.load_w if own.load_w is not None else (machine.power_w or 0.0)
    fixed += HOURS_PER_MONTH * idle / 1000 * cash.usd_per_kwh(machine)
    busy_h = item.output_tokens / own.capacity_tokens_per_s / SECONDS_PER_HOUR
    return fixed, max(load - idle, 0.0) / 1000 * busy_h * cash.usd_per_kwh(machine)


def api_usd_per_request(item: ServeItem, api: ServeOption) -> float:
    return api.monthly_usd / (item.requests_per_day * DAYS_PER_MONTH) if item.requests_per_day else 0.0


def one_machine_requests_per_day(item: ServeItem, own: ServeOption) -> float:
    """What one machine serves a day when its capacity meets the item's peak."""
    return own.capacity_tokens_per_s * SECONDS_PER_DAY / item.output_tokens / item.peak_to_average


def flip_requests_per_day(item: ServeItem, own: ServeOption, api: ServeOption) -> float | None:
    """Requests a day below which the API is cheaper than one owned machine; None when the API
    is cheaper at any volume (the flip lies past what one machine serves, and every further
    machine adds its fixed cost again)."""
    fixed, own_per_request = own_fixed_and_per_request(item, own)
    margin = api_usd_per_request(item, api) - own_per_request
    if margin <= 0 or not item.requests_per_day:
        return None
    flip = fixed / margin / DAYS_PER_MONTH
    return flip if flip <= one_machine_requests_per_day(item, own) else None
