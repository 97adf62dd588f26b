"""``aipcbench cost``: cost per run here and on every offer, the answer for a plan (``cost``)."""

from __future__ import annotations

import argparse

from aipcbench.commands.pricing_flags import pricing


def main(args: argparse.Namespace) -> int:
    from aipcbench.config import CostConfig
    from aipcbench.report.commands import cost_command

    return cost_command(CostConfig(pricing(args), args.format, args.all_offers))
