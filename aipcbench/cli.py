"""The command line: parse, validate, hand over, and turn every project error into one line.

Exit codes: 0 everything ok; 1 some cells failed (their records are still written); 2 bad input
(flag, value, path or file); 130 interrupted (finished cells are kept).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from aipcbench.arguments import build_parser
from aipcbench.errors import AipcbenchError, Interrupted, UserInputError
from aipcbench.report.formatters import safe_text


def _run_config(args: argparse.Namespace):
    from aipcbench.config import (
        RunConfig,
        WorkloadOptions,
        build_policy,
        parse_dtypes,
        parse_workloads,
        split_list,
    )

    world_sizes, torchrun_args = _scale_out(args)
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise UserInputError(f"--data-dir: '{args.data_dir}' is not a directory")
    if args.machine is not None and not args.machine.is_file():
        raise UserInputError(f"--machine: '{args.machine}' is not a file")
    quick = args.quick or not args.full  # --quick is the default, said explicitly or not
    policy = build_policy(
        quick,
        {
            key: getattr(args, key)
            for key in ("warmup_steps", "min_steps", "min_time_s", "max_time_s", "max_steps")
        },
    )
    return RunConfig(
        devices=split_list("--devices", args.devices) if args.devices is not None else (),
        workloads=parse_workloads(args.workloads) if args.workloads is not None else (),
        dtypes=parse_dtypes(args.dtype),
        quick=quick,
        policy=policy,
        timeout_s=args.timeout or (300.0 if quick else 1800.0),
        results_dir=args.results_dir,
        compile=args.compile,
        data_dir=args.data_dir,
        plugins=tuple(args.plugin),
        seed=args.seed,
        options=WorkloadOptions(
            channels_last=args.channels_last,
            decode=args.decode,
            model=args.model,
            prompt_tokens=args.prompt_tokens,
            new_tokens=args.new_tokens,
        ),
        keep_denormals=args.keep_denormals,
        world_sizes=world_sizes,
        torchrun_args=torchrun_args,
        report_dir=None if args.no_report else args.report_dir,
        catalog_files=tuple(args.catalog),
        country=args.country,
        cpu_watts=args.cpu_watts,
        gpu_watts=args.gpu_watts,
        machine_file=args.machine,
    )


def _scale_out(args: argparse.Namespace) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """World sizes to run and the torchrun arguments for several machines."""
    from aipcbench.config import split_list

    if args.nproc_per_node is not None:
        sizes: tuple[int, ...] = (args.nproc_per_node,)
        flag = "--nproc-per-node"
    elif args.ddp_sweep is not None:
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
    if any(size < 1 or size > 1024 for size in sizes):
        raise UserInputError(f"{flag}: each world size must be between 1 and 1024, got {sizes}")
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


def _pricing(args: argparse.Namespace):
    from aipcbench.config import PricingConfig
    from aipcbench.cost.machine import FLAGS

    return PricingConfig(
        results=tuple(args.results),
        catalog_files=tuple(args.catalog),
        machine_file=args.machine[0] if args.machine else None,
        machine_values={
            **{
                key: getattr(args, key) for key in FLAGS if key != "preset" and getattr(args, key) is not None
            },
            **({"preset": args.preset[0]} if args.preset and not args.machine else {}),
        },
        more_machines=tuple(args.machine[1:]),
        more_presets=tuple(args.preset[1:] if not args.machine else args.preset),
        plan=args.plan,
        local_host=args.local_host,
        startup_s=args.startup_s,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from aipcbench.run.suite import run_command

    return run_command(_run_config(args), sys.argv)


def _cmd_devices(args: argparse.Namespace) -> int:
    from aipcbench.run.suite import devices_command

    return devices_command(args.measure, args.dtype, tuple(args.catalog))


def _cmd_workloads(args: argparse.Namespace) -> int:
    import workloads

    rows = []
    for name, spec in workloads.REGISTRY.items():
        default = spec.default_sizes or spec.sizes
        named = [s for s in spec.sizes if s not in default]
        sizes = ", ".join(default) + (f" (by name: {', '.join(named)})" if named else "")
        by_name = "" if name in workloads.DEFAULT_WORKLOADS else " (by name)"
        rows.append((name + by_name, sizes, spec.summary))
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    for name, sizes, summary in rows:
        print(f"{name:{widths[0]}}  sizes: {sizes:{widths[1]}}  {summary}")
    return 0


def _cmd_cost(args: argparse.Namespace) -> int:
    from aipcbench.config import CostConfig
    from aipcbench.report.commands import cost_command

    return cost_command(CostConfig(_pricing(args), args.format, args.all_offers))


def _cmd_cloud(args: argparse.Namespace) -> int:
    from aipcbench.cloud import commands as cloud_commands
    from aipcbench.config import CloudConfig, split_list

    config = CloudConfig(
        accelerators=tuple(args.accelerators),
        suite=args.suite,
        spot=args.spot,
        max_usd=args.max_usd,
        clouds=tuple(c.lower() for c in split_list("--cloud", args.cloud)) if args.cloud is not None else (),
        yes=args.yes,
        results_dir=args.results_dir,
        catalog_files=tuple(args.catalog),
        out=args.out,
    )
    actions = {
        "run": cloud_commands.run_command,
        "task": cloud_commands.task_command,
        "estimate": cloud_commands.estimate_command,
    }
    return actions[args.action](config)


def _cmd_tokens(args: argparse.Namespace) -> int:
    from aipcbench.report.commands import tokens_command

    return tokens_command(_pricing(args), args.format)


def _cmd_report(args: argparse.Namespace) -> int:
    from aipcbench.config import ReportConfig
    from aipcbench.report.commands import report_command

    return report_command(ReportConfig(_pricing(args), args.format, args.out))


def _cmd_estimate(args: argparse.Namespace) -> int:
    from aipcbench.config import EstimateConfig, split_list
    from aipcbench.report.estimate_views import estimate_command

    targets = split_list("--target", args.target) if args.target is not None else ()
    return estimate_command(
        EstimateConfig(tuple(args.results), tuple(args.catalog), targets, args.check, args.format)
    )


def _cmd_fit(args: argparse.Namespace) -> int:
    from aipcbench.config import split_list
    from aipcbench.report.fit_views import fit_command

    try:
        batches = tuple(int(b) for b in split_list("--batch", args.batch))
    except ValueError:
        raise UserInputError(f"--batch: expected whole numbers like 1,8, got '{args.batch}'") from None
    if any(not 1 <= b <= 100_000 for b in batches):
        raise UserInputError(f"--batch: each batch must be between 1 and 100000, got {args.batch}")
    return fit_command(
        args.model, split_list("--dtype", args.dtype), batches, args.context, tuple(args.catalog)
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from aipcbench.serve.arguments import serve_config
    from aipcbench.serve.commands import serve_command

    return serve_command(serve_config(args), sys.argv)


COMMANDS = {
    "run": _cmd_run,
    "devices": _cmd_devices,
    "workloads": _cmd_workloads,
    "cost": _cmd_cost,
    "tokens": _cmd_tokens,
    "cloud": _cmd_cloud,
    "report": _cmd_report,
    "estimate": _cmd_estimate,
    "fit": _cmd_fit,
    "serve": _cmd_serve,
}


def _raise_interrupt(signum, frame):
    raise Interrupted("interrupted", signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    # SIGTERM and SIGHUP (a closed terminal or SSH session) stop a run like Ctrl-C: finished
    # cells kept, the results file marked with how it ended, every child process stopped.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help(sys.stderr)
            return 2
        return COMMANDS[args.command](args)
    except AipcbenchError as exc:
        print(f"aipcbench: error: {safe_text(exc.one_line())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("aipcbench: interrupted", file=sys.stderr)
        return Interrupted.exit_code
    except BrokenPipeError:  # the reader went away (`aipcbench cost | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
