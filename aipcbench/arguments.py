"""The command line's flags: names, types, ranges and help. Parsing only; ``cli`` turns the
parsed flags into a config and calls the command."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from aipcbench import __version__
from aipcbench.config import DECODE_MODES
from aipcbench.errors import UserInputError
from aipcbench.units import SECONDS_PER_DAY


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage, so every error is one line."""

    def error(self, message: str):  # type: ignore[override]
        raise UserInputError(message)


def _number(low: float, high: float, low_inclusive: bool = False):
    """An argparse type: a finite number in (low, high] (or [low, high]); NaN, infinities and
    values that no real machine or price reaches are refused before anything runs."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: '{text}'") from None
        above = value >= low if low_inclusive else value > low
        if not math.isfinite(value) or not above or value > high:
            bound = "[" if low_inclusive else "("
            raise argparse.ArgumentTypeError(
                f"must be a finite number in {bound}{low:g}, {high:g}], got {text}"
            )
        return value

    return parse


def _limit(key: str):
    """The bounds of a machine-profile value, the same for its flag and its TOML key."""
    from aipcbench.cost.machine import LIMITS

    low, high, low_inclusive = LIMITS[key]
    return _number(low, high, low_inclusive)


def _whole(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: '{text}'") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {text}")
        return value

    return parse


def _add_catalog_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="catalog CSV (or SkyPilot vms.csv) adding or replacing rows",
    )
    parser.add_argument("--country", help="region for grid carbon intensity and electricity")


def _add_results_and_machine(parser: argparse.ArgumentParser) -> None:
    """What `cost` and `report` both read: results files and the local machine's economics."""
    parser.add_argument(
        "results",
        nargs="*",
        type=Path,
        help="results files or folders (default: results/ and results/reference/)",
    )
    _add_machine_flags(parser)


def _add_machine_flags(parser: argparse.ArgumentParser) -> None:
    _add_catalog_flags(parser)
    parser.add_argument(
        "--machine",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a machine you own or consider (TOML); repeat to compare several",
    )
    parser.add_argument(
        "--preset",
        action="append",
        default=[],
        help="a hardware preset from the catalog; repeat to compare several",
    )
    parser.add_argument(
        "--plan", type=Path, metavar="FILE", help="what you run per month (TOML [[work]] items)"
    )
    parser.add_argument("--price", type=_limit("price_usd"), dest="price_usd", help="purchase price, USD")
    parser.add_argument("--lifetime-years", type=_limit("lifetime_years"), dest="lifetime_years")
    parser.add_argument(
        "--residual", type=_limit("residual_usd"), dest="residual_usd", help="resale value, USD"
    )
    parser.add_argument("--hours-per-day", type=_limit("hours_per_day"), dest="hours_per_day")
    parser.add_argument(
        "--electricity-price",
        type=_limit("electricity_usd_per_kwh"),
        dest="electricity_usd_per_kwh",
        help="USD per kWh (default: the region's average)",
    )
    parser.add_argument("--local-host", help="host whose results are 'local' (default: newest)")
    parser.add_argument(
        "--startup-s",
        type=_number(0, SECONDS_PER_DAY, True),
        default=None,
        help="cloud instance start-up seconds billed per run (default: measured by aipcbench cloud, else 0)",
    )


