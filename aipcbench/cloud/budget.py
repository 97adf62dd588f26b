"""What a cloud run can cost at most, before anything is launched.

For each request, the catalog's offers for that GPU and count (on the chosen clouds) give the
dearest hourly price; SkyPilot is told never to pay more (``max_hourly_cost``). The time limit
follows from ``--max-usd``: the run is killed at the limit and the cluster torn down, and if
aipcbench itself dies SkyPilot's autodown ends it after ``AUTOSTOP_IDLE_MIN`` idle minutes, so

    at most = dearest $/h x (time limit + autodown idle minutes)  <=  --max-usd

The minimum a suite needs (set-up installs a CUDA torch, then the suite) is an ASSUMPTION
from the quick suite's 60-95 s on a CPU plus a typical pip install; a budget that cannot pay
for it at the cheapest offer is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog, CloudOffer
from aipcbench.cloud.accelerators import Request
from aipcbench.errors import UserInputError
from aipcbench.units import SECONDS_PER_HOUR

SUITE_MAX_S = {"quick": 45 * 60, "full": 3 * int(SECONDS_PER_HOUR)}  # never longer, whatever the budget
SUITE_MIN_S = {"quick": 15 * 60, "full": 45 * 60}  # ASSUMPTION: set-up + suite on a GPU
AUTOSTOP_IDLE_MIN = 10


@dataclass(frozen=True)
class Budget:
    request: Request
    offers: tuple[CloudOffer, ...]
    usd_per_hour_low: float  # the cheapest matching offer
    usd_per_hour_cap: float  # the dearest: SkyPilot's max_hourly_cost
    time_limit_s: float

    @property
    def at_most_usd(self) -> float:
        return self.usd_per_hour_cap * (self.time_limit_s + AUTOSTOP_IDLE_MIN * 60) / SECONDS_PER_HOUR


def hourly(offer: CloudOffer, spot: bool) -> float | None:
    if spot:
        return offer.spot_per_hour_high or offer.spot_per_hour_low
    return offer.on_demand_per_hour


# catalog provider -> SkyPilot cloud name (``--cloud``)
SKYPILOT_CLOUDS = {
    "AWS": "aws",
    "Azure": "azure",
    "GCP": "gcp",
    "Lambda": "lambda",
    "RunPod": "runpod",
    "Vast.ai": "vast",
    "CoreWeave": "coreweave",
    "Nebius": "nebius",
    "Paperspace": "paperspace",
}


def sky_cloud(provider: str) -> str:
    return SKYPILOT_CLOUDS.get(provider, provider.lower())


def matching_offers(request: Request, catalog: Catalog, clouds: tuple[str, ...]) -> list[CloudOffer]:
    return [
        offer
        for offer in catalog.cloud_offers
        if offer.accelerator in request.catalog_keys
        and offer.gpu_count == request.count
        and (not clouds or sky_cloud(offer.provider) in clouds)
    ]


def plan_budget(
    request: Request, catalog: Catalog, suite: str, spot: bool, max_usd: float, clouds: tuple[str, ...] = ()
) -> Budget:
    """The request's price bounds and time limit; refused in one line when the budget is short."""
    offers = matching_offers(request, catalog, clouds)
    prices = [p for p in (hourly(o, spot) for o in offers) if p]
    if not prices:
        where = f" on {', '.join(clouds)}" if clouds else ""
        kind = "spot" if spot else "on-demand"
        raise UserInputError(
            f"cloud: no {kind} catalog offer for {request.label}{where}: cannot bound its cost"
        )
    low, cap = min(prices), max(prices)
    minimum_s = SUITE_MIN_S[suite]
    cheapest_run = low * (minimum_s + AUTOSTOP_IDLE_MIN * 60) / SECONDS_PER_HOUR
    if max_usd < cheapest_run:
        raise UserInputError(
            f"cloud: --max-usd {max_usd:g} is below the cheapest possible {suite} run on {request.label}: "
            f"${cheapest_run:.2f} ({minimum_s // 60} min + {AUTOSTOP_IDLE_MIN} min autodown at ${low:.2f}/h)"
        )
    limit_s = min(SUITE_MAX_S[suite], max_usd / cap * SECONDS_PER_HOUR - AUTOSTOP_IDLE_MIN * 60)
    if limit_s < minimum_s:  # the dearest offer leaves too little time: cap the price instead
        cap = max_usd * SECONDS_PER_HOUR / (minimum_s + AUTOSTOP_IDLE_MIN * 60)
        limit_s = minimum_s
    return Budget(request, tuple(offers), low, cap, limit_s)
