"""What renting costs beside the GPU's busy hours: sessions, storage and egress.

A team does not rent one instance per run, nor keep one busy all month: it starts an instance,
sets it up, runs the day's jobs, and the instance idles until autostop. For a plan of R runs and
B busy seconds a month, grouped in S sessions on an instance at $h an hour:

    S          = min(sessions a month, R)                    (no session without a run)
    session    = B / S + set-up + upload + idle tail         seconds, billed per session:
    billed     = max(minimum, ceil(session / increment) x increment)
    upload     = data GB x 8,000 / upload Mbit/s             only when the data is not kept on a volume
    month      = S x h x billed / 3,600
               + data GB x volume $/GB-month                 when it is kept on a volume
               + max(0, egress GB - free GB) x egress $/GB

A committed price (``reserved_discount``: the share off on-demand a provider quoted for a 1- or
3-year reservation or a savings plan; no default, since no provider-published rate could be
cited) buys instances for every hour of the month, however busy:

    reserved month = ceil(B / hours in a month) x h x (1 - discount) x hours in a month
                     + volume + egress as above

Defaults, each said where the answer is: one session per working day (21.7 a month); set-up 5
minutes (an assumption, replaced by the median that ``aipcbench cloud`` measured, or
``--startup-s``); 5 idle minutes (SkyPilot's default autostop); the plan's data set and
checkpoints kept on a volume (sizes from the workloads); no egress. Storage and egress prices per
provider come from ``catalog/data/storage_prices.csv``; a provider without a row is priced at
the cited rows' median, labelled. Pure and torch-free; pinned to hand calculations in
tests/test_sessions.py.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from aipcbench.catalog import Catalog
from aipcbench.cost.formulas import billed_seconds
from aipcbench.cost.spot import ASSUMED_INTERRUPTIONS_PER_HOUR
from aipcbench.errors import DataError
from aipcbench.units import DAYS_PER_MONTH, SECONDS_PER_HOUR

WORKING_DAYS_PER_MONTH = 260 / 12
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH
AUTOSTOP_IDLE_MINUTES = 5.0  # docs.skypilot.co/en/latest/reference/auto-stop.html: "default idle minutes (5)"
ASSUMED_SETUP_MINUTES = 5.0  # ASSUMPTION: instance start, environment and code; measured by aipcbench cloud
ASSUMED_UPLOAD_MBIT_S = 100.0  # ASSUMPTION: an office uplink
# data sets as downloaded: CIFAR-10 python version 163 MB (cs.toronto.edu/~kriz/cifar.html);
# MNIST's four gzip files 11.6 MB (yann.lecun.com/exdb/mnist)
WORKLOAD_DATA_GB = {"vgg16-cifar10": 0.163, "cnn-mnist": 0.0116}
RENT_KEYS = {
    "sessions_per_month",
    "setup_minutes",
    "idle_minutes",
    "data_gb",
    "keep_data",
    "upload_mbit_s",
    "egress_gb_per_month",
    "spot",
    "spot_interruptions_per_hour",
    "checkpoint_minutes",
    "reserved_discount",
}


@dataclass(frozen=True)
class RentTerms:
    """How the plan's runs are grouped on a rented instance, and the data around them."""

    sessions_per_month: float
    setup_s: float
    idle_tail_s: float
    data_gb: float  # data set, weights and checkpoints the sessions need
    keep_data: bool  # on a persistent volume (billed all month) rather than uploaded each session
    upload_mbit_s: float
    egress_gb_per_month: float
    assumed: tuple[str, ...] = ()
    spot_allowed: bool = False  # the plan tolerates interruptions: a spot rental may win
    spot_interruptions_per_hour: float = ASSUMED_INTERRUPTIONS_PER_HOUR
    checkpoint_s: float | None = None  # None: an interrupted run starts over
    reserved_discount: float | None = None  # a quoted committed price: share off on-demand

    @property
    def overhead_s(self) -> float:
        """Billed seconds per session beside the runs: set-up, upload, idle tail."""
        upload = 0.0 if self.keep_data else self.data_gb * 8000 / self.upload_mbit_s
        return self.setup_s + upload + self.idle_tail_s

    def describe(self) -> str:
        kept = (
            f"{self.data_gb:.2g} GB kept on a volume"
            if self.keep_data
            else f"{self.data_gb:.2g} GB uploaded each session"
        )
        return (
            f"renting: {self.sessions_per_month:.3g} sessions a month, each billing "
            f"{self.overhead_s / 60:.1f} min beside its runs (set-up, upload, idle before autostop); "
            f"{kept}; {self.egress_gb_per_month:g} GB egress a month; spot: "
            f"{self.spot_interruptions_per_hour:g} interruptions a running hour, "
            + (f"checkpoints every {self.checkpoint_s / 60:g} min" if self.checkpoint_s else "no checkpoints")
            + ("" if self.spot_allowed else ", not allowed to win (spot = true in [rent] allows it)")
            + (
                f"; reserved at {self.reserved_discount:.0%} off on-demand (quoted in the plan), "
                "billed every hour of the month"
                if self.reserved_discount is not None
                else ""
            )
        )


