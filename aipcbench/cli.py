"""The command line: parse, validate, hand over, and turn every project error into one line.

Exit codes: 0 everything ok; 1 some cells failed (their records are still written); 2 bad input
(flag, value, path or file); 130 interrupted (finished cells are kept).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from aipcbench import __version__
from aipcbench.errors import AipcbenchError, Interrupted, UserInputError


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage, so every error is one line."""

    def error(self, message: str):  # type: ignore[override]
        raise UserInputError(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _add_catalog_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="catalog CSV (or SkyPilot vms.csv) adding or replacing rows",
    )
    parser.add_argument("--country", help="region for grid carbon intensity and electricity")


def _add_results_and_machine(parser: argparse.ArgumentParser) -> None:
    """What `cost` and `report` both read: results files and the local machine's economics."""
    parser.add_argument(
        "results",
        nargs="*",
        type=Path,
        help="results files or folders (default: results/ and results/reference/)",
    )
    _add_machine_flags(parser)


def _add_machine_flags(parser: argparse.ArgumentParser) -> None:
    _add_catalog_flags(parser)
    parser.add_argument("--machine", type=Path, metavar="FILE", help="local machine profile (TOML)")
    parser.add_argument("--preset", help="local hardware preset from the catalog")
    parser.add_argument("--price", type=_positive_float, dest="price_usd", help="purchase price, USD")
    parser.add_argument("--lifetime-years", type=_positive_float, dest="lifetime_years")
    parser.add_argument("--residual", type=float, dest="residual_usd", help="resale value, USD")
    parser.add_argument("--hours-per-day", type=_positive_float, dest="hours_per_day")
    parser.add_argument(
        "--electricity-price",
        type=float,
        dest="electricity_usd_per_kwh",
        help="USD per kWh (default: the region's average)",
    )
    parser.add_argument("--local-host", help="host whose results are 'local' (default: newest)")
    parser.add_argument(
        "--startup-s", type=float, default=0.0, help="cloud instance start-up seconds billed per run"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aipcbench", description="Benchmark AI workloads; price build vs rent.")
    parser.add_argument("--version", action="version", version=f"aipcbench {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = commands.add_parser("run", help="time workloads on every device, write a results file")
    run.add_argument("--devices", help="comma-separated device ids (default: all detected)")
    run.add_argument("--workloads", help="comma-separated names, NAME:SIZE for one size")
    run.add_argument("--dtype", default="fp32", help="comma-separated: fp32, bf16, fp16")
    speed = run.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="short timing windows (default)")
    speed.add_argument("--full", action="store_true", help="long timing windows, full sizes")
    run.add_argument("--timeout", type=_positive_float, help="seconds per cell before it is killed")
    run.add_argument("--results-dir", type=Path, default=Path("results"))
    run.add_argument("--data-dir", type=Path, help="where data sets and model weights are looked for")
    run.add_argument("--compile", action="store_true", help="torch.compile the models")
    run.add_argument("--channels-last", action="store_true", help="NHWC layout for conv nets")
    run.add_argument(
        "--gpt2-decode",
        choices=("lean", "generate"),
        default="lean",
        help="GPT-2 decode loop: aipcbench's lean loop or transformers.generate",
    )
    run.add_argument(
        "--keep-denormals",
        action="store_true",
        help="keep IEEE denormal floats on the CPU (default: flush to zero, as tuned training does)",
    )
    run.add_argument("--warmup", type=int, dest="warmup_steps", help="warm-up steps")
    run.add_argument("--min-steps", type=int, dest="min_steps", help="minimum timed steps")
    run.add_argument("--min-time", type=float, dest="min_time_s", help="minimum timed seconds")
    run.add_argument("--max-time", type=float, dest="max_time_s", help="cap on timed seconds")
    run.add_argument("--max-steps", type=int, dest="max_steps", help="cap on timed steps")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first; it may register workloads",
    )
    _add_catalog_flags(run)
    run.add_argument(
        "--cpu-watts", type=_positive_float, help="rated CPU power for energy estimates (no RAPL)"
    )
    run.add_argument(
        "--gpu-watts", type=_positive_float, help="rated GPU power for energy estimates (no NVML)"
    )
    run.add_argument(
        "--machine", type=Path, metavar="FILE", help="local machine profile (TOML) for the report's costs"
    )
    run.add_argument("--no-report", action="store_true", help="do not render the HTML report")
    scale = run.add_mutually_exclusive_group()
    scale.add_argument(
        "--nproc-per-node",
        type=int,
        metavar="N",
        help="data-parallel training with N ranks per node under torchrun",
    )
    scale.add_argument(
        "--ddp-sweep", metavar="N,N,...", help="the same cells at several world sizes, e.g. 1,2,4"
    )
    run.add_argument("--nnodes", help="torchrun --nnodes (several machines)")
    run.add_argument("--node-rank", help="torchrun --node-rank")
    run.add_argument("--rdzv-endpoint", help="torchrun --rdzv-endpoint HOST:PORT")

    devices = commands.add_parser("devices", help="list the devices aipcbench can run on")
    devices.add_argument(
        "--measure", action="store_true", help="also measure clock, GEMM peak and idle power"
    )
    devices.add_argument("--dtype", default="fp32,bf16", help="dtypes for --measure")
    _add_catalog_flags(devices)
    commands.add_parser("workloads", help="list the workloads and their sizes")

    cost = commands.add_parser("cost", help="cost per run: local machine vs cloud offers")
    _add_results_and_machine(cost)
    cost.add_argument("--format", choices=("table", "json", "csv"), default="table")
    cost.add_argument(
        "--all-offers", action="store_true", help="every offer, not the cheapest per provider and GPU"
    )

    report = commands.add_parser("report", help="one self-contained HTML page from results")
    _add_results_and_machine(report)
    report.add_argument("--out", type=Path, help="HTML file to write (default: reports/...)")
    report.add_argument(
        "--format",
        choices=("html", "md", "csv", "json"),
        default="html",
        help="html writes the page; md/csv/json print the table",
    )
    return parser


