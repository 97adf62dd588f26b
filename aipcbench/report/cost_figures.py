"""Plotly figures of what things cost: per run, build vs rent over months, and against hours of
use. Plain dicts, like ``figures``."""

from __future__ import annotations

from typing import Any

from aipcbench.cost import cash
from aipcbench.cost import formulas as cost
from aipcbench.cost.compare import CellComparison
from aipcbench.report.figures import COLORS, base_layout
from aipcbench.units import DAYS_PER_MONTH


def cost_breakdown(comparisons: list[CellComparison], chosen: list[dict[str, Any]]) -> dict[str, Any]:
    """A dot plot, one row per cell: this machine's cost per run (hardware + electricity, split in
    the hover) beside the few rentals that matter (``context.chosen_cloud_options``), measured
    and estimated apart. One row per cell keeps ~60 options readable where bars did not.

    Log scale: costs per run span several orders of magnitude between workloads."""
    labels = [c.label for c in comparisons]
    local = {
        "type": "scatter",
        "mode": "markers",
        "name": "this machine (hardware + electricity)",
        "x": [c.local.total_usd for c in comparisons],
        "y": labels,
        "customdata": [[c.local.hardware_usd, c.local.electricity_usd] for c in comparisons],
        "hovertemplate": "%{y}: $%{x:.4g} a run (hardware $%{customdata[0]:.4g}, "
        "electricity $%{customdata[1]:.4g})<extra></extra>",
        "marker": {"color": COLORS["hardware"], "symbol": "diamond", "size": 11},
    }
    rented = {True: ([], [], []), False: ([], [], [])}  # measured? -> x, y, hover
    for comparison, options in zip(comparisons, chosen):
        for option in options:
            x, y, text = rented[option["evidence"] == "measured"]
            x.append(option["on_demand_usd"])
            y.append(comparison.label)
            text.append(f"{option['label']} ({option['evidence']})")
    data = [local]
    for measured, (x, y, text) in rented.items():
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "rented, measured" if measured else "rented, published or estimated",
                "x": x,
                "y": y,
                "text": text,
                "hovertemplate": "%{text}: $%{x:.4g} a run<extra></extra>",
                "marker": {
                    "color": COLORS["rental"],
                    "size": 8,
                    "symbol": "circle" if measured else "circle-open",
                },
            }
        )
    layout = base_layout("Cost per run: this machine and the rentals that matter (USD, log scale)", "")
    layout["xaxis"] = {"type": "log", "title": {"text": "USD per run"}}
    layout["yaxis"] = {"categoryorder": "array", "categoryarray": labels[::-1], "automargin": True}
    layout["height"] = 220 + 36 * len(labels)
    layout["legend"] = {"orientation": "h", "y": -0.12, "yanchor": "top"}
    layout["margin"]["b"] = 110
    return {"data": data, "layout": layout}


def _dropdown(labels: list[str], traces_per_label: int) -> list[dict[str, Any]]:
    buttons = []
    for index, label in enumerate(labels):
        visible = [i // traces_per_label == index for i in range(len(labels) * traces_per_label)]
        buttons.append({"label": label, "method": "update", "args": [{"visible": visible}]})
    return [{"buttons": buttons, "direction": "down", "x": 0, "y": 1.18, "xanchor": "left"}]


def cumulative(comparisons: list[CellComparison], machine: Any) -> dict[str, Any]:
    """Build (purchase + electricity) vs rent (cheapest cloud) month by month, per cell.

    Longer than 60 lines: one chart's traces and layout, built in the order they are drawn.
    """
    data, labels = [], []
    months = max(1, int(round(machine.lifetime_years * 12)))
    for c in comparisons:
        best = c.cheapest_offer
        if best is None:
            continue
        build, rent = cost.cumulative_costs(
            months, machine.price_usd, c.runs_per_month_at_usage, c.local.electricity_usd, best.on_demand_usd
        )
        visible = not labels
        labels.append(c.label)
        x = list(range(months + 1))
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "build (buy + electricity)",
                "x": x,
                "y": build,
                "visible": visible,
                "line": {"color": COLORS["build"]},
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"rent ({best.provider} {best.instance_type})",
                "x": x,
                "y": rent,
                "visible": visible,
                "line": {"color": COLORS["rent"]},
            }
        )
        crossing = c.payback_months if c.payback_months is not None and c.payback_months <= months else None
        marker_y = (
            machine.price_usd + crossing * c.runs_per_month_at_usage * c.local.electricity_usd
            if crossing is not None
            else None
        )
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "break-even",
                "x": [crossing] if crossing is not None else [],
                "y": [marker_y] if crossing is not None else [],
                "text": [f"pays off at month {crossing:.1f}"] if crossing is not None else [],
                "textposition": "top left",
                "visible": visible,
                "marker": {"size": 12, "symbol": "x", "color": "black"},
            }
        )
    layout = base_layout(
        "Cumulative cost at your usage: build vs rent",
        "USD",
        xaxis={"title": {"text": "months of use"}},
        updatemenus=_dropdown(labels, 3) if labels else [],
    )
    return {"data": data, "layout": layout}


