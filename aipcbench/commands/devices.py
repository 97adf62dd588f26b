"""``aipcbench devices``: what this machine has, and its measured peaks (``aipcbench.run``)."""

from __future__ import annotations

import argparse


def main(args: argparse.Namespace) -> int:
    from aipcbench.run.suite import devices_command

    return devices_command(args.measure, args.dtype, tuple(args.catalog))
