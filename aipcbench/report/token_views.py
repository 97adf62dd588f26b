"""``aipcbench tokens``: tokens/s and $ per million output tokens, local vs cloud vs APIs, and
what each quantized or pruned cell costs in fidelity. Text here; the HTML page uses the rows."""

from __future__ import annotations

from typing import Any

from aipcbench.cost.compare import CellComparison
from aipcbench.cost.tokens import TokenCosts, TokenPrice, token_costs
from aipcbench.report.formatters import percent, rate, safe_text, text_table, usd, with_range

API_SHOWN = 3
CLOUDS_SHOWN = 3


def all_token_costs(comparisons: list[CellComparison], catalog, local_name: str) -> list[TokenCosts]:
    return [c for c in (token_costs(comparison, catalog, local_name) for comparison in comparisons) if c]


def price_text(price: TokenPrice | None) -> str:
    if price is None:
        return "-"
    low = usd(price.usd_per_mtok_low) if price.usd_per_mtok_low is not None else None
    high = usd(price.usd_per_mtok_high) if price.usd_per_mtok_high is not None else None
    return with_range(usd(price.usd_per_mtok), low, high)


def fidelity_text(fidelity: dict[str, Any] | None) -> str:
    """``top-1 92% · KL 0.0001 nats`` against the same weights unquantized; '' for none."""
    if not isinstance(fidelity, dict) or not isinstance(fidelity.get("top1_agreement"), (int, float)):
        return ""
    text = f"top-1 {percent(fidelity['top1_agreement'])}"
    kl = fidelity.get("kl_divergence_nats")
    if isinstance(kl, (int, float)):
        text += f" · KL {kl:.2g} nats"
    if isinstance(fidelity.get("perplexity"), (int, float)):
        text += f" · perplexity {fidelity['perplexity']:.1f}"
    return text


def rows(costs: list[TokenCosts]) -> list[dict[str, Any]]:
    """One flat row per generation cell (CSV, the HTML table)."""
    out = []
    for item in costs:
        cloud, api = item.best_cloud, item.best_api
        out.append(
            {
                "cell": item.cell,
                "model": item.model,
                "dtype": item.dtype,
                "local_tokens_per_s": item.local.tokens_per_s,
                "local_usd_per_mtok": item.local.usd_per_mtok,
                "local_evidence": item.local.provenance,
                "best_cloud": cloud.where if cloud else "",
                "best_cloud_usd_per_mtok": cloud.usd_per_mtok if cloud else None,
                "best_cloud_usd_per_mtok_low": cloud.usd_per_mtok_low if cloud else None,
                "best_cloud_usd_per_mtok_high": cloud.usd_per_mtok_high if cloud else None,
                "best_cloud_tokens_per_s": cloud.tokens_per_s if cloud else None,
                "best_cloud_evidence": cloud.provenance if cloud else "",
                "best_api": api.where if api else "",
                "best_api_usd_per_mtok": api.usd_per_mtok if api else None,
                "best_api_source": api.provenance if api else "",
                "fidelity": fidelity_text(item.fidelity),
            }
        )
    return out


def text(costs: list[TokenCosts]) -> str:
    if not costs:
        return "No text-generation cells in these results (run e.g. --workloads gpt2-generate or causal-lm)."
    lines = []
    for item in costs:
        lines.append(
            safe_text(
                f"{item.cell} ({item.model}; {item.prompt_tokens}-token prompt, "
                f"{item.new_tokens} new tokens per generation)"
                + (f"; fidelity vs unquantized: {fidelity_text(item.fidelity)}" if item.fidelity else "")
            )
        )
        table = [("where", "tokens/s", "$ per 1M output tokens", "evidence")]
        table.append(
            (
                item.local.where,
                rate(item.local.tokens_per_s, "tokens"),
                price_text(item.local),
                item.local.provenance,
            )
        )
        cloud = item.best_cloud
        if cloud is not None:
            table.append(
                (
                    f"best cloud: {cloud.where}",
                    rate(cloud.tokens_per_s, "tokens"),
                    price_text(cloud),
                    cloud.provenance,
                )
            )
        for api in item.apis[:API_SHOWN]:
            table.append((f"API: {api.where}", "-", usd(api.usd_per_mtok), api.provenance))
        lines += text_table(table, indent="  ")
        lines.append("")
    lines.append(
        "APIs: list prices per million output tokens with the prompt billed in the cell's ratio; only "
        "models at least as large as the one run; answer quality not compared."
    )
    return "\n".join(lines)


def serving_text(prices) -> str:
    """Each serving record's $ per 1M output tokens at its latency target, everywhere."""
    from aipcbench.report.serving_views import describe

    lines = []
    for item in prices:
        record = item.record
        best = record.best_at_target()
        lines.append(safe_text(f"Serving: {describe(record)}"))
        lines.append(f"  at the target: {best.label}, {rate(best.output_tokens_per_s, 'tokens')}")
        rows_ = [["where", "$ per 1M output tokens", "tokens/s", "evidence"]]
        for price in [*item.owned, *item.clouds[:CLOUDS_SHOWN], *item.apis[:API_SHOWN]]:
            speed = rate(price.capacity.tokens_per_s.central, "tokens") if price.capacity else "-"
            low, high = price.usd_per_mtok_low, price.usd_per_mtok_high
            shown = with_range(
                usd(price.usd_per_mtok), usd(low) if low else None, usd(high) if high else None
            )
            rows_.append([price.where, shown, speed, price.provenance])
        lines += text_table(rows_, indent="  ")
        lines += [f"  note: {safe_text(note)}" for note in item.notes]
        lines.append("")
    return "\n".join(lines).rstrip()
