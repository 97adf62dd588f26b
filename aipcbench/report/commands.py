"""The ``cost``, ``tokens`` and ``report`` commands, and the report that ends ``aipcbench run``:
load the results (a bad file or record is skipped with one line), price them, lay them out."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from aipcbench.catalog import Catalog, load_catalog
from aipcbench.config import CostConfig, PricingConfig, ReportConfig, RunConfig
from aipcbench.cost.advise import Advice, advise, candidates
from aipcbench.errors import StorageError, UserInputError
from aipcbench.files import check_output_path
from aipcbench.report import cost_views, decision_views, fit_views, serving_views, token_views
from aipcbench.report.formatters import as_csv, safe_text
from aipcbench.results.store import ResultsDocument, discover, load, load_many

DEFAULT_REPORT = Path("reports") / "aipcbench-report.html"


def warn(message: str) -> None:
    print(f"aipcbench: warning: {safe_text(message)}", file=sys.stderr)


def load_results(paths: tuple[Path, ...]) -> list[ResultsDocument]:
    """Every usable results file named (or under results/); a line for each file or record
    skipped; a one-line error when none is left."""
    documents, warnings = load_many(discover(list(paths)))
    for warning in warnings:
        warn(warning)
    if not documents:
        where = ", ".join(map(str, paths)) or "results/"
        raise UserInputError(f"no usable results files in {where} (run `aipcbench run` first)")
    return documents


def priced(pricing: PricingConfig) -> tuple[list[ResultsDocument], Advice]:
    """Results (warning on bad files and records), catalog, candidates and plan, decided."""
    catalog = load_catalog(pricing.catalog_files)
    candidates(pricing, catalog)  # every profile checked before any results file is read
    documents = load_results(pricing.results)
    advice = advise(documents, catalog, pricing)
    for note in advice.notes:
        warn(note)
    return documents, advice


def cost_command(config: CostConfig) -> int:
    _, advice = priced(config.pricing)
    machine, comparisons = advice.machine, advice.comparisons
    if config.format == "table" and advice.decision is not None:
        print(decision_views.text(advice.decision))
        print()
    if config.format == "table":
        for answer in advice.serving:
            print(serving_views.decision_text(answer))
            print()
        for training in advice.training:
            print("\n".join(safe_text(line) for line in training.lines()))
            print()
        if not comparisons:
            return 0
    if config.format == "json":
        print(cost_views.as_json(comparisons, machine))
    elif config.format == "csv":
        print(as_csv(cost_views.flat_rows(comparisons)), end="")
    else:
        print(
            safe_text(
                f"Local machine: {machine.name}: ${machine.price_usd:,.0f} over "
                f"{machine.lifetime_years:g} years at {machine.hours_per_day:g} h/day, "
                f"electricity ${machine.electricity_usd_per_kwh:.3f}/kWh ({machine.electricity_source})"
            )
        )
        for assumption in machine.assumptions:
            print(f"  assumption: {safe_text(assumption)}")
        print()
        print(cost_views.text_report(comparisons, config.all_offers))
    return 0


def tokens_command(pricing, output_format: str) -> int:
    from aipcbench.cost.serving import serving_prices

    documents, advice = priced(pricing)
    catalog = load_catalog(pricing.catalog_files)
    costs = token_views.all_token_costs(advice.comparisons, catalog, advice.machine.name)
    records = [record for document in documents for record in document.serving if record.status == "ok"]
    serving = [p for p in (serving_prices(r, catalog, list(advice.candidates)) for r in records) if p]
    if output_format == "csv":
        print(as_csv(token_views.rows(costs)), end="")
    else:
        if costs or not serving:
            print(token_views.text(costs))
        if serving:
            print(("\n" if costs else "") + token_views.serving_text(serving))
    return 0


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def language_model_rows(comparisons, catalog: Catalog, machine_name: str) -> tuple[list, list]:
    """The report's language-model tables: $ per million tokens, and does it fit."""
    tokens = token_views.rows(token_views.all_token_costs(comparisons, catalog, machine_name))
    return tokens, fit_views.fit_rows(comparisons, catalog)


def serving_section(documents, catalog: Catalog, machines, decisions=()) -> dict:
    """The report's serving section: every serving record, priced at its target."""
    from aipcbench.cost.serving import serving_prices
    from aipcbench.report.serving_page import serve_plan_rows, serving_figure, serving_rows

    records = [record for document in documents for record in document.serving]
    ok = [record for record in records if record.status == "ok"]
    prices = [p for p in (serving_prices(r, catalog, list(machines)) for r in ok) if p]
    return {
        "rows": serving_rows(records, prices),
        "figure": serving_figure(records),
        "plan": serve_plan_rows(list(decisions)),
    }


