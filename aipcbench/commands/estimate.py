"""``aipcbench estimate``: run times on hardware nobody measured, and their error (``cost``).

Three forms: the local results on other accelerators (default), the estimator checked against
the measured cells (``--check``) or against published GPU measurements (``--check
--published``), and a configuration nobody ran here (``--model``/``--network``), counted on
the meta device (``run.demand``) and estimated on every GPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(args: argparse.Namespace) -> int:
    from aipcbench.catalog import load_catalog
    from aipcbench.config import EstimateConfig, split_list
    from aipcbench.errors import UserInputError

    targets = split_list("--target", args.target) if args.target is not None else ()
    if args.published and not args.check:
        raise UserInputError("--published goes with --check (estimate --check --published)")
    if args.pretrain:
        if args.model or args.network or args.check or args.results:
            raise UserInputError("--pretrain plans a run: no --model/--network, results files or --check")
        from aipcbench.report.pretrain_views import pretrain_command

        catalog = load_catalog(tuple(args.catalog))
        return pretrain_command(
            catalog, args.pretrain, args.tokens, args.seq, args.machine, args.gpus, args.format
        )
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
    n = count_configuration(config, catalog)
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


def add_estimate_parser(commands, whole) -> None:
    """``estimate``'s flags (``whole``: the parser's bounded-integer type)."""
    estimate = commands.add_parser(
        "estimate", help="run times on accelerators you do not have (roofline + dispatch floor, with ranges)"
    )
    estimate.add_argument(
        "results", nargs="*", type=Path, help="results files or folders (default: results/)"
    )
    estimate.add_argument(
        "--catalog", action="append", default=[], type=Path, metavar="FILE", help="catalog CSV adding rows"
    )
    estimate.add_argument("--target", help="comma-separated accelerator keys (default: every spec row)")
    estimate.add_argument(
        "--check", action="store_true", help="predict each measured cell from the other devices' results"
    )
    estimate.add_argument(
        "--published",
        action="store_true",
        help="with --check: predict each published GPU measurement, leaving it out of the calibration",
    )
    estimate.add_argument("--format", choices=("table", "csv"), default="table")
    _add_configuration(estimate, whole)


def _add_configuration(estimate, whole) -> None:
    """``estimate --model``/``--network``: a configuration nobody ran, counted, not timed."""
    group = estimate.add_argument_group("a configuration not run here (counted on the meta device)")
    group.add_argument("--model", help="a catalog language model (aipcbench fit --list): its generation")
    group.add_argument(
        "--network", choices=("vgg16", "vgg16-bn"), help="torchvision's VGG16: a training step"
    )
    group.add_argument("--batch", type=whole(1, 4096), default=1, help="sequences or images per step")
    group.add_argument("--prompt-tokens", type=whole(1, 1_000_000), default=64)
    group.add_argument("--new-tokens", type=whole(1, 100_000), default=64)
    group.add_argument("--image-size", type=whole(32, 1024), default=224, help="pixels per side")
    group.add_argument("--dtype", help="fp32, bf16 or fp16 (default: bf16 for a model, fp32 for a network)")
    group.add_argument(
        "--timed",
        choices=("decode", "generation", "train-step"),
        help="what the figure covers: decode (new tokens after the first), generation, train-step",
    )
    group.add_argument("--no-optimizer-step", action="store_true", help="forward and backward only")
    plan = estimate.add_argument_group("a pretraining run (cost.pretrain)")
    plan.add_argument("--pretrain", metavar="MODEL", help="a catalog language model to pretrain from scratch")
    plan.add_argument("--tokens", type=float, help="training tokens (default: 20 per parameter)")
    plan.add_argument("--seq", type=whole(16, 1_000_000), default=2048, help="sequence length (default 2048)")
    plan.add_argument("--machine", type=Path, metavar="FILE", help="an owned build to price it on (TOML)")
    plan.add_argument("--gpus", type=whole(1, 1024), default=1, help="GPUs in that build (default 1)")
