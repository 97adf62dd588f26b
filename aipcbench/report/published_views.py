"""``aipcbench estimate --check --published`` and ``aipcbench estimate --model/--network``: the
estimator against published GPU measurements, and a configuration nobody ran here estimated
on every GPU, beside any published figure for exactly that configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.catalog.published_rows import PublishedRow
from aipcbench.cost.estimate import Demand, Target, estimate_step
from aipcbench.cost.published import published_constants, summary
from aipcbench.cost.published_serving import check_published
from aipcbench.errors import UserInputError
from aipcbench.report.formatters import as_csv, percent, safe_text, text_table


def _rate(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _figure_span(central: float, low: float, high: float) -> str:
    return f"{_rate(central)} ({_rate(low)}-{_rate(high)})"


def published_check(catalog: Catalog, output_format: str) -> int:
    """Each check row predicted leaving itself out; the median |error| and the share in range."""
    predictions = check_published(catalog)
    rows = [
        {
            "id": p.row.id,
            "device": p.row.device,
            "configuration": describe(p.row),
            "unit": p.row.figure_unit,
            "published": p.row.figure,
            "estimated": p.figure.central,
            "estimated_low": p.figure.low,
            "estimated_high": p.figure.high,
            "error": p.error,
            "in_range": p.inside,
            "bound": p.bound,
            "source": p.row.source,
        }
        for p in predictions
    ]
    if output_format == "csv":
        print(as_csv(rows), end="")
        return 0
    table = [("row", "GPU", "configuration", "published", "estimated (range)", "error", "in range", "bound")]
    for r in rows:
        estimated = _figure_span(r["estimated"], r["estimated_low"], r["estimated_high"])
        table.append(
            (
                r["id"],
                r["device"],
                r["configuration"],
                f"{_rate(r['published'])} {r['unit']}",
                estimated,
                percent(r["error"], 0),
                "yes" if r["in_range"] else "no",
                r["bound"],
            )
        )
    print("\n".join(text_table(table)))
    result = summary(predictions)
    print(result.sentence() if result else "nothing to check: no 'check' row in the published catalog")
    left = [r for r in catalog.published if r.use != "check"]
    if left:
        print(
            f"{len(left)} published rows kept as context, not modelled (catalog/data/published.csv says why)"
        )
    return 0


def describe(row: PublishedRow) -> str:
    """A published row's configuration in a few words."""
    if row.workload == "causal-lm":
        lengths = f"{row.prompt_tokens:g}+{row.new_tokens:g} tok"
        engine = f", {row.engine}" if row.served else ""
        return f"{row.model} b{row.batch:g} {lengths} {row.dtype} ({row.timed}{engine})"
    step = "train" if row.optimizer_step != "no" else "fwd+bwd"
    return f"{row.model} {step} b{row.batch:g} {row.image_size or 224:g}px {row.dtype}"


@dataclass(frozen=True)
class Counted:
    """A configuration's counted step (``run.demand``) and how to read its figure."""

    label: str
    demand: Demand
    items_per_step: float
    unit: str
    matches: tuple[str, ...]  # (model or network, batch, dtype, prompt, new, image, timed, optimizer)


def _same_configuration(row: PublishedRow, counted: Counted) -> bool:
    model, batch, dtype, prompt, new, image, timed, optimizer = counted.matches
    mine = (row.model, int(row.batch), row.dtype, int(row.prompt_tokens or 0), int(row.new_tokens or 0))
    if mine != (model, batch, dtype, prompt, new) or row.timed != timed:
        return False
    if timed == "train-step":
        return int(row.image_size or 224) == image and (row.optimizer_step != "no") == optimizer
    return True


def configuration_estimates(
    catalog: Catalog, counted: Counted, targets: tuple[str, ...], output_format: str
) -> int:
    """The counted configuration on every GPU (or ``targets``), with published figures beside."""
    specs = [catalog.spec(t) for t in targets] if targets else list(catalog.device_specs)
    if any(s is None for s in specs):
        unknown = [t for t, s in zip(targets, specs) if s is None]
        raise UserInputError(f"--target: unknown accelerator(s) {', '.join(unknown)}")
    published = {r.device: r for r in catalog.published if _same_configuration(r, counted)}
    rows = []
    for spec in specs:
        target = Target.from_spec(spec)
        constants = published_constants(catalog, target.device_class, counted.demand.dtype)
        estimate = estimate_step(counted.demand, target, constants) if constants else None
        if estimate is None:
            continue
        seconds, items = estimate.seconds, counted.items_per_step
        row = published.get(spec.key)
        rows.append(
            {
                "target": spec.key,
                "estimated": items / seconds.central,
                "estimated_low": items / seconds.high,
                "estimated_high": items / seconds.low,
                "unit": counted.unit,
                "bound": estimate.bound,
                "published": row.figure if row else None,
                "published_id": row.id if row else "",
                "basis": estimate.basis,
            }
        )
    if output_format == "csv":
        print(as_csv(rows), end="")
        return 0
    print(
        f"{counted.label}: {counted.unit}, estimated (evidence: estimate, calibrated on published GPU rows)"
    )
    table = [("target", f"{counted.unit} (range)", "bound", "published", "basis")]
    for r in rows:
        seen = f"{_rate(r['published'])} ({r['published_id']})" if r["published"] else "-"
        span = _figure_span(r["estimated"], r["estimated_low"], r["estimated_high"])
        table.append((r["target"], span, r["bound"], seen, safe_text(r["basis"])))
    print("\n".join(text_table(table)))
    return 0