def _add_run(commands) -> None:
    """``aipcbench run``: what to time, how long, where results and the report go."""
    run = commands.add_parser("run", help="time workloads on every device, write a results file")
    run.add_argument("--devices", help="comma-separated device ids (default: all detected)")
    run.add_argument("--workloads", help="comma-separated names, NAME:SIZE for one size")
    run.add_argument(
        "--dtype", default="fp32", help="comma-separated: fp32, bf16, fp16, int8, int4 (weights quantized)"
    )
    speed = run.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="short timing windows (default)")
    speed.add_argument("--full", action="store_true", help="long timing windows, full sizes")
    run.add_argument(
        "--timeout", type=_number(0, 7 * SECONDS_PER_DAY), help="seconds per cell before it is killed"
    )
    run.add_argument("--results-dir", type=Path, default=Path("results"))
    run.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where the run's HTML report goes (default: reports/)",
    )
    run.add_argument("--data-dir", type=Path, help="where data sets and model weights are looked for")
    run.add_argument("--compile", action="store_true", help="torch.compile the models")
    run.add_argument("--channels-last", action="store_true", help="NHWC layout for conv nets")
    run.add_argument(
        "--decode",
        choices=DECODE_MODES,
        default="lean",
        help="text generation loop: aipcbench's lean greedy loop or transformers.generate",
    )
    run.add_argument(
        "--model",
        default="llama3.2-1b",
        help="causal-lm: a catalog model key (as for aipcbench fit) or a Hugging Face model directory",
    )
    run.add_argument("--prompt-tokens", type=_whole(1, 32_768), help="text generation: prompt length")
    run.add_argument(
        "--new-tokens", type=_whole(2, 32_768), help="text generation: tokens generated per step"
    )
    run.add_argument("--lora-rank", type=_whole(1, 1024), help="finetune: LoRA rank (default 16)")
    run.add_argument("--checkpointing", action="store_true", help="finetune: gradient checkpointing")
    run.add_argument("--lora-targets", choices=("all", "attention"), default="all", help="finetune")
    run.add_argument(
        "--keep-denormals",
        action="store_true",
        help="keep IEEE denormal floats on the CPU (default: flush to zero, as tuned training does)",
    )
    _add_run_timing_and_scale(run)


def _add_run_timing_and_scale(run) -> None:
    """``aipcbench run``'s timing overrides, plugins, energy figures and data parallelism."""
    run.add_argument("--warmup", type=int, dest="warmup_steps", help="warm-up steps")
    run.add_argument("--min-steps", type=int, dest="min_steps", help="minimum timed steps")
    run.add_argument("--min-time", type=float, dest="min_time_s", help="minimum timed seconds")
    run.add_argument("--max-time", type=float, dest="max_time_s", help="cap on timed seconds")
    run.add_argument("--max-steps", type=int, dest="max_steps", help="cap on timed steps")
    run.add_argument("--seed", type=_whole(0, 2**32 - 1), default=0)
    run.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first; it may register workloads",
    )
    _add_catalog_flags(run)
    run.add_argument(
        "--cpu-watts", type=_number(0, 100_000), help="rated CPU power for energy estimates (no RAPL)"
    )
    run.add_argument(
        "--gpu-watts", type=_number(0, 100_000), help="rated GPU power for energy estimates (no NVML)"
    )
    run.add_argument(
        "--machine", type=Path, metavar="FILE", help="local machine profile (TOML) for the report's costs"
    )
    run.add_argument("--no-report", action="store_true", help="do not render the HTML report")
    scale = run.add_mutually_exclusive_group()
    scale.add_argument(
        "--nproc-per-node",
        type=int,
        metavar="N",
        help="data-parallel training with N ranks per node under torchrun",
    )
    scale.add_argument(
        "--ddp-sweep", metavar="N,N,...", help="the same cells at several world sizes, e.g. 1,2,4"
    )
    run.add_argument("--nnodes", help="torchrun --nnodes (several machines)")
    run.add_argument("--node-rank", help="torchrun --node-rank")
    run.add_argument("--rdzv-endpoint", help="torchrun --rdzv-endpoint HOST:PORT")


def _add_devices_and_workloads(commands) -> None:
    """``aipcbench devices`` and ``aipcbench workloads``: what this machine and registry hold."""
    devices = commands.add_parser("devices", help="list the devices aipcbench can run on")
    devices.add_argument(
        "--measure", action="store_true", help="also measure clock, GEMM peak and idle power"
    )
    devices.add_argument("--dtype", default="fp32,bf16", help="dtypes for --measure")
    _add_catalog_flags(devices)
    commands.add_parser("workloads", help="list the workloads and their sizes")


