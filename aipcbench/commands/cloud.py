"""``aipcbench cloud``: measure on rented GPUs through SkyPilot (``aipcbench.cloud``)."""

from __future__ import annotations

import argparse


def main(args: argparse.Namespace) -> int:
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
