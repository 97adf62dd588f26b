"""``aipcbench report``: the page a founder forwards (``aipcbench.report``)."""

from __future__ import annotations

import argparse

from aipcbench.commands.pricing_flags import pricing


def main(args: argparse.Namespace) -> int:
    from aipcbench.config import ReportConfig
    from aipcbench.report.commands import report_command

    return report_command(ReportConfig(pricing(args), args.format, args.out, args.pdf))
