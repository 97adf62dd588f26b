"""``aipcbench tokens``: $ per million tokens here, on rentals and APIs (``aipcbench.cost``)."""

from __future__ import annotations

import argparse

from aipcbench.commands.pricing_flags import pricing


def main(args: argparse.Namespace) -> int:
    from aipcbench.report.commands import tokens_command

    return tokens_command(pricing(args), args.format)
