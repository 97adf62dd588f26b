"""The orchestration of ``aipcbench run`` and ``aipcbench devices``: resolve the config against
this machine, check every input before the first cell, probe the devices, run the cells, end
with the table and the report.

Ended by the user (Ctrl-C, SIGTERM, SIGHUP) the run keeps every finished cell and says in the
results file how it ended; a full disk ends it with one line and what was written kept.
"""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from aipcbench.catalog import Catalog, load_catalog
from aipcbench.config import RunConfig, parse_dtypes
from aipcbench.cost.machine import load_profile
from aipcbench.devices.rated import carbon_for, device_facts, rated_power
from aipcbench.errors import Interrupted, StorageError, UserInputError
from aipcbench.results.device_facts import DeviceFacts
from aipcbench.results.store import ResultsWriter
from aipcbench.run.cells import plan_cells, run_suite
from aipcbench.run.child import run_child
from aipcbench.run.end_table import exit_code_for, suite_timing, suite_timing_line, summary_table
from aipcbench.run.progress import Progress


def say(message: str) -> None:
    print(f"aipcbench: {message}", file=sys.stderr, flush=True)


def resolve(config: RunConfig, inventory: Any) -> RunConfig:
    """Devices and workloads made concrete for this machine and registry, every name checked."""
    import workloads

    workloads.load_plugins(list(config.plugins))
    devices = config.devices or tuple(d.id for d in inventory.devices)
    for device in devices:
        inventory.get(device)  # raises the one-line error for an unknown device
    defaults = workloads.DDP_WORKLOADS if config.world_sizes else workloads.DEFAULT_WORKLOADS
    chosen = config.workloads or tuple((name, None) for name in defaults)
    for name, size in chosen:
        spec = workloads.get(name)
        if size is not None and size not in spec.sizes:
            raise UserInputError(
                f"--workloads: '{name}' has no size '{size}' (valid: {', '.join(spec.sizes)})"
            )
        if spec.check_options is not None:
            spec.check_options(config.options)
    return replace(config, devices=devices, workloads=chosen)


def carbon(catalog: Catalog, country: str | None) -> dict[str, Any]:
    found = carbon_for(catalog, country)
    if found is None:
        valid = ", ".join(catalog.regions("carbon"))
        raise UserInputError(f"--country: no grid carbon intensity for '{country}' (known: {valid})")
    return found


def probe_devices(
    inventory: Any,
    device_ids: tuple[str, ...],
    dtypes: tuple[str, ...],
    catalog: Catalog,
    quick: bool,
    cpu_watts: float | None = None,
    gpu_watts: float | None = None,
) -> dict[str, DeviceFacts]:
    """Rated power/peaks from the catalog and a measuring child process per device."""
    facts = {}
    for device_id in device_ids:
        device = inventory.get(device_id).to_dict()
        watts, basis = rated_power(device, catalog, cpu_watts, gpu_watts)
        probe = {
            "rated_w": watts,
            "rated_basis": basis,
            "index": device["index"],
            "uuid": device["details"].get("uuid"),
            "logical_cores": device["details"].get("logical_cores"),
        }
        say(f"probing {device_id} (idle power, clock, GEMM peak)...")
        spec = {"mode": "device", "device": device, "dtypes": list(dtypes), "quick": quick, "probe": probe}
        outcome = run_child(spec, timeout_s=300)
        measured = (
            outcome.result
            if outcome.result is not None
            else {"error": f"device probe {outcome.status}: {outcome.reason}"}
        )
        facts[device_id] = device_facts(device, catalog, probe, measured, dtypes)
    return facts