def _add_cost_and_cloud(commands) -> None:
    """``aipcbench cost`` and ``aipcbench cloud``: prices per run, and measuring on rented GPUs."""
    cost = commands.add_parser("cost", help="cost per run: local machine vs cloud offers")
    _add_results_and_machine(cost)
    cost.add_argument("--format", choices=("table", "json", "csv"), default="table")
    cost.add_argument(
        "--all-offers", action="store_true", help="every offer, not the cheapest per provider and GPU"
    )

    cloud = commands.add_parser("cloud", help="measure on rented GPUs through SkyPilot (aipcbench[cloud])")
    cloud.add_argument(
        "action", choices=("run", "task", "estimate"), help="launch, write the task YAML, or price"
    )
    cloud.add_argument("accelerators", nargs="+", metavar="GPU:COUNT", help="e.g. H100:1 L4:1 RTX4090:1")
    cloud.add_argument("--spot", action="store_true", help="spot instances (cheaper, may be reclaimed)")
    cloud.add_argument("--suite", choices=("quick", "full"), default="quick")
    cloud.add_argument(
        "--max-usd", type=_number(0, 100_000), default=5.0, help="the most the whole command may cost (5)"
    )
    cloud.add_argument("--cloud", help="comma-separated SkyPilot clouds, e.g. aws,gcp (default: any enabled)")
    cloud.add_argument("--yes", action="store_true", help="launch without asking")
    cloud.add_argument("--results-dir", type=Path, default=Path("results"), help="results go to DIR/cloud/")
    cloud.add_argument("--out", type=Path, help="cloud task: write the YAML here instead of printing it")
    _add_catalog_flags(cloud)


def _add_tokens_estimate_fit(commands) -> None:
    """``tokens``, ``estimate`` and ``fit``: language-model prices, other hardware's run times, memory."""
    tokens = commands.add_parser(
        "tokens", help="text generation: tokens/s and $ per million tokens, local vs cloud vs APIs"
    )
    _add_results_and_machine(tokens)
    tokens.add_argument("--format", choices=("table", "csv"), default="table")

    from aipcbench.commands.estimate import add_estimate_parser

    add_estimate_parser(commands, _whole)

    fit = commands.add_parser("fit", help="does a language model fit: memory per dtype and batch, per device")
    fit.add_argument("model", help="a model configuration from the catalog (e.g. llama3.1-8b)")
    fit.add_argument("--dtype", default="bf16,int4", help="comma-separated: fp32, bf16, fp16, int8, int4")
    fit.add_argument("--batch", default="1,8", help="comma-separated batch sizes")
    fit.add_argument(
        "--context", type=_whole(1, 10_000_000), default=4096, help="tokens of context per sequence"
    )
    fit.add_argument(
        "--catalog", action="append", default=[], type=Path, metavar="FILE", help="catalog CSV adding rows"
    )
    fit.add_argument(
        "--train", choices=("lora", "full"), help="a training step (--context: its sequence length)"
    )
    fit.add_argument("--checkpointing", action="store_true", help="with --train: gradient checkpointing")


def _add_report(commands) -> None:
    """``aipcbench report``: the page, or its table as md/csv/json."""
    report = commands.add_parser("report", help="one self-contained HTML page from results")
    _add_results_and_machine(report)
    report.add_argument("--out", type=Path, help="HTML file to write (default: reports/...)")
    report.add_argument("--pdf", type=Path, metavar="FILE", help="also print the page to FILE (Chromium)")
    report.add_argument(
        "--format",
        choices=("html", "md", "csv", "json"),
        default="html",
        help="html writes the page; md/csv/json print the table",
    )


def build_parser() -> argparse.ArgumentParser:
    from aipcbench.serve.arguments import add_serve_parser

    parser = _Parser(prog="aipcbench", description="Benchmark AI workloads; price build vs rent.")
    parser.add_argument("--version", action="version", version=f"aipcbench {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    for add in (_add_run, _add_devices_and_workloads, _add_cost_and_cloud, _add_tokens_estimate_fit):
        add(commands)
    add_serve_parser(commands, _number, _whole, _add_catalog_flags)
    _add_report(commands)
    return parser
