"""``aipcbench fit``: the memory a language model needs, and where it fits (``aipcbench.catalog``)."""

from __future__ import annotations

import argparse

from aipcbench.errors import UserInputError


def main(args: argparse.Namespace) -> int:
    from aipcbench.config import split_list
    from aipcbench.report.fit_views import fit_command

    try:
        batches = tuple(int(b) for b in split_list("--batch", args.batch))
    except ValueError:
        raise UserInputError(f"--batch: expected whole numbers like 1,8, got '{args.batch}'") from None
    if any(not 1 <= b <= 100_000 for b in batches):
        raise UserInputError(f"--batch: each batch must be between 1 and 100000, got {args.batch}")
    if args.checkpointing and not args.train:
        raise UserInputError("--checkpointing goes with --train (a training step's activations)")
    return fit_command(
        args.model,
        split_list("--dtype", args.dtype),
        batches,
        args.context,
        tuple(args.catalog),
        args.train,
        args.checkpointing,
    )