def run_command(config: RunConfig, argv: list[str]) -> int:
    """``aipcbench run``: every input checked first, then the device probe and the cells."""
    from aipcbench.run import forkserver

    forkserver.start_early()  # its imports overlap this process's own (torch, detection)
    from aipcbench.devices.detect import detect_devices
    from aipcbench.environment import capture_environment

    if config.report_dir is not None and config.report_dir.exists() and not config.report_dir.is_dir():
        raise UserInputError(f"--report-dir: '{config.report_dir}' exists and is not a directory")
    inventory = detect_devices()
    config = resolve(config, inventory)
    catalog = load_catalog(config.catalog_files)
    grid = carbon(catalog, config.country)
    load_profile(config.machine_file, {"country": config.country}, catalog)  # checked before any cell
    import workloads

    cells = plan_cells(
        config, {name: spec.default_sizes or spec.sizes for name, spec in workloads.REGISTRY.items()}
    )
    writer = ResultsWriter(config.results_dir, capture_environment(inventory, argv), config.to_dict())
    say(f"{len(cells)} cells, results in {writer.path}")
    progress = Progress(len(cells))
    started = time.monotonic()
    try:
        facts = probe_devices(
            inventory,
            config.devices,
            config.dtypes,
            catalog,
            config.quick,
            config.cpu_watts,
            config.gpu_watts,
        )
        writer.set_devices(facts, grid)
        records = run_suite(cells, config, writer, progress, facts, grid)
        writer.finish("completed", suite_timing(records, time.monotonic() - started))
    except (Interrupted, KeyboardInterrupt) as exc:
        # A second signal must not cut the final write short: ignore them now.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        ended_by = getattr(exc, "ended_by", "interrupted")
        _finish_quietly(writer, ended_by)
        kept = f"{len(writer.records)} finished cells kept in {writer.path}"
        raise Interrupted(f"{ended_by}: {kept}", ended_by) from None
    except OSError as exc:
        _finish_quietly(writer, f"write failed: {exc.strerror or exc}")
        raise StorageError(
            f"cannot write results: {exc.strerror or exc}; the last complete write of {writer.path} is kept"
        ) from None
    print(summary_table(records))
    print(suite_timing_line(suite_timing(records, time.monotonic() - started)))
    print(f"results: {writer.path}")
    if config.report_dir is not None:
        _answer_and_report(writer.path, config, catalog)
    return exit_code_for(records)


def _answer_and_report(results: Path, config: RunConfig, catalog) -> None:
    """The run's one-sentence answer, then where its report is: the last lines a user reads."""
    from aipcbench.report.commands import report_for_run

    report, answer = report_for_run(results, config, catalog, say)
    if answer:
        print(f"answer: {answer}")
    print(f"report: {report}")


def _finish_quietly(writer: ResultsWriter, ended_by: str) -> None:
    """Mark how the run ended if the disk still allows it (the previous write stays if not)."""
    try:
        writer.finish(ended_by)
    except OSError:
        pass


def devices_command(measure: bool, dtypes_text: str, catalog_files: tuple) -> int:
    """``aipcbench devices``: what this machine has, and optionally its measured peaks."""
    from aipcbench.devices.detect import detect_devices

    dtypes = parse_dtypes(dtypes_text)
    catalog = load_catalog(catalog_files) if measure else None
    inventory = detect_devices()
    for device in inventory.devices:
        memory = f"{device.memory_bytes / 2**30:.1f} GiB" if device.memory_bytes else "memory ?"
        print(f"{device.id:8} {device.name} ({memory})")
        for key, value in device.details.items():
            print(f"{'':8} {key}: {', '.join(value) if isinstance(value, list) else value}")
    for note in inventory.notes:
        print(f"note: {note}")
    if not measure:
        return 0
    device_ids = tuple(d.id for d in inventory.devices)
    facts = probe_devices(inventory, device_ids, dtypes, catalog, True)
    for device_id, fact in facts.items():
        print(f"{device_id}:")
        if fact.clock_ghz:
            print(f"  clock: {fact.clock_ghz:.2f} GHz ({fact.clock_method})")
        idle = f"{fact.idle_power_w:.1f} W" if fact.idle_power_w else "not measured"
        print(f"  idle power: {idle} ({fact.idle_power_method or fact.idle_note})")
        for dtype in dtypes:
            rated, measured = fact.rated_peaks.get(dtype), fact.measured_peaks.get(dtype)
            r = f"{rated.flop_per_s / 1e9:,.0f} GFLOP/s" if rated and rated.flop_per_s else "unknown"
            m = f"{measured.flop_per_s / 1e9:,.0f} GFLOP/s" if measured and measured.flop_per_s else "-"
            print(f"  {dtype}: rated {r} [{rated.source if rated else ''}]; measured {m}")
    return 0
