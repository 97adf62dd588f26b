"""Every chart in words: a caption stating the point a reader should take from it, and its data
as a table one click away (for a reader who cannot see the chart, or wants the numbers).

The decision's charts get captions computed from the decision (where owning and renting cost the
same, what moves the answer most, how this machine compares per run), the measurement charts
from the rows they plot (``report.measurement_captions``); the others say what they plot, from
their titles.
"""

from __future__ import annotations

from typing import Any

from aipcbench.cost.decide import the
from aipcbench.numbers import usd
from aipcbench.report.measurement_captions import CAPTIONS

MAX_ROWS = 400  # a chart's data table: enough for every chart the page draws, bounded for the page


def _number(value: Any) -> Any:
    return f"{value:.4g}" if isinstance(value, float) else value


def data_rows(figure: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """(series, x, y) for every point of every trace, at most MAX_ROWS."""
    rows = []
    for trace in figure.get("data", []):
        name = trace.get("name", "")
        for x, y in zip(trace.get("x") or [], trace.get("y") or []):
            rows.append((name, _number(x), _number(y)))
            if len(rows) >= MAX_ROWS:
                return rows
    return rows


def _title(figure: dict[str, Any]) -> str:
    title = figure.get("layout", {}).get("title", {})
    return str(title.get("text", "")) if isinstance(title, dict) else str(title)


def crossing_caption(decision: Any) -> str:
    own, rent, scale = decision.best_own, decision.cheapest_rent, decision.break_even_scale
    if own is None or rent is None:
        return "Monthly cost against the plan's size for the options priced."
    if scale is not None:
        at = f"{scale:,.0f} times the plan" if scale >= 10 else f"{scale:.0%} of the plan"
        return (
            f"Owning {the(own.name)} and renting {rent.name} cost the same at {at}: "
            f"{'renting' if scale > 1 else 'owning'} is cheaper at the plan as written."
        )
    cheaper = "renting" if rent.monthly_usd() < own.monthly_usd() else "owning"
    return f"No crossing: {cheaper} stays cheaper at every size of the plan."


def tornado_caption(decision: Any) -> str:
    widest = decision.swings[0]
    flip = next((s for s in decision.swings if s.flip_words), None)
    text = (
        f"The input that moves the answer most is {widest.name}: owning minus renting goes from "
        f"{usd(widest.low_margin_usd)} to {usd(widest.high_margin_usd)} a month across its range. "
    )
    return text + (
        f"The nearest flip: {flip.flip_words}." if flip else "No single input within its range flips it."
    )


def cost_caption(comparisons: list[Any]) -> str:
    priced = [c for c in comparisons if c.cheapest_offer]
    cheaper = sum(1 for c in priced if c.cheapest_offer.on_demand_usd < c.local.total_usd)
    unpriced = (
        f" ({len(comparisons) - len(priced)} with no rental price)" if len(priced) < len(comparisons) else ""
    )
    return (
        f"Per run, a rental is cheaper than this machine for {cheaper} of {len(priced)} workloads{unpriced} "
        "(each row: this machine's cost per run and the rentals that matter, on a log scale)."
    )


def cumulative_caption(comparisons: list[Any], months: int) -> str | None:
    """Over the machine's life: for how many workloads owning pays back, and the fastest."""
    priced = [c for c in comparisons if c.cheapest_offer is not None]
    paying = [c for c in priced if c.payback_months is not None and c.payback_months <= months]
    if not priced:
        return None
    if not paying:
        return (
            f"Run at your usage, renting stays cheaper than buying over all {months} months, every workload."
        )
    fastest = min(paying, key=lambda c: c.payback_months)
    return (
        f"Run at your usage, buying pays back within {months} months for {len(paying)} of {len(priced)} "
        f"workloads; soonest {fastest.label}, after {fastest.payback_months:,.1f} months."
    )


def sensitivity_caption(figure: dict[str, Any]) -> str | None:
    """From the chart's pairs of traces (this machine per run by hours a day, the rental's line):
    the hours a day from which owning is cheaper per run, per workload."""
    traces = figure.get("data", [])
    pairs = [(own, rent) for own, rent in zip(traces[0::2], traces[1::2]) if any(rent.get("y") or [])]
    if not pairs:  # no workload has a rental price to compare with
        return None
    from_hours = []
    for local, cloud in pairs:
        hours = [
            h for h, own, rent in zip(local["x"], local["y"], cloud["y"]) if rent is not None and own <= rent
        ]
        from_hours.append(hours[0] if hours else None)
    winning = [h for h in from_hours if h is not None]
    if not winning:
        count = len(pairs)
        return f"Even used 24 h a day, this machine costs more per run than a rental: all {count} workloads."
    return (
        "Used enough hours a day, this machine is the cheaper way per run for "
        f"{len(winning)} of {len(pairs)} workloads, from {min(winning)} h/day for the most favourable."
    )


def figure_notes(
    figures: dict[str, dict], decision: Any, comparisons: list[Any], rows: list[dict[str, Any]] = ()
) -> dict[str, dict]:
    """Caption and data table per chart key (``rows``: the measurements the charts plot)."""
    notes = {}
    for key, figure in figures.items():
        if not figure.get("data"):
            continue
        caption = f"{_title(figure)}."
        if key == "crossing" and decision is not None:
            caption = crossing_caption(decision)
        elif key == "tornado" and decision is not None and decision.swings:
            caption = tornado_caption(decision)
        elif key == "cost" and comparisons:
            caption = cost_caption(comparisons)
        elif key == "sensitivity":
            caption = sensitivity_caption(figure) or caption
        elif key == "cumulative" and comparisons:
            months = max(len(figure["data"][0].get("x") or []) - 1, 1)
            caption = cumulative_caption(comparisons, months) or caption
        elif key in CAPTIONS:
            caption = CAPTIONS[key](list(rows)) or caption
        notes[key] = {"caption": caption, "rows": data_rows(figure)}
    return notes
