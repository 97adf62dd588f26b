"""Plotly figures as plain dicts (``{"data": [...], "layout": {...}}``), drawn in the page.

Plain dicts rather than plotly's Python objects: they are cheap to build for thousands of
records, trivially JSON, and the tests read the numbers straight out of them.
"""

from __future__ import annotations

from typing import Any

from aipcbench import cost
from aipcbench.pricing import CellComparison

MAX_BOX_SAMPLES = 200  # per cell in the step-time chart; the tables keep the full statistics
MAX_BOX_CELLS = 200

COLORS = {
    "hardware": "#4C78A8",
    "electricity": "#F58518",
    "rental": "#54A24B",
    "spot": "#B8E2A5",
    "build": "#4C78A8",
    "rent": "#E45756",
}


def _layout(title: str, y_title: str, log: bool = False, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title},
        "margin": {"l": 70, "r": 20, "t": 50, "b": 140},
        "yaxis": {"title": {"text": y_title}, "type": "log" if log else "linear"},
        "legend": {"orientation": "h", "y": -0.35},
        "height": 460,
    }
    layout.update(extra)
    return layout


def _cell_name(row: dict[str, Any]) -> str:
    return f"{row['workload']}:{row['size']} {row['dtype']}"


def throughput(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Items per second per cell, one trace per host/device (log scale: they span 10^7)."""
    traces: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["status"] != "ok" or row["items_per_s"] is None:
            continue
        name = f"{row['host']} {row['device']}"
        trace = traces.setdefault(
            name,
            {
                "type": "bar",
                "name": name,
                "x": [],
                "y": [],
                "text": [],
                "hovertemplate": "%{x}<br>%{y:.4s} %{text}/s",
            },
        )
        trace["x"].append(_cell_name(row))
        trace["y"].append(row["items_per_s"])
        trace["text"].append(row["item_unit"])
    return {
        "data": list(traces.values()),
        "layout": _layout("Throughput (measured)", "items per second", log=True, barmode="group"),
    }


def step_times(rows: list[dict[str, Any]], samples: dict[str, list[float]]) -> dict[str, Any]:
    """Box plot of per-step times from the kept samples (thinned evenly past 200)."""
    data = []
    for row in rows[:MAX_BOX_CELLS]:
        values = samples.get(row["id"]) or []
        if not values:
            continue
        stride = max(1, len(values) // MAX_BOX_SAMPLES)
        data.append(
            {
                "type": "box",
                "name": f"{_cell_name(row)} · {row['host']} {row['device']}",
                "y": [v * 1e3 for v in values[::stride]],
                "boxpoints": False,
                "showlegend": False,
            }
        )
    return {
        "data": data,
        "layout": _layout("Step time distribution (measured, per step)", "milliseconds", log=True),
    }


def utilisation(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if r["status"] == "ok" and r["achieved_flops"]]
    x = [f"{_cell_name(r)} · {r['host']} {r['device']}" for r in ok]
    data = [
        {
            "type": "bar",
            "name": "of rated peak (catalog/formula)",
            "x": x,
            "y": [r["mfu_rated"] * 100 if r["mfu_rated"] is not None else None for r in ok],
        },
        {
            "type": "bar",
            "name": "of measured GEMM peak",
            "x": x,
            "y": [r["mfu_measured"] * 100 if r["mfu_measured"] is not None else None for r in ok],
        },
    ]
    return {
        "data": data,
        "layout": _layout("Achieved FLOP/s as % of the device's peak", "% of peak", barmode="group"),
    }


def energy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    traces: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["energy_j_per_run"] is None:
            continue
        name = row["energy_method"] or "unknown"
        trace = traces.setdefault(name, {"type": "bar", "name": name, "x": [], "y": []})
        trace["x"].append(f"{_cell_name(row)} · {row['host']} {row['device']}")
        trace["y"].append(row["energy_j_per_run"] / 3600.0)
    return {
        "data": list(traces.values()),
        "layout": _layout(
            "Energy per run (Wh; method in the legend)", "Wh per run", log=True, barmode="group"
        ),
    }


def cost_breakdown(comparisons: list[CellComparison], chosen: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars per cell: local (hardware + electricity) next to the cloud options.

    Log scale: costs per run span several orders of magnitude between workloads."""
    x_local, x_cloud = [], []
    hardware, electricity, rental = [], [], []
    for comparison, options in zip(comparisons, chosen):
        x_local.append(f"{comparison.label} · local")
        hardware.append(comparison.local.hardware_usd)
        electricity.append(comparison.local.electricity_usd)
        for option in options:
            x_cloud.append(f"{comparison.label} · {option['label']} ({option['evidence']})")
            rental.append(option["on_demand_usd"])
    data = [
        {
            "type": "bar",
            "name": "hardware share (local)",
            "x": x_local,
            "y": hardware,
            "marker": {"color": COLORS["hardware"]},
        },
        {
            "type": "bar",
            "name": "electricity (local)",
            "x": x_local,
            "y": electricity,
            "marker": {"color": COLORS["electricity"]},
        },
        {
            "type": "bar",
            "name": "rental, on-demand",
            "x": x_cloud,
            "y": rental,
            "marker": {"color": COLORS["rental"]},
        },
    ]
    order = [
        label
        for c, options in zip(comparisons, chosen)
        for label in [f"{c.label} · local"] + [f"{c.label} · {o['label']} ({o['evidence']})" for o in options]
    ]
    layout = _layout(
        "Cost per run: local vs cloud (USD, log scale)",
        "USD per run",
        log=True,
        barmode="stack",
        height=640,
        xaxis={"categoryorder": "array", "categoryarray": order, "tickangle": -50, "automargin": True},
        legend={"orientation": "h", "y": 1.08},
    )
    layout["margin"]["b"] = 260
    return {"data": data, "layout": layout}


def _dropdown(labels: list[str], traces_per_label: int) -> list[dict[str, Any]]:
    buttons = []
    for index, label in enumerate(labels):
        visible = [i // traces_per_label == index for i in range(len(labels) * traces_per_label)]
        buttons.append({"label": label, "method": "update", "args": [{"visible": visible}]})
    return [{"buttons": buttons, "direction": "down", "x": 0, "y": 1.18, "xanchor": "left"}]


def cumulative(comparisons: list[CellComparison], machine: Any) -> dict[str, Any]:
    """Build (purchase + electricity) vs rent (cheapest cloud) month by month, per cell."""
    data, labels = [], []
    months = max(1, int(round(machine.lifetime_years * 12)))
    for c in comparisons:
        best = next((o for o in c.offers if o.on_demand_usd is not None), None)
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
    layout = _layout(
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
        best = next((o for o in c.offers if o.on_demand_usd is not None), None)
        visible = not labels
        labels.append(c.label)
        local = [
            cost.local_cost_per_run(
                c.seconds_per_run,
                c.energy_j_per_run,
                cost.hardware_usd_per_hour(
                    machine.price_usd, machine.residual_usd, machine.lifetime_years, h
                ),
                machine.electricity_usd_per_kwh,
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
    layout = _layout(
        "Sensitivity: local cost per run vs hours used per day",
        "USD per run",
        log=True,
        xaxis={"title": {"text": "hours of use per day"}},
        updatemenus=_dropdown(labels, 2) if labels else [],
    )
    return {"data": data, "layout": layout}


def scaling(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Data-parallel throughput and scaling efficiency against the number of ranks."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("world_size"):
            name = f"{_cell_name(row)} · {row['host']} {row['device']}"
            groups.setdefault(name, []).append(row)
    data = []
    for name, members in groups.items():
        members.sort(key=lambda r: r["world_size"])
        ranks = [r["world_size"] for r in members]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{name}: throughput",
                "x": ranks,
                "y": [r["items_per_s"] for r in members],
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "yaxis": "y2",
                "line": {"dash": "dot"},
                "name": f"{name}: scaling efficiency",
                "x": ranks,
                "y": [1.0 if r["world_size"] == 1 else r["scaling_efficiency"] for r in members],
            }
        )
    layout = _layout(
        "Data-parallel scaling (torchrun ranks)",
        "items per second",
        xaxis={"title": {"text": "ranks (world size)"}, "dtick": 1},
        yaxis2={"title": {"text": "efficiency"}, "overlaying": "y", "side": "right", "range": [0, 1.1]},
    )
    layout["margin"]["r"] = 80  # room for the efficiency axis
    return {"data": data, "layout": layout}
