"""``aipcbench run``: time workloads on every device into a results file (``aipcbench.run``)."""

from __future__ import annotations

import argparse
import sys

from aipcbench.errors import UserInputError


def main(args: argparse.Namespace) -> int:
    from aipcbench.run.suite import run_command

    return run_command(run_config(args), sys.argv)


def run_config(args: argparse.Namespace):
    from aipcbench.config import (
        RunConfig,
        WorkloadOptions,
        build_policy,
        parse_dtypes,
        parse_workloads,
        split_list,
    )

    world_sizes, torchrun_args = scale_out(args)
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
            **({"lora_rank": args.lora_rank} if args.lora_rank else {}),
            checkpointing=args.checkpointing,
            lora_targets=args.lora_targets,
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


def scale_out(args: argparse.Namespace) -> tuple[tuple[int, ...], tuple[str, ...]]:
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