def gigabytes(value: float) -> str:
    if value < 0.01:
        return "under 0.01 GB"
    return f"{value:,.0f} GB" if value >= 100 else f"{value:.3g} GB"


@dataclass(frozen=True)
class ProviderStorage:
    volume_usd_per_gb_month: float
    egress_usd_per_gb: float
    free_egress_gb: float
    basis: str


def provider_storage(catalog: Catalog, provider: str) -> ProviderStorage:
    """The provider's cited storage and egress prices, or the cited rows' median, labelled."""
    row = next((r for r in catalog.storage_prices if r.provider == provider), None)
    if row is not None:
        return ProviderStorage(
            row.volume_usd_per_gb_month,
            row.egress_usd_per_gb,
            row.free_egress_gb_per_month or 0.0,
            f"{row.volume or 'volume'} ${row.volume_usd_per_gb_month:g}/GB-month, egress "
            f"${row.egress_usd_per_gb:g}/GB ({row.as_of})",
        )
    rows = catalog.storage_prices
    if not rows:
        return ProviderStorage(
            0.0, 0.0, 0.0, "ASSUMPTION: no storage prices in the catalog: storage and egress $0"
        )
    volume = statistics.median(r.volume_usd_per_gb_month for r in rows)
    egress = statistics.median(r.egress_usd_per_gb for r in rows)
    return ProviderStorage(
        volume,
        egress,
        0.0,
        f"ASSUMPTION: no cited storage row for {provider}: the median of "
        f"{', '.join(r.provider for r in rows)} (${volume:g}/GB-month, egress ${egress:g}/GB)",
    )


def rent_month_usd(
    busy_s: float,
    runs: float,
    usd_per_hour: float,
    increment_s: float,
    minimum_s: float,
    terms: RentTerms,
    storage: ProviderStorage,
) -> float:
    """The month's rental bill for ``runs`` runs taking ``busy_s`` seconds (module docstring)."""
    sessions = min(terms.sessions_per_month, runs)
    compute = 0.0
    if sessions > 0:
        per_session = billed_seconds(busy_s / sessions + terms.overhead_s, increment_s, minimum_s)
        compute = sessions * usd_per_hour * per_session / SECONDS_PER_HOUR
    return compute + _storage_usd(terms, storage)


def _storage_usd(terms: RentTerms, storage: ProviderStorage) -> float:
    kept = terms.data_gb * storage.volume_usd_per_gb_month if terms.keep_data else 0.0
    return kept + max(0.0, terms.egress_gb_per_month - storage.free_egress_gb) * storage.egress_usd_per_gb


def reserved_month_usd(
    busy_s: float, usd_per_hour: float, terms: RentTerms, storage: ProviderStorage
) -> float:
    """A month of reserved instances (``usd_per_hour`` already the committed rate): as many as
    the busy hours need, each billed every hour of the month, plus storage and egress."""
    instances = max(1, math.ceil(busy_s / SECONDS_PER_HOUR / HOURS_PER_MONTH - 1e-9))
    return instances * usd_per_hour * HOURS_PER_MONTH + _storage_usd(terms, storage)


