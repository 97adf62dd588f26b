"""Serving a base load on owned machines and its peaks on an API: the hybrid a pure answer
misses. Owning enough machines for the busiest hour leaves them idle most of the day; an API
for everything pays its margin on the base load too. Own k machines, send what they cannot take
to the API, and take the k that costs least (k = 0 is the API alone, k = the machines the peak
needs is owning alone).

The day's load, ASSUMED (a stated shape, since a plan gives only the average A and the peak
P = peak_to_average x A): a linear load-duration curve, the load falling evenly from the peak
over the busy part of the day:

    P <= 2A: from P down to 2A - P over the whole day
    P >  2A: from P down to 0 over a share 2A / P of the day, nothing the rest of it

Above a capacity C the API takes, as a share of the day, the average of max(load - C, 0):

    P <= 2A: C <= 2A - P: A - C;  else (P - C)^2 / (2 (P - b)), b = 2A - P
    P >  2A: (2A / P) x (P - C)^2 / (2 P)         (0 when C >= P)

Cost of k machines = k x (hardware + idle power) + their electricity above idle for what they
serve + the API's price for the overflow's output tokens (the prompt billed in the item's ratio).
Pinned to a hand calculation in tests/test_serve_mix.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.cost.serve_plan import ServeItem, ServeOption, machines_for, own_fixed_and_per_request
from aipcbench.units import DAYS_PER_MONTH


def overflow_tokens_per_s(average: float, peak: float, capacity: float) -> float:
    """The day's average of the load above ``capacity`` (tokens/s), under the module's shape."""
    if capacity <= 0:
        return average
    if capacity >= peak:
        return 0.0
    if peak <= 2 * average:
        base = 2 * average - peak
        if capacity <= base:
            return average - capacity
        return (peak - capacity) ** 2 / (2 * (peak - base))
    return (2 * average / peak) * (peak - capacity) ** 2 / (2 * peak)


@dataclass(frozen=True)
class Mix:
    machines: int
    monthly_usd: float
    overflow_share: float  # of output tokens sent to the API
    own: ServeOption
    api: ServeOption

    def option(self) -> ServeOption:
        name = f"{self.machines} x {self.own.machine.name} + {self.api.name} above it"
        note = (
            f"{self.overflow_share:.0%} of tokens (the peaks) go to the API; the day's load "
            "ASSUMED to fall evenly from its peak (cost.serve_mix)"
        )
        usd = self.monthly_usd
        return ServeOption(name, "own+api", usd, usd, usd, self.machines, self.own.method, note)


def month_usd(item: ServeItem, own: ServeOption, api: ServeOption, machines: int) -> tuple[float, float]:
    """(monthly $, share of tokens on the API) with ``machines`` owned and the rest on the API."""
    average = item.average_tokens_per_s
    overflow = overflow_tokens_per_s(average, item.peak_tokens_per_s, machines * own.capacity_tokens_per_s)
    share = overflow / average if average else 0.0
    fixed, per_request = own_fixed_and_per_request(item, own)
    requests = item.requests_per_day * DAYS_PER_MONTH
    owned = machines * fixed + (1 - share) * requests * per_request if machines else 0.0
    return owned + share * api.monthly_usd, share


def best_mix(item: ServeItem, own: ServeOption | None, api: ServeOption | None) -> Mix | None:
    """The cheapest k from 1 to one short of the peak's machines, when it beats both pure
    answers (owning for the peak, and the API alone); None otherwise."""
    if own is None or api is None or not own.capacity_tokens_per_s or not item.requests_per_day:
        return None
    for_peak = machines_for(item.peak_tokens_per_s, own.capacity_tokens_per_s)
    pure = min(month_usd(item, own, api, for_peak)[0], api.monthly_usd)
    best = None
    for k in range(1, for_peak):
        usd, share = month_usd(item, own, api, k)
        if usd < pure - 0.005 and (best is None or usd < best.monthly_usd):
            best = Mix(k, usd, share, own, api)
    return best
