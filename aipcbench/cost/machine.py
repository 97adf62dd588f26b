"""The local machine's economics: what it cost, how long it lives, how much it is used.

Given in TOML (``--machine FILE``) or flags; a catalog preset can supply price and power.
Everything not given is an explicit assumption, listed in ``assumptions`` and shown wherever the
cost is, never a guess presented as a fact.

    # machine.toml
    preset = "rtx4090-workstation"   # a key of aipcbench/catalog/data/local_hardware.csv
    price_usd = 3200                 # overrides the preset's price
    lifetime_years = 3
    residual_usd = 600               # what it sells for at the end; or, by age:
    # resale = "consumer-gpu"        # a cited resale curve (cost.resale), not with residual_usd
    hours_per_day = 8                # hours it does useful work
    electricity_usd_per_kwh = 0.15   # or: country = "Germany"
    discount_rate = 0.08             # a year: cash now against cash later (default 0)
    financing_apr = 0.09             # with financing_years: bought on a loan
    financing_years = 3
    pue = 1.2                        # cooling beside the machine's own draw (default 1.0)
    maintenance_hours_per_month = 2  # with admin_usd_per_hour: upkeep (default none)
    admin_usd_per_hour = 60
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.catalog import Catalog
from aipcbench.cost.cash import CASH_KEYS, CASH_LIMITS, CashTerms, read_cash_terms
from aipcbench.cost.resale import CURVES, resale_assumption, residual_fraction
from aipcbench.errors import DataError
from aipcbench.files import read_toml as read_toml_file

DEFAULT_LIFETIME_YEARS = 3.0
DEFAULT_HOURS_PER_DAY = 8.0
ASSUMED_PRICE_USD = 2000.0
KEYS = {
    "preset",
    "name",
    "price_usd",
    "lifetime_years",
    "residual_usd",
    "hours_per_day",
    "electricity_usd_per_kwh",
    "country",
    "power_w",
    "idle_power_w",
    "accelerator",
    "resale",
    *CASH_KEYS,
}
TEXT_KEYS = ("preset", "name", "country", "accelerator", "resale")
IDLE_SHARE_ASSUMED = 0.15  # idle draw as a share of load power when none is given, labelled


@dataclass(frozen=True)
class MachineProfile:
    name: str
    price_usd: float
    lifetime_years: float
    residual_usd: float
    hours_per_day: float
    electricity_usd_per_kwh: float
    electricity_source: str
    power_w: float | None
    preset: str | None
    assumptions: tuple[str, ...]
    accelerator: str | None = None  # a catalog spec key; None: the device measured on this host
    idle_power_w: float | None = None
    cash: CashTerms = CashTerms()  # discount rate, loan, PUE, upkeep (cost.cash)
    resale: str | None = None  # a cost.resale curve the residual follows with age; None: fixed


def read_toml(path: Path) -> dict[str, Any]:
    data = read_toml_file(path, "machine profile")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise DataError(f"{path}: unknown key '{unknown[0]}' (valid: {', '.join(sorted(KEYS))})")
    return data


# key -> (smallest, largest, smallest allowed itself): beyond these no real machine or price lies,
# and a lifetime of 100,000 years would make the month-by-month chart a 187 MB page.
LIMITS = {
    "price_usd": (0.0, 1e9, True),
    "lifetime_years": (0.0, 50.0, False),
    "residual_usd": (0.0, 1e9, True),
    "hours_per_day": (0.0, 24.0, False),
    "electricity_usd_per_kwh": (0.0, 100.0, True),
    "power_w": (0.0, 1e5, True),
    "idle_power_w": (0.0, 1e5, True),
    **{key: (low, high, True) for key, (low, high) in CASH_LIMITS.items()},
}


class _Where:
    """Names a value for messages: the flag the user typed, or the file and key."""

    def __init__(self, origin: str, flags: dict[str, str], from_flags: set[str]):
        self.origin, self.flags, self.from_flags = origin, flags, from_flags

    def __call__(self, key: str) -> str:
        if key in self.from_flags and key in self.flags:
            return self.flags[key]
        return f"{self.origin}: key '{key}'"


def _number(where: _Where, key: str, value: Any) -> float:
    low, high, low_ok = LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"{where(key)} must be a number, got {value!r}")
    if not math.isfinite(value) or not (value >= low if low_ok else value > low) or value > high:
        bound = "[" if low_ok else "("
        raise DataError(f"{where(key)} must be a finite number in {bound}{low:g}, {high:g}], got {value}")
    return float(value)


def build_profile(
    values: dict[str, Any],
    catalog: Catalog,
    origin: str = "machine profile",
    flags: dict[str, str] | None = None,
    from_flags: set[str] | None = None,
) -> MachineProfile:
    """Validate the given values and fill the rest from the preset or labelled assumptions.
    ``flags`` names the flag of each key that came from the command line (``from_flags``), so
    a message names what the user typed.

    Longer than 60 lines: each profile value resolved in turn (flag, file, preset, region default,
    assumption), the order of precedence read top to bottom.
    """
    where = _Where(origin, flags or {}, from_flags or set())
    for key in TEXT_KEYS:
        if values.get(key) is not None and not isinstance(values[key], str):
            raise DataError(f"{where(key)} must be text, got {type(values[key]).__name__}")
    assumptions: list[str] = []
    preset = None
    if values.get("preset"):
        preset = catalog.preset(str(values["preset"]))
        if preset is None:
            valid = ", ".join(p.key for p in catalog.local_hardware)
            raise DataError(f"{where('preset')}: unknown preset '{values['preset']}' (valid: {valid})")
    if values.get("price_usd") is not None:
        price = _number(where, "price_usd", values["price_usd"])
    elif preset is not None:
        price = preset.price_usd
    else:
        price = ASSUMED_PRICE_USD
        assumptions.append(
            f"purchase price ${ASSUMED_PRICE_USD:,.0f} ASSUMED (no price or preset "
            "given: pass --machine FILE or --price)"
        )
    lifetime = values.get("lifetime_years")
    if lifetime is None:
        lifetime = DEFAULT_LIFETIME_YEARS
        assumptions.append(f"lifetime {DEFAULT_LIFETIME_YEARS:g} years assumed")
    lifetime = _number(where, "lifetime_years", lifetime)
    residual, resale = _residual(values, where, price, lifetime, assumptions)
    if residual > price:
        raise DataError(f"{where('residual_usd')} ({residual:g}) exceeds the price ({price:g})")
    hours = values.get("hours_per_day")
    if hours is None:
        hours = DEFAULT_HOURS_PER_DAY
        assumptions.append(f"{DEFAULT_HOURS_PER_DAY:g} hours of use per day assumed")
    hours = _number(where, "hours_per_day", hours)
    if values.get("electricity_usd_per_kwh") is not None:
        usd_per_kwh = _number(where, "electricity_usd_per_kwh", values["electricity_usd_per_kwh"])
        source = "given"
    else:
        region = values.get("country") or catalog.default_region
        row = catalog.electricity_value(region, "price", "business") or catalog.electricity_value(
            region, "price"
        )
        if row is None:
            valid = ", ".join(catalog.regions("price"))
            raise DataError(f"{where('country')}: no electricity price for '{region}' (known: {valid})")
        usd_per_kwh = row.value
        source = f"{row.region} {row.sector} average ({row.source}, {row.as_of})"
        if not values.get("country"):
            assumptions.append(f"electricity at the {row.region} {row.sector} average")
    power = values.get("power_w")
    power = (
        _number(where, "power_w", power)
        if power is not None
        else (preset.power_w if preset is not None else None)
    )
    name = str(values.get("name") or (preset.name if preset else "this machine"))
    accelerator = values.get("accelerator") or (preset.accelerator if preset and preset.accelerator else None)
    if accelerator is not None and catalog.spec(str(accelerator)) is None:
        valid = ", ".join(s.key for s in catalog.device_specs)
        raise DataError(f"{where('accelerator')}: no spec row for '{accelerator}' (valid: {valid})")
    idle = values.get("idle_power_w")
    if idle is not None:
        idle = _number(where, "idle_power_w", idle)
    elif power is not None:
        idle = IDLE_SHARE_ASSUMED * power
        assumptions.append(
            f"idle power {idle:.0f} W ASSUMED ({IDLE_SHARE_ASSUMED:.0%} of {power:g} W at load)"
        )
    cash, cash_assumed = read_cash_terms(values, lambda key, value: _number(where, key, value), origin)
    return MachineProfile(
        name,
        price,
        lifetime,
        residual,
        hours,
        usd_per_kwh,
        source,
        power,
        preset.key if preset else None,
        tuple(assumptions + cash_assumed),
        str(accelerator) if accelerator is not None else None,
        idle,
        cash,
        resale,
    )


def _residual(values, where, price: float, lifetime: float, assumptions: list[str]):
    """(residual, resale curve or None): a figure given, a cited curve at the lifetime, or 0."""
    curve = values.get("resale")
    if curve is not None:
        if curve not in CURVES:
            raise DataError(f"{where('resale')}: '{curve}' is not one of {', '.join(CURVES)}")
        if values.get("residual_usd") is not None:
            raise DataError(f"{where('resale')}: give a resale curve or residual_usd, not both")
        assumptions.append(resale_assumption(curve, price, lifetime))
        return price * residual_fraction(curve, lifetime), curve
    residual = _number(where, "residual_usd", values.get("residual_usd", 0.0))
    if "residual_usd" not in values:
        assumptions.append("no residual value assumed")
    return residual, None


# profile key -> the flag that sets it (messages name the flag when the value came from one)
FLAGS = {
    "preset": "--preset",
    "price_usd": "--price",
    "lifetime_years": "--lifetime-years",
    "residual_usd": "--residual",
    "hours_per_day": "--hours-per-day",
    "electricity_usd_per_kwh": "--electricity-price",
    "country": "--country",
}


def load_profile(path: Path | None, overrides: dict[str, Any], catalog: Catalog) -> MachineProfile:
    """TOML file (if any) with flag overrides on top."""
    values = read_toml(path) if path is not None else {}
    given = {k: v for k, v in overrides.items() if v is not None}
    values.update(given)
    profile = build_profile(values, catalog, str(path) if path else "machine flags", FLAGS, set(given))
    if path is not None and values.get("price_usd") is None and not values.get("preset"):
        raise DataError(
            f"{path}: key 'price_usd' missing: a machine you own or consider needs a price or a preset"
        )
    return profile
