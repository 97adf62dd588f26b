"""The report's serving section as plain data: per serving record its curve (one point per load
level), the best level at the latency target, and its $ per 1M output tokens there against the
cheapest rental and APIs; the latency-throughput chart with the target drawn; and the answer
to each ``[[serve]]`` plan item."""

from __future__ import annotations

from typing import Any

from aipcbench.report.serving_views import best_sentence, describe

PALETTE = ("#4C78A8", "#E45756", "#54A24B", "#F58518", "#B279A2", "#72B7B2", "#9D755D", "#FF9DA6")


def _price(price) -> dict[str, Any] | None:
    if price is None:
        return None
    return {
        "where": price.where,
        "usd_per_mtok": price.usd_per_mtok,
        "low": price.usd_per_mtok_low,
        "high": price.usd_per_mtok_high,
        "tokens_per_s": price.capacity.tokens_per_s.central if price.capacity else None,
        "evidence": price.provenance,
    }


def serving_rows(records: list, prices: list) -> list[dict[str, Any]]:
    by_cell = {p.record.cell: p for p in prices}
    rows = []
    for record in records:
        item = by_cell.get(record.cell)
        rows.append(
            {
                "title": describe(record),
                "best": best_sentence(record),
                "status": record.status,
                "reason": record.reason,
                "stopped_by": record.stopped_by,
                "levels": [
                    {
                        "label": level.label,
                        "ok": level.requests_ok,
                        "failed": level.requests_failed,
                        "tokens_per_s": level.output_tokens_per_s,
                        "per_user": level.output_tokens_per_s_per_user,
                        "ttft_p50_ms": level.ttft.p50_s * 1000 if level.ttft else None,
                        "ttft_p95_ms": level.ttft.p95_s * 1000 if level.ttft else None,
                        "tpot_p50_ms": level.tpot.p50_s * 1000 if level.tpot else None,
                        "e2e_p95_ms": level.e2e.p95_s * 1000 if level.e2e else None,
                        "meets": level.meets_target,
                        "client_cpu": level.generator_cpu_fraction,
                    }
                    for level in record.levels
                ],
                "owned": [_price(p) for p in item.owned] if item else [],
                "cloud": _price(item.clouds[0]) if item and item.clouds else None,
                "api": _price(item.apis[0]) if item and item.apis else None,
            }
        )
    return rows


def serving_figure(records: list) -> dict[str, Any]:
    """p95 TTFT against output tokens/s, one line per record, a point per level; the target as
    a dashed line (the tightest one among the records)."""
    data = []
    for number, record in enumerate(r for r in records if r.levels):
        levels = [lv for lv in record.levels if lv.ttft is not None]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers+text",
                "name": f"{record.engine} {record.model} {record.quantization} ({record.device})",
                "x": [lv.output_tokens_per_s for lv in levels],
                "y": [lv.ttft.p95_s * 1000 for lv in levels],
                "text": [str(lv.concurrency or lv.rate_per_s) for lv in levels],
                "textposition": "top center",
                "line": {"color": PALETTE[number % len(PALETTE)]},
                "hovertemplate": "%{x:.4s} output tokens/s<br>p95 TTFT %{y:.4s} ms<br>load %{text}",
            }
        )
    targets = [r.target.ttft_p95_s for r in records if r.target.ttft_p95_s is not None]
    layout = {
        "title": {
            "text": "Latency against throughput: one point per load level (the number: users in flight)"
        },
        "xaxis": {"title": {"text": "output tokens/s (all users)"}},
        "yaxis": {"title": {"text": "p95 time to first token, ms"}, "type": "log"},
        "legend": {"orientation": "h", "y": -0.3},
        "margin": {"l": 70, "r": 20, "t": 50, "b": 120},
        "height": 460,
    }
    if targets and data:
        target_ms = min(targets) * 1000
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": target_ms,
                "y1": target_ms,
                "line": {"dash": "dash", "color": "#888"},
            }
        ]
        layout["annotations"] = [
            {
                "xref": "paper",
                "x": 1,
                "y": target_ms,
                "yref": "y",
                "text": f"target {target_ms:g} ms",
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "bottom",
            }
        ]
    return {"data": data, "layout": layout}


def serve_plan_rows(decisions: list) -> list[dict[str, Any]]:
    return [
        {
            "sentence": d.sentence,
            "item": d.item.label,
            "assumed": list(d.item.assumed),
            "options": [
                {
                    "name": o.name,
                    "monthly_usd": o.monthly_usd,
                    "low": o.monthly_usd_low,
                    "high": o.monthly_usd_high,
                    "method": o.method,
                    "note": o.note,
                }
                for o in d.options
            ],
            "notes": list(d.notes),
        }
        for d in decisions
    ]