def sensitivity(comparisons: list[CellComparison], machine: Any) -> dict[str, Any]:
    """Local cost per run against hours of use per day, with the cheapest cloud run as a line."""
    data, labels = [], []
    hours = list(range(1, 25))
    for c in comparisons:
        best = c.cheapest_offer
        visible = not labels
        labels.append(c.label)
        local = [
            cost.local_cost_per_run(
                c.seconds_per_run,
                c.energy_j_per_run,
                cash.hardware_usd_per_month(machine) / (h * DAYS_PER_MONTH),
                cash.usd_per_kwh(machine),
            ).total_usd
            for h in hours
        ]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "local, per run",
                "x": hours,
                "y": local,
                "visible": visible,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": (f"cloud: {best.provider} {best.instance_type}" if best else "no cloud price"),
                "x": hours,
                "y": [best.on_demand_usd if best else None] * len(hours),
                "visible": visible,
                "line": {"dash": "dash"},
            }
        )
    layout = base_layout(
        "Sensitivity: local cost per run vs hours used per day",
        "USD per run",
        log=True,
        xaxis={"title": {"text": "hours of use per day"}},
        updatemenus=_dropdown(labels, 2) if labels else [],
    )
    return {"data": data, "layout": layout}


def crossing(decision: Any) -> dict[str, Any]:
    """Monthly cost against plan scale for the best machine and the cheapest rentals, the
    break-even scale marked: where the answer flips."""
    if decision is None:
        return {"data": [], "layout": base_layout("Monthly cost against the plan's scale", "USD per month")}
    scale = decision.break_even_scale
    top = (
        max(3.0, min(scale * 1.25, 10.0)) if scale is not None else 3.0
    )  # 300 % of the plan, or past the crossing
    scales = [top * step / 30 for step in range(31)]
    picks = [o for o in (decision.best_own, decision.cheapest_rent) if o is not None]
    picks += [o for o in decision.options if o.kind == "own" and o not in picks][:2]
    data = []
    for option in picks:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{'buy' if option.kind == 'own' else 'rent'}: {option.name}",
                "x": [s * 100 for s in scales],
                "y": [option.monthly_usd(s) for s in scales],
                "line": {"color": COLORS["build"] if option.kind == "own" else COLORS["rent"]},
            }
        )
    title = "Monthly cost against the plan's scale (100 % = the plan)"
    if scale is not None and scale > top:
        title += f": owning pays only at {scale:,.0f} times the plan"
    if scale is not None and scale <= top and decision.best_own is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "break-even",
                "x": [scale * 100],
                "y": [decision.best_own.monthly_usd(scale)],
                "text": [f"same cost at {scale:.0%} of the plan"],
                "textposition": "top left",
                "marker": {"size": 12, "symbol": "x", "color": "black"},
            }
        )
    layout = base_layout(
        title,
        "USD per month",
        xaxis={"title": {"text": "% of the plan"}},
    )
    return {"data": data, "layout": layout}


def tornado(decision: Any) -> dict[str, Any]:
    """Each input moved on its own: owning's month minus renting's at its low and high ends,
    around the plan's (``cost.flips``); a bar crossing 0 flips the answer."""
    layout = base_layout("What moves the answer: owning minus renting, USD a month", "")
    if decision is None or not decision.swings:
        return {"data": [], "layout": layout}
    base = decision.best_own.monthly_usd() - decision.cheapest_rent.monthly_usd()
    names = [s.name for s in reversed(decision.swings)]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": f"each input at its {end} end",
            "y": names,
            "x": [getattr(s, f"{end}_margin_usd") - base for s in reversed(decision.swings)],
            "base": base,
            "text": [getattr(s, f"{end}_words") for s in reversed(decision.swings)],
            "marker": {"color": COLORS["build"] if end == "low" else COLORS["rent"]},
        }
        for end in ("low", "high")
    ]
    layout["barmode"] = "overlay"
    layout["yaxis"] = {"type": "category", "automargin": True}
    layout["height"] = 200 + 34 * len(names)
    layout["xaxis"] = {
        "title": {"text": "owning minus renting, USD a month (below 0: owning wins)"},
        "zeroline": True,
    }
    return {"data": data, "layout": layout}
