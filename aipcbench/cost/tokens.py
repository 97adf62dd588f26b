"""Dollars per million output tokens: this machine, every cloud offer, and hosted APIs.

For a generation cell: $/1M tokens = cost per run / tokens per run x 10^6, where a run's cost
comes from the same ladder as every other price (measured on that accelerator, else estimated
with a range). An API bills the prompt too, so its price is put on the same footing as the
cell: output price + input price x prompt tokens / output tokens. An API is *comparable* when
it serves a model at least as large as the one run, its nominal size taken within 10 % (an
"8B" API serves Llama-3.1-8B's 8.03B), or an undisclosed proprietary one, larger than anything
here; the answer quality is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aipcbench.catalog import Catalog
from aipcbench.catalog.rows import ApiPrice
from aipcbench.cost.compare import CellComparison

MILLION = 1e6


@dataclass(frozen=True)
class TokenPrice:
    where: str
    kind: str  # local | cloud | api
    usd_per_mtok: float
    usd_per_mtok_low: float | None = None
    usd_per_mtok_high: float | None = None
    tokens_per_s: float | None = None  # None for an API
    provenance: str = ""  # measured | calibrated-estimate | estimate | list price of <date>


@dataclass(frozen=True)
class TokenCosts:
    """One generation cell's price per million output tokens, everywhere."""

    cell: str
    model: str
    dtype: str
    prompt_tokens: int
    new_tokens: int
    local: TokenPrice
    clouds: tuple[TokenPrice, ...]
    apis: tuple[TokenPrice, ...]  # comparable ones, cheapest first
    fidelity: dict[str, Any] | None

    @property
    def best_cloud(self) -> TokenPrice | None:
        return min(self.clouds, key=lambda p: p.usd_per_mtok, default=None)

    @property
    def best_api(self) -> TokenPrice | None:
        return self.apis[0] if self.apis else None


def _count(value: Any, default: int) -> int:
    """A token count read from a record's free-form details: a whole number >= 1, else the
    default (a results file is data from anywhere: a string or a 1e308 there is no count)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 10**9:
        return default
    return int(value)


def per_million(usd_per_run: float | None, tokens_per_run: float) -> float | None:
    return None if usd_per_run is None else usd_per_run / tokens_per_run * MILLION


def api_usd_per_mtok(price: ApiPrice, prompt_tokens: int, new_tokens: int) -> float:
    """Per million *output* tokens, the prompt billed alongside in the cell's ratio."""
    return price.output_usd_per_mtok + price.input_usd_per_mtok * prompt_tokens / new_tokens


NOMINAL_SIZE_SLACK = 0.9  # "8B" names Llama-3.1-8B's 8.03B: a nominal size is not a floor


def comparable(price: ApiPrice, parameters: float | None) -> bool:
    """The API serves a model at least as large (its nominal size within 10 %), or an
    undisclosed one."""
    if price.parameters_b is None or parameters is None:
        return True
    return price.parameters_b * 1e9 >= parameters * NOMINAL_SIZE_SLACK


def token_costs(comparison: CellComparison, catalog: Catalog, local_name: str) -> TokenCosts | None:
    """The cell's prices per million tokens, or None for a cell that does not generate tokens."""
    tokens = comparison.items_per_run
    if comparison.mode != "generate" or comparison.item_unit != "tokens" or not tokens:
        return None
    details = comparison.details
    prompt, new = _count(details.get("prompt_tokens"), 0), _count(details.get("new_tokens"), 1)
    model = details.get("model")
    local = TokenPrice(
        where=local_name,
        kind="local",
        usd_per_mtok=per_million(comparison.local.total_usd, tokens),
        tokens_per_s=tokens / comparison.seconds_per_run if comparison.seconds_per_run else None,
        provenance=comparison.local_method,
    )
    clouds = tuple(
        TokenPrice(
            where=offer.label,
            kind="cloud",
            usd_per_mtok=per_million(offer.on_demand_usd, tokens),
            usd_per_mtok_low=per_million(offer.on_demand_usd_low, tokens),
            usd_per_mtok_high=per_million(offer.on_demand_usd_high, tokens),
            tokens_per_s=tokens / offer.evidence.seconds_per_run if offer.evidence.seconds_per_run else None,
            provenance=offer.evidence.method,
        )
        for offer in comparison.offers
        if offer.on_demand_usd is not None
    )
    apis = sorted(
        (
            TokenPrice(
                where=f"{price.provider} {price.model}",
                kind="api",
                usd_per_mtok=api_usd_per_mtok(price, prompt, new),
                provenance=f"list price of {price.as_of} ({price.source})",
            )
            for price in catalog.api_prices
            if comparable(price, comparison.parameter_count)
        ),
        key=lambda p: p.usd_per_mtok,
    )
    return TokenCosts(
        cell=comparison.label,
        model=model if isinstance(model, str) and model else comparison.workload,
        dtype=comparison.dtype,
        prompt_tokens=prompt,
        new_tokens=new,
        local=local,
        clouds=clouds,
        apis=tuple(apis),
        fidelity=details.get("fidelity") if isinstance(details.get("fidelity"), dict) else None,
    )
