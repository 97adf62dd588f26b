"""Owning over time: what a machine costs a month once cash now is weighed against cash later,
a loan pays for it, the room's cooling draws power beside it and someone looks after it.

With a monthly discount rate r = (1 + annual rate)^(1/12) - 1 and a lifetime of n months:

    present cost     = price (or the loan's payments' present value) - residual / (1 + r)^n
    hardware / month = present cost / A(r, n),  A(r, n) = (1 - (1 + r)^-n) / r   (n when r = 0)
    loan payment     = principal x i / (1 - (1 + i)^-m),  i = APR / 12, m = term in months
    electricity      = energy x price per kWh x PUE
    upkeep / month   = maintenance hours a month x the hourly rate given

With no discount rate and no loan, hardware / month = (price - residual) / n: the straight line
the rest of the cost model used before. A level monthly cost C over the horizon has the present
value C x A(r, n), the figure a CFO compares (``npv``). Every default (no discount, no loan,
PUE 1.0, no upkeep) is said in the profile's assumptions. Pure; pinned in tests/test_cash.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aipcbench.errors import DataError
from aipcbench.units import DAYS_PER_MONTH

CASH_KEYS = {
    "discount_rate",
    "financing_apr",
    "financing_years",
    "pue",
    "maintenance_hours_per_month",
    "admin_usd_per_hour",
}
# key -> (smallest, largest): an annual rate of 100 % or a PUE of 3 is already no real machine room
CASH_LIMITS = {
    "discount_rate": (0.0, 1.0),
    "financing_apr": (0.0, 1.0),
    "financing_years": (1 / 12, 30.0),
    "pue": (1.0, 3.0),
    "maintenance_hours_per_month": (0.0, 744.0),
    "admin_usd_per_hour": (0.0, 10_000.0),
}


@dataclass(frozen=True)
class CashTerms:
    discount_rate: float = 0.0  # a year
    financing_apr: float | None = None
    financing_years: float | None = None
    pue: float = 1.0
    maintenance_hours_per_month: float = 0.0
    admin_usd_per_hour: float = 0.0

    @property
    def financed(self) -> bool:
        return self.financing_apr is not None and self.financing_years is not None


class MachineProfile(Protocol):
    """What this module reads of a machine profile (``cost.machine.MachineProfile``)."""

    price_usd: float
    residual_usd: float
    lifetime_years: float
    hours_per_day: float
    electricity_usd_per_kwh: float
    cash: CashTerms


def read_cash_terms(
    values: dict[str, Any], number: Callable[[str, Any], float], origin: str
) -> tuple[CashTerms, list[str]]:
    """The profile's cash keys, checked (``number(key, value)`` checks one against CASH_LIMITS),
    and the defaults it leaves to assumptions."""
    given = {key: number(key, values[key]) for key in CASH_KEYS if values.get(key) is not None}
    if ("financing_apr" in given) != ("financing_years" in given):
        raise DataError(
            f"{origin}: give both 'financing_apr' and 'financing_years' (a loan has a rate and a term)"
        )
    if given.get("maintenance_hours_per_month") and "admin_usd_per_hour" not in given:
        raise DataError(
            f"{origin}: key 'maintenance_hours_per_month' needs 'admin_usd_per_hour' (what an hour costs)"
        )
    defaults = [
        text
        for key, text in (
            ("discount_rate", "no discount rate"),
            ("pue", "no cooling overhead (PUE 1.0)"),
            ("maintenance_hours_per_month", "no upkeep time"),
        )
        if key not in given
    ]
    assumed = [f"{', '.join(defaults)} assumed"] if defaults else []
    return CashTerms(**given), assumed


def monthly_rate(annual: float) -> float:
    return (1 + annual) ** (1 / 12) - 1


def annuity_factor(rate: float, months: float) -> float:
    """Present value of $1 a month for ``months`` months at ``rate`` a month."""
    return months if rate == 0 else (1 - (1 + rate) ** -months) / rate


def loan_payment(principal: float, apr: float, months: float) -> float:
    i = apr / 12
    return principal / months if i == 0 else principal * i / (1 - (1 + i) ** -months)


def present_cost(machine: MachineProfile) -> float:
    """The purchase (or its loan's payments) less the residual, both in today's money."""
    cash, months = machine.cash, machine.lifetime_years * 12
    r = monthly_rate(cash.discount_rate)
    price = machine.price_usd
    if cash.financed:
        loan_months = cash.financing_years * 12
        price = loan_payment(price, cash.financing_apr, loan_months) * annuity_factor(r, loan_months)
    return price - machine.residual_usd / (1 + r) ** months


def hardware_usd_per_month(machine: MachineProfile) -> float:
    """The level monthly cost with the same present value as owning the hardware."""
    months = machine.lifetime_years * 12
    return present_cost(machine) / annuity_factor(monthly_rate(machine.cash.discount_rate), months)


def hardware_usd_per_hour(machine: MachineProfile) -> float:
    """Hardware per hour of use: the month's share over the hours of use in a month."""
    if machine.hours_per_day <= 0:
        raise ValueError("hours per day must be > 0")
    return hardware_usd_per_month(machine) / (machine.hours_per_day * DAYS_PER_MONTH)


def usd_per_kwh(machine: MachineProfile) -> float:
    """What a kWh drawn by the machine costs, its room's cooling included (PUE)."""
    return machine.electricity_usd_per_kwh * machine.cash.pue


def upkeep_usd_per_month(machine: MachineProfile) -> float:
    return machine.cash.maintenance_hours_per_month * machine.cash.admin_usd_per_hour


def npv(monthly_usd: float, annual_rate: float, months: float) -> float:
    """Present value of a level monthly cost over ``months`` months."""
    return monthly_usd * annuity_factor(monthly_rate(annual_rate), months)