def _run_config(args: argparse.Namespace, inventory) -> Any:
    import workloads
    from aipcbench.config import RunConfig, build_policy, parse_dtypes, parse_workloads, split_list

    workloads.load_plugins(args.plugin)
    devices = (
        split_list("--devices", args.devices) if args.devices else tuple(d.id for d in inventory.devices)
    )
    for device in devices:
        inventory.get(device)  # raises the one-line error for an unknown device
    world_sizes, torchrun_args = _scale_out(args)
    defaults = workloads.DDP_WORKLOADS if world_sizes else workloads.DEFAULT_WORKLOADS
    chosen = parse_workloads(args.workloads) if args.workloads else tuple((name, None) for name in defaults)
    for name, size in chosen:
        spec = workloads.get(name)
        if size is not None and size not in spec.sizes:
            raise UserInputError(
                f"--workloads: '{name}' has no size '{size}' (valid: {', '.join(spec.sizes)})"
            )
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise UserInputError(f"--data-dir: '{args.data_dir}' is not a directory")
    quick = not args.full
    policy = build_policy(
        quick,
        {
            key: getattr(args, key)
            for key in ("warmup_steps", "min_steps", "min_time_s", "max_time_s", "max_steps")
        },
    )
    return RunConfig(
        devices=devices,
        workloads=chosen,
        dtypes=parse_dtypes(args.dtype),
        quick=quick,
        policy=policy,
        timeout_s=args.timeout or (300.0 if quick else 1800.0),
        results_dir=args.results_dir,
        compile=args.compile,
        data_dir=args.data_dir,
        plugins=tuple(args.plugin),
        seed=args.seed,
        options={
            "channels_last": args.channels_last,
            "decode": args.gpt2_decode,
            "keep_denormals": args.keep_denormals,
        },
        world_sizes=world_sizes,
        torchrun_args=torchrun_args,
    )


