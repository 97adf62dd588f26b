"""The command line: parse, validate, hand over, and turn every project error into one line.

Exit codes: 0 everything ok; 1 some cells failed (their records are still written); 2 bad input
(flag, value, path or file); 130 interrupted (finished cells are kept).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

# Only the standard library and the errors module at import time: everything else is imported
# inside main's try, so a Ctrl-C while the imports run is a clean stop, not a traceback.
from aipcbench.errors import AipcbenchError, Interrupted


def _dispatch(command: str, args: argparse.Namespace) -> int:
    """``aipcbench.commands.<command>.main``: each command's home."""
    module = importlib.import_module(f"aipcbench.commands.{command}")
    return module.main(args)


def _raise_interrupt(signum, frame):
    raise Interrupted("interrupted", signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    # SIGTERM and SIGHUP (a closed terminal or SSH session) stop a run like Ctrl-C: finished
    # cells kept, the results file marked with how it ended, every child process stopped.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    try:
        from aipcbench.arguments import build_parser

        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help(sys.stderr)
            return 2
        return _dispatch(args.command, args)
    except AipcbenchError as exc:
        from aipcbench.report.formatters import safe_text

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
