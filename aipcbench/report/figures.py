"""Plotly figures of what was measured (throughput, step times, utilisation, energy, scaling),
as plain dicts (``{"data": [...], "layout": {...}}``), drawn in the page.

Plain dicts rather than plotly's Python objects: they are cheap to build for thousands of
records, trivially JSON, and the tests read the numbers straight out of them.
"""

from __future__ import annotations

from typing import Any

from aipcbench.units import J_PER_WH

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


def base_layout(title: str, y_title: str, log: bool = False, **extra: Any) -> dict[str, Any]:
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
    """Items per second per cell, one trace per unit and host/device, one unit on the axis at a
    time (a menu switches between images/s, tokens/s, samples/s...: they are not comparable)."""
    traces: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row["status"] != "ok" or row["items_per_s"] is None:
            continue
        name = f"{row['host']} {row['device']}"
        trace = traces.setdefault(
            (row["item_unit"], name),
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
    units = sorted({unit for unit, _ in traces})
    data = []
    for (unit, _), trace in sorted(traces.items()):
        trace["visible"] = unit == units[0]
        data.append(trace)
    buttons = [
        {
            "label": f"{unit} per second",
            "method": "update",
            "args": [
                {"visible": [u == unit for u, _ in sorted(traces)]},
                {"yaxis.title.text": f"{unit} per second"},
            ],
        }
        for unit in units
    ]
    layout = base_layout(
        "Throughput (measured)",
        f"{units[0]} per second" if units else "per second",
        log=True,
        barmode="group",
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 0, "y": 1.18, "xanchor": "left"}]
        if units
        else [],
    )
    return {"data": data, "layout": layout}


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
        "layout": base_layout("Step time distribution (measured, per step)", "milliseconds", log=True),
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
        "layout": base_layout("Achieved FLOP/s as % of the device's peak", "% of peak", barmode="group"),
    }


def energy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    traces: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["energy_j_per_run"] is None:
            continue
        name = row["energy_method"] or "unknown"
        trace = traces.setdefault(name, {"type": "bar", "name": name, "x": [], "y": []})
        trace["x"].append(f"{_cell_name(row)} · {row['host']} {row['device']}")
        trace["y"].append(row["energy_j_per_run"] / J_PER_WH)
    return {
        "data": list(traces.values()),
        "layout": base_layout(
            "Energy per run (Wh; method in the legend)", "Wh per run", log=True, barmode="group"
        ),
    }


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
    layout = base_layout(
        "Data-parallel scaling (torchrun ranks)",
        "items per second",
        xaxis={"title": {"text": "ranks (world size)"}, "dtick": 1},
        yaxis2={"title": {"text": "efficiency"}, "overlaying": "y", "side": "right", "range": [0, 1.1]},
    )
    layout["margin"]["r"] = 80  # room for the efficiency axis
    return {"data": data, "layout": layout}
