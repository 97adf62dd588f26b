"""Everything the report shows, computed here as plain data (no HTML, no torch).

``build_context`` is pure: the same results, catalog and machine give the same numbers, and
the tests compare them with what the cost and results code computes directly.
"""

from __future__ import annotations

from typing import Any

from aipcbench.costtable import break_even_text
from aipcbench.pricing import CellComparison
from aipcbench.report import figures
from aipcbench.results import ResultsDocument

FAMILIES = ("H100-SXM", "A100-80GB", "L4")  # cloud options drawn next to local in the cost chart


def provenance(record: dict[str, Any]) -> list[str]:
    """How this row's figures were obtained, in words a reader can check."""
    labels = ["measured"]
    if (record.get("run") or {}).get("method") == "extrapolated":
        labels.append("time per run extrapolated")
    if record.get("energy_method") == "estimate-tdp":
        labels.append("energy estimated")
    elif record.get("energy_method"):
        labels.append(f"energy measured ({record['energy_method']})")
    if record.get("data_source") == "synthetic":
        labels.append("synthetic data")
    if record.get("weights_source") == "random-init":
        labels.append("random weights")
    quality = record.get("quality")
    if quality and not quality.get("valid_run"):
        labels.append("NOT A VALID RUN (loss did not fall)")
    return labels


def record_rows(documents: list[ResultsDocument]) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """One row per record of every file (the same cell measured twice stays two rows)."""
    rows, samples = [], {}
    for document in documents:
        host = document.environment.get("host", "?")
        run_id = document.data.get("run_id", "")
        names = {d.get("id"): d.get("name", "") for d in document.environment.get("devices", [])}
        for index, record in enumerate(document.records):
            summary = record.get("summary") or {}
            run = record.get("run") or {}
            row_id = f"{run_id}#{index}"
            rows.append(
                {
                    "id": row_id,
                    "host": host,
                    "run_id": run_id,
                    "device": record["device"],
                    "device_name": names.get(record["device"], ""),
                    "workload": record["workload"],
                    "size": record["size"],
                    "dtype": record["dtype"],
                    "status": record["status"],
                    "reason": record.get("reason", ""),
                    "mode": record.get("mode"),
                    "median_s": summary.get("median"),
                    "cv": summary.get("cv"),
                    "n": summary.get("n"),
                    "items_per_s": (record.get("throughput") or {}).get("items_per_s"),
                    "item_unit": record.get("item_unit", "items"),
                    "achieved_flops": record.get("achieved_flops"),
                    "mfu_rated": record.get("mfu_rated"),
                    "mfu_measured": record.get("mfu_measured"),
                    "peak_memory_bytes": record.get("peak_memory_bytes"),
                    "peak_memory_method": record.get("peak_memory_method"),
                    "energy_j_per_run": record.get("energy_j_per_run"),
                    "energy_method": record.get("energy_method"),
                    "co2e_g_per_run": record.get("co2e_g_per_run"),
                    "seconds_per_run": run.get("seconds_per_run"),
                    "run_description": run.get("description", ""),
                    "data_source": record.get("data_source"),
                    "weights_source": record.get("weights_source"),
                    "provenance": provenance(record) if record["status"] == "ok" else [],
                    "world_size": record.get("world_size"),
                    "scaling_efficiency": record.get("scaling_efficiency"),
                    "valid_run": not record.get("quality") or bool(record["quality"].get("valid_run")),
                }
            )
            timed = (record.get("timing") or {}).get("samples_s")
            if timed:
                samples[row_id] = timed
    return rows, samples


def environments(documents: list[ResultsDocument]) -> list[dict[str, Any]]:
    out = []
    for document in documents:
        env = document.environment
        versions = env.get("versions") or {}
        git = env.get("git") or {}
        out.append(
            {
                "host": env.get("host"),
                "run_id": document.data.get("run_id"),
                "started_at": env.get("started_at"),
                "os": env.get("os"),
                "python": env.get("python"),
                "torch": versions.get("torch"),
                "cuda": versions.get("cuda"),
                "aipcbench": env.get("aipcbench"),
                "git": f"{(git.get('commit') or '?')[:10]}{' (dirty)' if git.get('dirty') else ''}",
                "devices": [f"{d.get('id')}: {d.get('name')}" for d in env.get("devices", [])],
                "command": " ".join(env.get("command") or []),
                "complete": document.data.get("complete"),
                "file": str(document.path),
            }
        )
    return out


