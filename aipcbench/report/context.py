"""Everything the report shows, computed here as plain data (no HTML, no torch).

``build_context`` is pure: the same results, catalog and machine give the same numbers, and
the tests compare them with what the cost and results code computes directly.
"""

from __future__ import annotations

from typing import Any

from aipcbench.cost.compare import CellComparison
from aipcbench.report import cost_figures, figures
from aipcbench.report.captions import figure_notes
from aipcbench.report.compression_views import compression_rows
from aipcbench.report.cost_views import break_even_text
from aipcbench.report.formatters import provenance
from aipcbench.results.store import ResultsDocument

FAMILIES = ("H100-SXM",)  # a reference GPU drawn next to the cheapest offers in the cost chart


def record_rows(documents: list[ResultsDocument]) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """One row per record of every file (the same cell measured twice stays two rows)."""
    rows, samples = [], {}
    for document in documents:
        for index, record in enumerate(document.records):
            step, run = record.step_time, record.run
            flops, memory, energy = record.flops, record.memory, record.energy
            row_id = f"{document.run_id}#{index}"
            rows.append(
                {
                    "id": row_id,
                    "host": document.host,
                    "run_id": document.run_id,
                    "device": record.device,
                    "device_name": document.device_name(record.device),
                    "workload": record.workload,
                    "size": record.size,
                    "dtype": record.dtype,
                    "status": record.status,
                    "reason": record.reason,
                    "mode": record.mode,
                    "median_s": step.median_s if step else None,
                    "cv": step.cv if step else None,
                    "n": step.n if step else None,
                    "items_per_s": record.throughput.items_per_s if record.throughput else None,
                    "item_unit": record.workload_facts.item_unit if record.workload_facts else "items",
                    "achieved_flops": flops.achieved_flop_per_s if flops else None,
                    "mfu_rated": flops.mfu_rated if flops else None,
                    "mfu_measured": flops.mfu_measured if flops else None,
                    "peak_memory_bytes": memory.peak_bytes if memory else None,
                    "peak_memory_method": memory.method if memory else None,
                    "energy_j_per_run": record.energy_per_run_j,
                    "energy_method": record.energy_method,
                    "co2e_g_per_run": energy.co2e_g_per_run if energy else None,
                    "seconds_per_run": run.time_s if run else None,
                    "run_description": run.description if run else "",
                    "data_source": record.workload_facts.data_source if record.workload_facts else None,
                    "weights_source": record.weights_source,
                    "provenance": provenance(record) if record.status == "ok" else [],
                    "world_size": record.world_size or None,
                    "scaling_efficiency": (
                        record.data_parallel.scaling_efficiency if record.data_parallel else None
                    ),
                    "valid_run": record.valid_run,
                }
            )
            if record.timing and record.timing.samples_s:
                samples[row_id] = list(record.timing.samples_s)
    return rows, samples


def _text(value: Any) -> str | None:
    """A scalar from a results file's free-form environment, as text (None if absent)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def environments(documents: list[ResultsDocument]) -> list[dict[str, Any]]:
    """What each results file was measured on; any field of the wrong type shows as absent."""
    out = []
    for document in documents:
        env = document.environment
        versions, git = _object(env.get("versions")), _object(env.get("git"))
        listed = env.get("devices")
        devices = [_object(d) for d in listed] if isinstance(listed, list) else []
        command = env.get("command") if isinstance(env.get("command"), list) else []
        dirty = " (dirty)" if git.get("dirty") is True else ""
        out.append(
            {
                "host": document.host,
                "run_id": document.run_id,
                "started_at": _text(env.get("started_at")),
                "os": _text(env.get("os")),
                "python": _text(env.get("python")),
                "torch": _text(versions.get("torch")),
                "cuda": _text(versions.get("cuda")),
                "aipcbench": _text(env.get("aipcbench")),
                "git": (_text(git.get("commit")) or "?")[:10] + dirty,
                "devices": [f"{_text(d.get('id'))}: {_text(d.get('name'))}" for d in devices],
                "command": " ".join(str(part) for part in command),
                "complete": document.complete,
                "file": str(document.path),
            }
        )
    return out


def chosen_cloud_options(comparison: CellComparison) -> list[dict[str, Any]]:
    """The best few options for the cost chart: the three cheapest priced offers, then the
    cheapest of each headline GPU family not among them (the rest are in the table)."""
    priced = [o for o in comparison.offers if o.on_demand_usd is not None]
    picks = priced[:3] + [next((o for o in priced if o.accelerator == f), None) for f in FAMILIES]
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
        best = c.cheapest_offer
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
                "cloud_time_low_s": best.evidence.seconds_low if best else None,
                "cloud_time_high_s": best.evidence.seconds_high if best else None,
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
                        "time_low_s": o.evidence.seconds_low,
                        "time_high_s": o.evidence.seconds_high,
                        "usd_low": o.on_demand_usd_low,
                        "usd_high": o.on_demand_usd_high,
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


def _shown(rows: list[dict[str, Any]], limit: int = 12) -> list[dict[str, Any]]:
    """The first ``limit`` options, and the cheapest quoted reservation if it is not among them."""
    return rows[:limit] + [r for r in rows[limit:] if r["reserved"]][:1]


def decision_context(decision: Any) -> dict[str, Any] | None:
    """The decision's sentence, its options and the monthly cost against plan scale."""
    if decision is None:
        return None
    from aipcbench.report.decision_views import (
        mix_line,
        option_rows,
        present_value_line,
        range_line,
        rent_terms_of,
    )

    terms = rent_terms_of(decision)
    return {
        "sentence": decision.sentence,
        "range": range_line(decision),
        "rent_terms": terms.describe() if terms else "",
        "present_value": present_value_line(decision),
        "mix": mix_line(decision),
        "rent_assumptions": list(terms.assumed) if terms else [],
        "robust": decision.robust,
        "plan": decision.plan.source,
        "items": [{"cell": i.label, "runs_per_month": i.runs_per_month} for i in decision.plan.items],
        "options": _shown(option_rows(decision)),
        "break_even_scale": decision.break_even_scale,
    }