def _scale_out(args: argparse.Namespace) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """World sizes to run and the torchrun arguments for several machines."""
    from aipcbench.config import split_list

    if args.nproc_per_node is not None:
        sizes: tuple[int, ...] = (args.nproc_per_node,)
        flag = "--nproc-per-node"
    elif args.ddp_sweep:
        flag = "--ddp-sweep"
        try:
            sizes = tuple(int(item) for item in split_list(flag, args.ddp_sweep))
        except ValueError:
            raise UserInputError(
                f"{flag}: expected whole numbers like 1,2,4, got '{args.ddp_sweep}'"
            ) from None
    else:
        if args.nnodes or args.node_rank or args.rdzv_endpoint:
            raise UserInputError("--nnodes/--node-rank/--rdzv-endpoint need --nproc-per-node")
        return (), ()
    if any(size < 1 for size in sizes):
        raise UserInputError(f"{flag}: must be at least 1, got {min(sizes)}")
    launch: list[str] = []
    if args.nnodes or args.rdzv_endpoint:
        if not args.rdzv_endpoint:
            raise UserInputError("--nnodes: several machines need --rdzv-endpoint HOST:PORT")
        launch += [
            f"--nnodes={args.nnodes or 1}",
            f"--node-rank={args.node_rank or 0}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={args.rdzv_endpoint}",
        ]
    return sizes, tuple(launch)


def _cmd_run(args: argparse.Namespace) -> int:
    from aipcbench import forkserver

    forkserver.start_early()  # its imports overlap this process's own (torch, detection)
    import workloads
    from aipcbench.catalog import load_catalog
    from aipcbench.devices import detect_devices
    from aipcbench.environment import capture_environment
    from aipcbench.progress import Progress
    from aipcbench.results import ResultsWriter
    from aipcbench.runner import plan_cells, run_suite
    from aipcbench.summary import exit_code_for, suite_timing, suite_timing_line, summary_table

    inventory = detect_devices()
    config = _run_config(args, inventory)
    catalog = load_catalog(args.catalog)
    carbon = _carbon(catalog, args.country)
    cells = plan_cells(config, {name: spec.sizes for name, spec in workloads.REGISTRY.items()})
    writer = ResultsWriter(config.results_dir, capture_environment(inventory, sys.argv), config.to_dict())
    print(f"aipcbench: {len(cells)} cells, results in {writer.path}", file=sys.stderr)
    progress = Progress(len(cells))
    suite_started = time.monotonic()
    try:
        facts = _probe_devices(inventory, config.devices, config.dtypes, config.quick, catalog, args)
        writer.document["devices_measured"] = facts
        writer.document["carbon"] = carbon
        records = run_suite(cells, config, writer, progress, facts, carbon)
    except (Interrupted, KeyboardInterrupt):
        # A second Ctrl-C (or SIGTERM) must not cut the final write short: ignore both now.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        writer.finish(interrupted=True)
        done = len(writer.document["records"])
        raise Interrupted(f"interrupted: {done} finished cells kept in {writer.path}") from None
    writer.document["suite_timing"] = suite_timing(records, time.monotonic() - suite_started)
    writer.finish()
    print(summary_table(records))
    print(suite_timing_line(writer.document["suite_timing"]))
    print(f"results: {writer.path}")
    if not args.no_report:
        print(f"report: {_report_for_run(writer.path, config.results_dir, catalog, args)}")
    return exit_code_for(records)


