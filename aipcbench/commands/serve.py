"""``aipcbench serve``: a language model served by real engines under load (``aipcbench.serve``)."""

from __future__ import annotations

import argparse
import sys


def main(args: argparse.Namespace) -> int:
    from aipcbench.serve.arguments import serve_config
    from aipcbench.serve.commands import serve_command

    return serve_command(serve_config(args), sys.argv)
