"""``aipcbench estimate``: run times on hardware nobody measured, and their error (``cost``).

Three forms: the local results on other accelerators (default), the estimator checked against
the measured cells (``--check``) or against published GPU measurements (``--check
--published``), and a configuration nobody ran here (``--model``/``--network``), counted on
the meta device (``run.demand``) and estimated on every GPU.
"""

from __future__ import annotations

import argparse
import sys


def main(args: argparse.Namespace) -> int:
    from aipcbench.catalog import load_catalog
    from aipcbench.config import EstimateConfig, split_list
    from aipcbench.errors import UserInputError

    targets = split_list("--target", args.target) if args.target is not None else ()
    if args.published and not args.check:
        raise UserInputError("--published goes with --check (estimate --check --published)")
    if args.model or args.network:
        if args.check or args.results:
            raise UserInputError("--model/--network estimate a configuration: no results files, no --check")
        return _configuration(args, load_catalog(tuple(args.catalog)), targets)
    if args.published:
        from aipcbench.report.published_views import published_check

        return published_check(load_catalog(tuple(args.catalog)), args.format)
    from aipcbench.report.estimate_views import estimate_command

    return estimate_command(
        EstimateConfig(tuple(args.results), tuple(args.catalog), targets, args.check, args.format)
    )


def _configuration(args: argparse.Namespace, catalog, targets: tuple[str, ...]) -> int:
    from aipcbench.cost.estimate import Demand
    from aipcbench.report.published_views import Counted, configuration_estimates
    from aipcbench.run.demand import Configuration, count_configuration

    language = bool(args.model)
    config = Configuration(
        model=args.model or "",
        network=args.network or "",
        batch=args.batch,
        dtype=args.dtype or ("bf16" if language else "fp32"),
        prompt_tokens=args.prompt_tokens if language else 0,
        new_tokens=args.new_tokens if language else 0,
        image_size=args.image_size,
        optimizer_step=not args.no_optimizer_step,
        timed=args.timed or ("generation" if language else "train-step"),
    )
    config.check()
    what = args.model or args.network
    print(f"counting one step of {what} on the meta device (no weights, no timing) ...", file=sys.stderr)
    n = count_configuration(config)
    demand = Demand(n.flop_count, n.kernel_ops, n.bytes_eager, config.dtype, n.conv_flop_count)
    if language:
        label = (
            f"{what} batch {config.batch}, {config.prompt_tokens}+{config.new_tokens} tokens, {config.dtype}"
        )
    else:
        label = f"{what} training batch {config.batch} at {config.image_size}px, {config.dtype}"
    matches = (
        what,
        config.batch,
        config.dtype,
        config.prompt_tokens,
        config.new_tokens,
        config.image_size,
        config.timed,
        config.optimizer_step,
    )
    unit = "tokens/s" if language else "images/s"
    counted = Counted(f"{label} ({config.timed})", demand, config.items, unit, matches)
    return configuration_estimates(catalog, counted, targets, args.format)