def _report_for_run(results_path: Path, results_dir: Path, catalog, args) -> Path:
    """The report of this run, priced with the reference results shipped beside it."""
    from aipcbench.machine import load_profile
    from aipcbench.pricing import compare
    from aipcbench.results import load, load_many

    references, warnings = load_many(sorted((results_dir / "reference").glob("*.json")))
    for warning in warnings:
        print(f"aipcbench: warning: {warning}", file=sys.stderr)
    documents = [*references, load(results_path)]
    machine = load_profile(args.machine, {"country": args.country}, catalog)
    comparisons = compare(documents, catalog, machine, documents[-1].environment.get("host"))
    name = results_path.name.replace("run-", "report-").replace(".json", ".html")
    # reports/ sits beside results/ (a --results-dir elsewhere keeps its report beside it)
    return _render(documents, comparisons, machine, results_dir.parent / "reports" / name)


def _carbon(catalog, country: str | None):
    from aipcbench.devicefacts import carbon_for

    carbon = carbon_for(catalog, country)
    if carbon is None:
        valid = ", ".join(catalog.regions("carbon"))
        raise UserInputError(f"--country: no grid carbon intensity for '{country}' (known: {valid})")
    return carbon


def _probe_devices(inventory, device_ids, dtypes, quick, catalog, args) -> dict[str, Any]:
    """Rated power/peaks from the catalog and a measuring child process per device."""
    from aipcbench.devicefacts import device_facts, rated_power
    from aipcbench.runner import probe_device

    facts = {}
    for device_id in device_ids:
        device = inventory.get(device_id).to_dict()
        watts, basis = rated_power(
            device, catalog, getattr(args, "cpu_watts", None), getattr(args, "gpu_watts", None)
        )
        probe = {
            "rated_w": watts,
            "rated_basis": basis,
            "index": device["index"],
            "uuid": device["details"].get("uuid"),
            "logical_cores": device["details"].get("logical_cores"),
        }
        print(f"aipcbench: probing {device_id} (idle power, clock, GEMM peak)...", file=sys.stderr)
        measured = probe_device(device, dtypes, quick, probe, timeout_s=300)
        facts[device_id] = device_facts(device, catalog, probe, measured, dtypes)
    return facts


def _cmd_devices(args: argparse.Namespace) -> int:
    from aipcbench.devices import detect_devices

    inventory = detect_devices()
    for device in inventory.devices:
        memory = f"{device.memory_bytes / 2**30:.1f} GiB" if device.memory_bytes else "memory ?"
        print(f"{device.id:8} {device.name} ({memory})")
        for key, value in device.details.items():
            print(f"{'':8} {key}: {', '.join(value) if isinstance(value, list) else value}")
    for note in inventory.notes:
        print(f"note: {note}")
    if args.measure:
        from aipcbench.catalog import load_catalog
        from aipcbench.config import parse_dtypes

        dtypes = parse_dtypes(args.dtype)
        facts = _probe_devices(
            inventory, [d.id for d in inventory.devices], dtypes, True, load_catalog(args.catalog), args
        )
        for device_id, fact in facts.items():
            print(f"{device_id}:")
            if fact.get("clock_ghz"):
                print(f"  clock: {fact['clock_ghz']:.2f} GHz ({fact['clock_method']})")
            idle = fact.get("idle_power_w")
            print(
                f"  idle power: {f'{idle:.1f} W' if idle else 'not measured'} "
                f"({fact.get('idle_power_method') or fact.get('idle_note')})"
            )
            for dtype in dtypes:
                rated = fact["rated_peaks"][dtype]
                measured = fact["measured_peaks"].get(dtype, {})
                r = f"{rated['flops'] / 1e9:,.0f} GFLOP/s" if rated.get("flops") else "unknown"
                m = f"{measured['flops'] / 1e9:,.0f} GFLOP/s" if measured.get("flops") else "-"
                print(f"  {dtype}: rated {r} [{rated['source']}]; measured {m}")
    return 0


def _cmd_workloads(args: argparse.Namespace) -> int:
    import workloads

    for name, spec in workloads.REGISTRY.items():
        print(f"{name:20} sizes: {', '.join(spec.sizes):18} {spec.summary}")
    return 0


