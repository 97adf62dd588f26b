"""``aipcbench estimate``: run times on hardware that was not measured, and how good they are.

Without ``--check``: every measured cell of the local host on every catalog accelerator (or the
ones named with ``--target``), central time per run, range and bound. With ``--check``: every
measured cell predicted from its counts on the device that measured it, calibrated only by the
*other* devices' results, against what was measured: the estimator's error, per cell and its
median, as a measured figure.
"""

from __future__ import annotations

import statistics

from aipcbench.catalog import load_catalog
from aipcbench.config import EstimateConfig
from aipcbench.cost.estimate import Target
from aipcbench.cost.evidence import estimate_on, measured_cells, observations
from aipcbench.errors import UserInputError
from aipcbench.report.commands import load_results
from aipcbench.report.formatters import as_csv, duration, percent, safe_text, text_table


def _span(central, low, high) -> str:
    return f"{duration(central)} ({duration(low)}-{duration(high)})"


def check_rows(documents, catalog) -> list[dict]:
    """Each measured cell predicted without its own device's results."""
    measured = measured_cells(documents, catalog)
    seen = observations(measured, catalog)
    rows = []
    for cell in measured:
        if cell.target is None or cell.record.world_size or cell.record.demand is None:
            continue
        evidence = estimate_on(cell, cell.target, catalog, seen, exclude=cell.where)
        if evidence.seconds_per_run is None:
            continue
        rows.append(
            {
                "cell": f"{cell.record.workload}:{cell.record.size} {cell.record.dtype}",
                "device": f"{cell.device_name or cell.record.device} ({cell.host})",
                "measured_s": cell.seconds,
                "estimated_s": evidence.seconds_per_run,
                "estimated_low_s": evidence.seconds_low,
                "estimated_high_s": evidence.seconds_high,
                "error": evidence.seconds_per_run / cell.seconds - 1,
                "in_range": evidence.seconds_low <= cell.seconds <= evidence.seconds_high,
                "bound": evidence.bound,
                "method": evidence.method,
            }
        )
    return rows


def estimate_rows(documents, catalog, targets: tuple[str, ...]) -> list[dict]:
    measured = measured_cells(documents, catalog)
    seen = observations(measured, catalog)
    local_host = documents[-1].host
    specs = [catalog.spec(key) for key in targets] if targets else list(catalog.device_specs)
    unknown = [key for key, spec in zip(targets, specs) if spec is None]
    if unknown:
        valid = ", ".join(s.key for s in catalog.device_specs)
        raise UserInputError(f"--target: unknown accelerator '{unknown[0]}' (valid: {valid})")
    rows = []
    for cell in measured:
        if cell.host != local_host:
            continue
        for spec in specs:
            evidence = estimate_on(cell, Target.from_spec(spec), catalog, seen)
            rows.append(
                {
                    "cell": f"{cell.record.workload}:{cell.record.size} {cell.record.dtype}",
                    "target": spec.key,
                    "seconds_per_run": evidence.seconds_per_run,
                    "seconds_low": evidence.seconds_low,
                    "seconds_high": evidence.seconds_high,
                    "bound": evidence.bound,
                    "method": evidence.method,
                    "basis": evidence.basis,
                }
            )
    return rows


def estimate_command(config: EstimateConfig) -> int:
    catalog = load_catalog(config.catalog_files)
    documents = load_results(config.results)
    if config.check:
        rows = check_rows(documents, catalog)
        if config.format == "csv":
            print(as_csv(rows), end="")
            return 0
        table = [
            ("cell", "measured on", "measured/run", "estimated/run (range)", "error", "in range", "bound")
        ]
        for r in rows:
            estimated = _span(r["estimated_s"], r["estimated_low_s"], r["estimated_high_s"])
            table.append(
                (
                    r["cell"],
                    r["device"],
                    duration(r["measured_s"]),
                    estimated,
                    percent(r["error"], 0),
                    "yes" if r["in_range"] else "no",
                    r["bound"],
                )
            )
        print("\n".join(text_table(table)))
        if rows:
            median = statistics.median(abs(r["error"]) for r in rows)
            inside = sum(r["in_range"] for r in rows)
            count = len(rows)
            print(f"median |error| {median:.0%} over {count} cells; inside the range: {inside}/{count}")
        else:
            print(
                "nothing to check: no measured cell with op and byte counts on a device with a spec or peaks"
            )
        return 0
    rows = estimate_rows(documents, catalog, config.targets)
    if config.format == "csv":
        print(as_csv(rows), end="")
        return 0
    table = [("cell", "target", "time/run (range)", "bound", "evidence", "basis")]
    for r in rows:
        time_text = (
            _span(r["seconds_per_run"], r["seconds_low"], r["seconds_high"])
            if r["seconds_per_run"] is not None
            else "-"
        )
        table.append((r["cell"], r["target"], time_text, r["bound"], r["method"], safe_text(r["basis"])))
    print("\n".join(text_table(table)))
    return 0
