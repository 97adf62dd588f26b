"""``aipcbench serve``'s flags, and the frozen config they become (parsing and checking only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aipcbench.config import ServeConfig, split_list
from aipcbench.errors import UserInputError
from aipcbench.units import SECONDS_PER_DAY

DEFAULT_CACHE = Path.home() / ".cache" / "aipcbench" / "serve-models"


def add_serve_parser(commands, number, whole, add_catalog_flags) -> None:
    serve = commands.add_parser(
        "serve", help="serve a language model on real engines under concurrent load (latency vs throughput)"
    )
    serve.add_argument("--engine", help="comma-separated: llama.cpp, transformers, vllm")
    serve.add_argument(
        "--model",
        default="qwen2.5-0.5b",
        help="a catalog model key (random weights), a GGUF file (llama.cpp) or a model folder",
    )
    serve.add_argument("--quant", default="q4_K_M", help="llama.cpp GGUF quantizations: f16, q8_0, q4_K_M")
    serve.add_argument("--dtype", default="fp32", help="transformers/vLLM compute dtype: fp32, bf16, fp16")
    serve.add_argument("--device", default="cpu", help="cpu or cuda:N")
    serve.add_argument("--prompt-tokens", type=whole(1, 131_072), default=128)
    serve.add_argument("--output-tokens", type=whole(1, 32_768), default=32)
    _add_load_flags(serve, number, whole)
    serve.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    serve.add_argument("--cpu-watts", type=number(0, 100_000), help="rated CPU power for energy estimates")
    serve.add_argument("--gpu-watts", type=number(0, 100_000), help="rated GPU power for energy estimates")
    add_catalog_flags(serve)


def _add_load_flags(serve, number, whole) -> None:
    """The load, the latency target, energy figures and where results go."""
    serve.add_argument(
        "--concurrency",
        help="comma-separated levels, e.g. 1,2,4,8 (default: 1, 2, 4, ... "
        "until throughput stops rising or the target breaks)",
    )
    serve.add_argument(
        "--max-concurrency",
        type=whole(1, 4096),
        default=8,
        help="the highest level of the automatic sweep; the server's parallel slots",
    )
    serve.add_argument("--rate", help="Poisson arrival rates instead of concurrency, req/s, e.g. 0.5,1,2")
    serve.add_argument(
        "--requests",
        type=whole(1, 100_000),
        default=16,
        help="measured requests per level (at least 2 per user)",
    )
    serve.add_argument(
        "--warmup", type=whole(0, 10_000), help="warm-up requests per level (default: one per user)"
    )
    serve.add_argument(
        "--target-ttft-ms",
        type=number(0, 3_600_000),
        default=1000.0,
        help="latency target: p95 time to first token, ms (default 1000)",
    )
    serve.add_argument(
        "--target-tpot-ms", type=number(0, 3_600_000), help="latency target: p95 time per output token, ms"
    )
    serve.add_argument("--threads", type=whole(1, 4096), help="llama.cpp CPU threads (default: its own)")
    serve.add_argument(
        "--request-timeout", type=number(0, SECONDS_PER_DAY), default=600.0, help="seconds per request"
    )
    serve.add_argument(
        "--endpoint",
        help="a running OpenAI-compatible server instead of --engine, e.g. "
        "http://127.0.0.1:11434/v1 (Ollama)",
    )
    serve.add_argument(
        "--api",
        choices=("completions", "chat"),
        default="completions",
        help="--endpoint: /v1/completions or /v1/chat/completions",
    )
    serve.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="--endpoint: the environment variable holding the API key (never recorded)",
    )
    serve.add_argument("--results-dir", type=Path, default=Path("results"))
    serve.add_argument(
        "--model-cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"where random-weight model files are kept (default: {DEFAULT_CACHE})",
    )


def _whole_list(flag: str, text: str | None, low: int, high: int) -> tuple[int, ...]:
    if text is None:
        return ()
    try:
        values = tuple(int(item) for item in split_list(flag, text))
    except ValueError:
        raise UserInputError(f"{flag}: expected whole numbers like 1,2,4, got '{text}'") from None
    if any(not low <= v <= high for v in values):
        raise UserInputError(f"{flag}: each value must be between {low} and {high}, got '{text}'")
    return values


def _rate_list(text: str | None) -> tuple[float, ...]:
    if text is None:
        return ()
    try:
        values = tuple(float(item) for item in split_list("--rate", text))
    except ValueError:
        raise UserInputError(f"--rate: expected numbers like 0.5,1,2, got '{text}'") from None
    if any(not 0 < v <= 10_000 for v in values):
        raise UserInputError(f"--rate: each rate must be in (0, 10000] requests per second, got '{text}'")
    return values


def serve_config(args: argparse.Namespace) -> ServeConfig:
    engines = split_list("--engine", args.engine) if args.engine else ()
    concurrencies = _whole_list("--concurrency", args.concurrency, 1, 4096)
    return ServeConfig(
        engines=engines,
        model=args.model,
        quants=split_list("--quant", args.quant),
        dtype=args.dtype,
        device=args.device,
        prompt_tokens=args.prompt_tokens,
        output_tokens=args.output_tokens,
        concurrencies=concurrencies,
        rates_per_s=_rate_list(args.rate),
        max_concurrency=max(concurrencies) if concurrencies else args.max_concurrency,
        requests=args.requests,
        warmup=args.warmup,
        target_ttft_ms=args.target_ttft_ms,
        target_tpot_ms=args.target_tpot_ms,
        threads=args.threads,
        results_dir=args.results_dir,
        model_cache=args.model_cache,
        request_timeout_s=args.request_timeout,
        catalog_files=tuple(args.catalog),
        endpoint=args.endpoint,
        api=args.api,
        api_key_env=args.api_key_env,
        cpu_watts=args.cpu_watts,
        gpu_watts=args.gpu_watts,
        seed=args.seed,
    )