def _machine_and_comparisons(args: argparse.Namespace):
    """Load results (warning on bad files), catalog and machine; compare. Shared with report."""
    from aipcbench.catalog import load_catalog
    from aipcbench.machine import load_profile
    from aipcbench.pricing import compare
    from aipcbench.results import discover, load_many

    paths = discover(args.results)
    documents, warnings = load_many(paths)
    for warning in warnings:
        print(f"aipcbench: warning: {warning}", file=sys.stderr)
    if not documents:
        where = ", ".join(map(str, args.results)) or "results/"
        raise UserInputError(f"no usable results files in {where} (run `aipcbench run` first)")
    catalog = load_catalog(args.catalog)
    overrides = {
        key: getattr(args, key)
        for key in (
            "preset",
            "price_usd",
            "lifetime_years",
            "residual_usd",
            "hours_per_day",
            "electricity_usd_per_kwh",
        )
    }
    overrides["country"] = args.country
    machine = load_profile(args.machine, overrides, catalog)
    comparisons = compare(documents, catalog, machine, args.local_host, args.startup_s)
    return documents, catalog, machine, comparisons


def _cmd_cost(args: argparse.Namespace) -> int:
    from aipcbench import costtable

    _, _, machine, comparisons = _machine_and_comparisons(args)
    if args.format == "json":
        print(costtable.as_json(comparisons, machine))
    elif args.format == "csv":
        print(costtable.as_csv(costtable.flat_rows(comparisons)), end="")
    else:
        print(
            f"Local machine: {machine.name}: ${machine.price_usd:,.0f} over "
            f"{machine.lifetime_years:g} years at {machine.hours_per_day:g} h/day, "
            f"electricity ${machine.electricity_usd_per_kwh:.3f}/kWh ({machine.electricity_source})"
        )
        for assumption in machine.assumptions:
            print(f"  assumption: {assumption}")
        print()
        print(costtable.text_report(comparisons, args.all_offers))
    return 0


def report_path(out: Path | None, default_name: str) -> Path:
    """The report's target: --out (checked) or reports/NAME."""
    if out is None:
        return Path("reports") / default_name
    text = str(out)
    if "\x00" in text or ".." in out.parts or not out.name or out.name.startswith("."):
        raise UserInputError(f"--out: refusing the path {text!r} (no '..', NUL or hidden names)")
    if out.exists() and out.is_dir():
        raise UserInputError(f"--out: '{out}' is a directory")
    return out


def _render(documents, comparisons, machine, out: Path) -> Path:
    import datetime as dt

    from aipcbench.report.context import build_context
    from aipcbench.report.render import write_report

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    context = build_context(documents, comparisons, machine, now)
    try:
        return write_report(context, out)
    except OSError as exc:
        raise UserInputError(f"--out: cannot write '{out}': {exc.strerror}") from None


def _cmd_report(args: argparse.Namespace) -> int:
    documents, _, machine, comparisons = _machine_and_comparisons(args)
    if args.format != "html":
        import datetime as dt

        from aipcbench.report.context import build_context
        from aipcbench.report.plain import render_plain

        context = build_context(
            documents, comparisons, machine, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        )
        print(render_plain(context, args.format), end="")
        return 0
    out = report_path(args.out, "aipcbench-report.html")
    print(f"report: {_render(documents, comparisons, machine, out)}")
    return 0


COMMANDS = {
    "run": _cmd_run,
    "devices": _cmd_devices,
    "workloads": _cmd_workloads,
    "cost": _cmd_cost,
    "report": _cmd_report,
}


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help(sys.stderr)
            return 2
        return COMMANDS[args.command](args)
    except AipcbenchError as exc:
        print(f"aipcbench: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("aipcbench: interrupted", file=sys.stderr)
        return Interrupted.exit_code


if __name__ == "__main__":
    sys.exit(main())
