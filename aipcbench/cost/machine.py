"""The local machine's economics: what it cost, how long it lives, how much it is used.

Given in TOML (``--machine FILE``) or flags; a catalog preset can supply price and power.
Everything not given is an explicit assumption, listed in ``assumptions`` and shown wherever the
cost is, never a guess presented as a fact.

    # machine.toml
    preset = "rtx4090-workstation"   # a key of aipcbench/catalogs/local_hardware.csv
    price_usd = 3200                 # overrides the preset's price
    lifetime_years = 3
    residual_usd = 600               # what it sells for at the end
    hours_per_day = 8                # hours it does useful work
    electricity_usd_per_kwh = 0.15   # or: country = "Germany"
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.catalog import Catalog
from aipcbench.errors import DataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
}


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


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read machine profile: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: TOML syntax error: {exc}") from None  # names line and column
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise DataError(f"{path}: unknown key '{unknown[0]}' (valid: {', '.join(sorted(KEYS))})")
    return data


def _number(origin: str, key: str, value: Any, minimum: float, inclusive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"{origin}: key '{key}' must be a number, got {value!r}")
    if value != value or (value < minimum if inclusive else value <= minimum):
        relation = ">=" if inclusive else ">"
        raise DataError(f"{origin}: key '{key}' must be {relation} {minimum:g}, got {value}")
    return float(value)


def build_profile(
    values: dict[str, Any], catalog: Catalog, origin: str = "machine profile"
) -> MachineProfile:
    """Validate the given values and fill the rest from the preset or labelled assumptions."""
    assumptions: list[str] = []
    preset = None
    if values.get("preset"):
        preset = catalog.preset(str(values["preset"]))
        if preset is None:
            valid = ", ".join(p.key for p in catalog.local_hardware)
            raise DataError(f"{origin}: key 'preset': unknown preset '{values['preset']}' (valid: {valid})")
    if values.get("price_usd") is not None:
        price = _number(origin, "price_usd", values["price_usd"], 0)
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
    lifetime = _number(origin, "lifetime_years", lifetime, 0, inclusive=False)
    residual = _number(origin, "residual_usd", values.get("residual_usd", 0.0), 0)
    if "residual_usd" not in values:
        assumptions.append("no residual value assumed")
    if residual > price:
        raise DataError(f"{origin}: key 'residual_usd' ({residual:g}) exceeds the price ({price:g})")
    hours = values.get("hours_per_day")
    if hours is None:
        hours = DEFAULT_HOURS_PER_DAY
        assumptions.append(f"{DEFAULT_HOURS_PER_DAY:g} hours of use per day assumed")
    hours = _number(origin, "hours_per_day", hours, 0, inclusive=False)
    if hours > 24:
        raise DataError(f"{origin}: key 'hours_per_day' must be <= 24, got {hours:g}")
    if values.get("electricity_usd_per_kwh") is not None:
        usd_per_kwh = _number(origin, "electricity_usd_per_kwh", values["electricity_usd_per_kwh"], 0)
        source = "given"
    else:
        region = values.get("country") or catalog.default_region
        row = catalog.electricity_value(region, "price", "business") or catalog.electricity_value(
            region, "price"
        )
        if row is None:
            valid = ", ".join(catalog.regions("price"))
            raise DataError(f"{origin}: key 'country': no electricity price for '{region}' (known: {valid})")
        usd_per_kwh = row.value
        source = f"{row.region} {row.sector} average ({row.source}, {row.as_of})"
        if not values.get("country"):
            assumptions.append(f"electricity at the {row.region} {row.sector} average")
    power = values.get("power_w")
    power = (
        _number(origin, "power_w", power, 0)
        if power is not None
        else (preset.power_w if preset is not None else None)
    )
    name = str(values.get("name") or (preset.name if preset else "this machine"))
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
        tuple(assumptions),
    )


def load_profile(path: Path | None, overrides: dict[str, Any], catalog: Catalog) -> MachineProfile:
    """TOML file (if any) with flag overrides on top."""
    values = read_toml(path) if path is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return build_profile(values, catalog, str(path) if path else "machine flags")