def render(documents, comparisons, machine, out: Path, decision=None, catalog=None, advice=None) -> Path:
    from aipcbench.report.context import build_context
    from aipcbench.report.render import write_report
    from aipcbench.report.training_views import training_sections

    catalog = catalog or load_catalog()
    tokens, fits = language_model_rows(comparisons, catalog, machine.name)
    machines = advice.candidates if advice else (machine,)
    serving = serving_section(documents, catalog, machines, advice.serving if advice else ())
    context = build_context(documents, comparisons, machine, _now(), decision, tokens, fits, serving)
    context["estimator_error"] = estimator_error(catalog)
    context["training"] = training_sections(advice.training if advice else ())
    try:
        return write_report(context, out)
    except OSError as exc:
        raise StorageError(f"cannot write the report '{out}': {exc.strerror or exc}") from None


def estimator_error(catalog: Catalog) -> str:
    """The GPU estimator's measured error (leave-one-out on the published rows), shown beside
    every estimated figure; empty when the catalog has no check rows."""
    from aipcbench.cost.published import summary
    from aipcbench.cost.published_serving import check_published

    result = summary(check_published(catalog))
    return f"GPU estimates: {result.sentence()}; `aipcbench estimate --check --published`" if result else ""


def report_path(out: Path | None, inputs: list[Path], flag: str = "--out") -> Path:
    """The report's target: --out (checked: never an input, a directory, device or FIFO) or
    reports/aipcbench-report.html; the same rules for --pdf."""
    if out is None:
        return check_output_path(DEFAULT_REPORT, flag, inputs)
    if ".." in out.parts or out.name.startswith("."):
        raise UserInputError(f"{flag}: refusing the path {str(out)!r} (no '..' or hidden names)")
    return check_output_path(out, flag, inputs)


def report_command(config: ReportConfig) -> int:
    pricing = config.pricing
    inputs = [*discover(list(pricing.results)), *pricing.input_files()]
    out = report_path(config.out, inputs) if config.format == "html" else None
    if config.pdf is not None and out is None:
        raise UserInputError("--pdf prints the HTML page: not with --format md, csv or json")
    pdf = report_path(config.pdf, inputs, "--pdf") if config.pdf is not None else None
    if pdf is not None and pdf.resolve() == out.resolve():
        raise UserInputError("--pdf: the PDF needs a name of its own, not the HTML page's")
    documents, advice = priced(pricing)
    machine, comparisons = advice.machine, advice.comparisons
    if out is None:
        from aipcbench.report.context import build_context
        from aipcbench.report.plain import render_plain

        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        print(render_plain(build_context(documents, comparisons, machine, now), config.format), end="")
        return 0
    catalog = load_catalog(config.pricing.catalog_files)
    print(f"report: {render(documents, comparisons, machine, out, advice.decision, catalog, advice)}")
    if pdf is not None:
        from aipcbench.report.pdf import print_to_pdf

        print(f"pdf: {print_to_pdf(out, pdf)}")
    return 0


def report_for_run(
    results_path: Path,
    config: RunConfig,
    catalog: Catalog,
    say: Callable[[str], None],
) -> tuple[Path, str]:
    """The report of a finished run and its one-sentence answer, priced with the reference and
    cloud results beside it and decided like ``report`` (the run's --machine, the default plan),
    in the run's report folder."""
    shipped = [
        *(config.results_dir / "reference").glob("*.json"),
        *(config.results_dir / "cloud").glob("*.json"),
    ]
    references, warnings = load_many(sorted(shipped))
    for warning in warnings:
        say(f"warning: {safe_text(warning)}")
    documents = [*references, load(results_path)]
    pricing = PricingConfig(
        catalog_files=config.catalog_files,
        machine_file=config.machine_file,
        machine_values={"country": config.country} if config.country else {},
    )
    advice = advise(documents, catalog, pricing)
    name = results_path.name.replace("run-", "report-").replace(".json", ".html")
    out = check_output_path(config.report_dir / name, "--report-dir")
    path = render(documents, advice.comparisons, advice.machine, out, advice.decision, catalog, advice)
    return path, advice.decision.sentence if advice.decision else ""