def chosen_cloud_options(comparison: CellComparison) -> list[dict[str, Any]]:
    """The cheapest priced offer overall and the cheapest of each headline GPU family."""
    priced = [o for o in comparison.offers if o.on_demand_usd is not None]
    picks = priced[:1] + [next((o for o in priced if o.accelerator == f), None) for f in FAMILIES]
    out, seen = [], set()
    for offer in picks:
        if offer is None or (offer.provider, offer.instance_type) in seen:
            continue
        seen.add((offer.provider, offer.instance_type))
        out.append(
            {
                "label": f"{offer.provider} {offer.instance_type}",
                "on_demand_usd": offer.on_demand_usd,
                "spot_usd": offer.spot_usd,
                "evidence": offer.evidence.method,
            }
        )
    return out


def headline(comparisons: list[CellComparison]) -> list[dict[str, Any]]:
    rows = []
    for c in comparisons:
        best = next((o for o in c.offers if o.on_demand_usd is not None), None)
        rows.append(
            {
                "cell": c.label,
                "run": c.run_description,
                "valid": c.valid_run,
                "local_usd": c.local.total_usd,
                "local_time_s": c.seconds_per_run,
                "device": f"{c.device_name or c.device} ({c.host})",
                "cloud": f"{best.provider} {best.instance_type}" if best else None,
                "cloud_usd": best.on_demand_usd if best else None,
                "cloud_evidence": best.evidence.method if best else None,
                "cloud_time_s": best.evidence.seconds_per_run if best else None,
                "cheapest": c.cheapest,
                "cheapest_usd": c.cheapest_usd,
                "break_even": break_even_text(c),
                "notes": list(c.notes),
                "data_source": c.data_source,
            }
        )
    return rows


def cost_tables(comparisons: list[CellComparison], limit: int = 15) -> list[dict[str, Any]]:
    tables = []
    for c in comparisons:
        priced = [o for o in c.offers if o.on_demand_usd is not None]
        tables.append(
            {
                "cell": c.label,
                "rows": [
                    {
                        "provider": o.provider,
                        "instance": o.instance_type,
                        "region": o.region,
                        "gpus": f"{o.gpu_count}x {o.accelerator}",
                        "evidence": o.evidence.method,
                        "time_s": o.evidence.seconds_per_run,
                        "on_demand_usd": o.on_demand_usd,
                        "spot_usd": o.spot_usd,
                        "usd_per_hour": o.usd_per_hour,
                        "basis": o.evidence.basis,
                        "source": f"{o.source} ({o.as_of})",
                    }
                    for o in priced[:limit]
                ],
                "not_priced": len(c.offers) - len(priced),
                "shown": min(limit, len(priced)),
            }
        )
    return tables


def build_context(
    documents: list[ResultsDocument], comparisons: list[CellComparison], machine: Any, generated_at: str
) -> dict[str, Any]:
    rows, samples = record_rows(documents)
    ok_rows = [r for r in rows if r["status"] == "ok"]
    chosen = [chosen_cloud_options(c) for c in comparisons]
    return {
        "generated_at": generated_at,
        "hosts": sorted({r["host"] for r in rows}),
        "machine": {
            "name": machine.name,
            "price_usd": machine.price_usd,
            "lifetime_years": machine.lifetime_years,
            "residual_usd": machine.residual_usd,
            "hours_per_day": machine.hours_per_day,
            "electricity_usd_per_kwh": machine.electricity_usd_per_kwh,
            "electricity_source": machine.electricity_source,
            "assumptions": list(machine.assumptions),
        },
        "headline": headline(comparisons),
        "records": rows,
        "failures": [r for r in rows if r["status"] != "ok" or not r["valid_run"]],
        "environments": environments(documents),
        "cost_tables": cost_tables(comparisons),
        "figures": {
            "throughput": figures.throughput(ok_rows),
            "step_times": figures.step_times(ok_rows, samples),
            "utilisation": figures.utilisation(ok_rows),
            "energy": figures.energy(ok_rows),
            "cost": figures.cost_breakdown(comparisons, chosen),
            "cumulative": figures.cumulative(comparisons, machine),
            "sensitivity": figures.sensitivity(comparisons, machine),
            "scaling": figures.scaling(ok_rows),
        },
        "synthetic": any(r["data_source"] == "synthetic" for r in ok_rows),
        "random_weights": any(r["weights_source"] == "random-init" for r in ok_rows),
    }