def machine_context(machine: Any) -> dict[str, Any]:
    """The local machine's economics as the page shows them, assumptions listed."""
    return {
        "name": machine.name,
        "price_usd": machine.price_usd,
        "lifetime_years": machine.lifetime_years,
        "residual_usd": machine.residual_usd,
        "hours_per_day": machine.hours_per_day,
        "electricity_usd_per_kwh": machine.electricity_usd_per_kwh,
        "electricity_source": machine.electricity_source,
        "assumptions": list(machine.assumptions),
    }


def build_context(
    documents: list[ResultsDocument],
    comparisons: list[CellComparison],
    machine: Any,
    generated_at: str,
    decision: Any = None,
    token_rows: list[dict[str, Any]] | None = None,
    fit_rows: list[dict[str, Any]] | None = None,
    serving: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``serving``: the serving section (``report.serving_page``): rows, figure and plan answers."""
    rows, samples = record_rows(documents)
    ok_rows = [r for r in rows if r["status"] == "ok"]
    chosen = [chosen_cloud_options(c) for c in comparisons]
    context = {
        "generated_at": generated_at,
        "hosts": sorted({r["host"] for r in rows}),
        "machine": machine_context(machine),
        "headline": headline(comparisons),
        "records": rows,
        "failures": [r for r in rows if r["status"] != "ok" or not r["valid_run"]],
        "environments": environments(documents),
        "cost_tables": cost_tables(comparisons),
        "tokens": token_rows or [],
        "fit": fit_rows or [],
        "compression": compression_rows(documents),
        "figures": {
            "throughput": figures.throughput(ok_rows),
            "step_times": figures.step_times(ok_rows, samples),
            "utilisation": figures.utilisation(ok_rows),
            "energy": figures.energy(ok_rows),
            "cost": cost_figures.cost_breakdown(comparisons, chosen),
            "cumulative": cost_figures.cumulative(comparisons, machine),
            "sensitivity": cost_figures.sensitivity(comparisons, machine),
            "scaling": figures.scaling(ok_rows),
            **({"crossing": cost_figures.crossing(decision)} if decision is not None else {}),
            **(
                {"tornado": cost_figures.tornado(decision)}
                if decision is not None and decision.swings
                else {}
            ),
            **({"serving": serving["figure"]} if serving and serving.get("rows") else {}),
        },
        "estimator_error": "",  # report.commands.estimator_error fills it where a catalog is at hand
        "serving": (serving or {}).get("rows", []),
        "serve_plan": (serving or {}).get("plan", []),
        "training": [],  # report.training_views: filled where the plan has training items
        "decision": decision_context(decision),
        "synthetic": any(r["data_source"] == "synthetic" for r in ok_rows),
        "random_weights": any(r["weights_source"] == "random-init" for r in ok_rows),
    }
    context["figure_notes"] = figure_notes(context["figures"], decision, comparisons, ok_rows)
    return context
