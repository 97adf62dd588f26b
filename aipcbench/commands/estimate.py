"""``aipcbench estimate``: run times on hardware nobody measured, and their error (``cost``)."""

from __future__ import annotations

import argparse


def main(args: argparse.Namespace) -> int:
    from aipcbench.config import EstimateConfig, split_list
    from aipcbench.report.estimate_views import estimate_command

    targets = split_list("--target", args.target) if args.target is not None else ()
    return estimate_command(
        EstimateConfig(tuple(args.results), tuple(args.catalog), targets, args.check, args.format)
    )