def _number(where: str, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{where}: key '{key}' must be a number, got {value!r}")
    if not low <= value <= high:
        raise DataError(f"{where}: key '{key}' must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def read_rent_table(where: str, table: Any) -> dict[str, Any]:
    """A plan's ``[rent]`` table, checked: the values the user gave (defaults come later)."""
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise DataError(f"{where}: [rent] must be a table")
    unknown = sorted(set(table) - RENT_KEYS)
    if unknown:
        raise DataError(
            f"{where}: [rent]: unknown key '{unknown[0]}' (valid: {', '.join(sorted(RENT_KEYS))})"
        )
    limits = {
        "sessions_per_month": (0.01, 10_000),
        "setup_minutes": (0, 24 * 60),
        "idle_minutes": (0, 24 * 60),
        "data_gb": (0, 1e6),
        "upload_mbit_s": (0.01, 1e6),
        "egress_gb_per_month": (0, 1e7),
        "spot_interruptions_per_hour": (0, 100),
        "checkpoint_minutes": (0.1, 1e6),
        "reserved_discount": (0, 0.9),
    }
    given: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("keep_data", "spot"):
            if not isinstance(value, bool):
                raise DataError(f"{where}: [rent]: key '{key}' must be true or false")
            given[key] = value
        else:
            given[key] = _number(f"{where}: [rent]", key, value, *limits[key])
    return given


def default_data_gb(cells) -> float:
    """The plan cells' data sets plus their model files: weights a generation cell loads, fp32
    weights a training cell checkpoints (``cost.compare.CellComparison`` rows)."""
    total = 0.0
    for cell in cells:
        total += WORKLOAD_DATA_GB.get(cell.workload, 0.0)
        weights = cell.details.get("weight_bytes") if isinstance(cell.details, dict) else None
        if isinstance(weights, (int, float)) and not isinstance(weights, bool):
            total += weights / 1e9
        elif cell.mode == "train" and cell.parameter_count:
            total += cell.parameter_count * 4 / 1e9
    return total


def rent_terms(given: dict[str, Any], cells, startup_s: float | None, startup_basis: str = "") -> RentTerms:
    """The plan's renting terms: what it gave, else the defaults (module docstring), each default
    said in ``assumed``. ``startup_s``: measured or given start-up, replacing the set-up default."""
    assumed = []
    sessions = given.get("sessions_per_month")
    if sessions is None:
        sessions = WORKING_DAYS_PER_MONTH
        assumed.append("one rented session per working day (21.7 a month)")
    setup = given.get("setup_minutes")
    if setup is not None:
        setup_s = setup * 60
    elif startup_s is not None:
        setup_s = startup_s
        assumed.append(f"set-up per session: {startup_s:.0f} s ({startup_basis or 'given'})")
    else:
        setup_s = ASSUMED_SETUP_MINUTES * 60
        assumed.append(
            f"set-up per session {ASSUMED_SETUP_MINUTES:g} min ASSUMED (aipcbench cloud measures it)"
        )
    idle = given.get("idle_minutes")
    if idle is None:
        idle = AUTOSTOP_IDLE_MINUTES
        assumed.append(f"{AUTOSTOP_IDLE_MINUTES:g} idle minutes before autostop (SkyPilot's default)")
    data = given.get("data_gb")
    if data is None:
        data = default_data_gb(cells)
        assumed.append(f"data set and model files {gigabytes(data)} (from the plan's workloads)")
    upload = given.get("upload_mbit_s", ASSUMED_UPLOAD_MBIT_S)
    keep = given.get("keep_data", True)
    if not keep and "upload_mbit_s" not in given:
        assumed.append(f"upload at {ASSUMED_UPLOAD_MBIT_S:g} Mbit/s ASSUMED")
    egress = given.get("egress_gb_per_month", 0.0)
    rate = given.get("spot_interruptions_per_hour")
    if rate is None:
        rate = ASSUMED_INTERRUPTIONS_PER_HOUR
        assumed.append(f"spot: {rate:g} interruptions a running hour ASSUMED")
    checkpoint = given.get("checkpoint_minutes")
    spot = given.get("spot", False)
    reserved = given.get("reserved_discount")
    return RentTerms(
        sessions,
        setup_s,
        idle * 60,
        data,
        keep,
        upload,
        egress,
        tuple(assumed),
        spot,
        rate,
        checkpoint * 60 if checkpoint else None,
        reserved,
    )
