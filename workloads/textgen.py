"""Text generation shared by every causal-LM workload: where weights are looked for, greedy
decoding over a model's own KV cache, the per-token clock, and the weight stream it implies.

GPT-2 is the first user; any Hugging Face causal LM whose forward takes ``input_ids``,
a KV cache (``cache``, or ``past_key_values`` in older transformers) and ``use_cache`` decodes the same way.
"""

from __future__ import annotations

import inspect
import os
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def find_weights(data_dir: Path | None, folder: str, env_var: str, hub_repos: tuple[str, ...]) -> Path | None:
    """A directory holding a model's ``config.json``, from the places a user may keep one:
    ``--data-dir/FOLDER`` (or ``--data-dir`` itself), ``$ENV_VAR``, ``./data/FOLDER`` and the
    Hugging Face cache's snapshots of ``hub_repos`` (e.g. ``models--gpt2``)."""
    candidates = []
    if data_dir is not None:
        candidates += [data_dir / folder, data_dir]
    if os.environ.get(env_var):
        candidates.append(Path(os.environ[env_var]))
    candidates.append(Path("data") / folder)
    hub = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    for repo in hub_repos:
        candidates += sorted((hub / repo / "snapshots").glob("*"))
    for candidate in candidates:
        if (candidate / "config.json").is_file():
            return candidate
    return None


class TokenClock:
    """A ``transformers`` streamer that stamps the harness's clock at the prompt and every token."""

    def __init__(self, clock: Callable[[], float], prompt_tokens: int) -> None:
        self.clock, self.prompt_tokens = clock, prompt_tokens
        self.generations: list[list[float]] = []

    def begin(self) -> None:
        self.generations.append([self.clock()])

    def put(self, value: torch.Tensor) -> None:  # called with tokens already on the host
        self.generations[-1].append(self.clock())

    def end(self) -> None:
        pass

    def metrics(self, last_n: int, batch: int) -> dict[str, Any]:
        """Prefill/decode figures over the last ``last_n`` generations (the timed ones)."""
        timed = self.generations[-last_n:] if last_n else []
        # stamps: [start, prompt put, token 1, token 2, ..., token N]
        ttft = [g[2] - g[0] for g in timed]
        decode_s = [g[-1] - g[2] for g in timed]
        new_tokens = len(timed[0]) - 2 if timed else 0
        intervals = sorted(b - a for g in timed for a, b in zip(g[2:], g[3:]))
        if not timed or new_tokens < 2:
            return {}
        return {
            "batch": batch,
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": new_tokens,
            "generations_timed": len(timed),
            "ttft_s_median": statistics.median(ttft),
            "decode_tokens_per_s": batch * (new_tokens - 1) / statistics.median(decode_s),
            "per_token_latency_s_median": statistics.median(intervals),
            "per_token_latency_s_p95": intervals[int(0.95 * (len(intervals) - 1))],
            "e2e_tokens_per_s": batch * new_tokens / statistics.median([g[-1] - g[0] for g in timed]),
        }


DECODERS = {
    "lean": "greedy, aipcbench's decode loop over the transformers module (same tokens as generate)",
    "generate": "greedy, transformers.generate (reference)",
}


def cache_argument(model) -> str:
    """The name of the KV-cache argument and output: ``cache`` from transformers 5.2x (where
    ``past_key_values`` is deprecated), ``past_key_values`` before."""
    known = getattr(model, "_aipcbench_cache_argument", None)
    if known is None:  # asked once per model, outside the steps after the first
        try:
            parameters = inspect.signature(model.forward).parameters
            known = "cache" if "cache" in parameters else "past_key_values"
        except (TypeError, ValueError):
            known = "past_key_values"
        model._aipcbench_cache_argument = known
    return known


@torch.inference_mode()
def greedy_decode(
    model, ids: torch.Tensor, new_tokens: int, clock: TokenClock | None = None, sync=lambda: None
) -> torch.Tensor:
    """Greedy decoding with the model's own KV cache, without ``generate``'s per-token
    machinery (logits processors, stopping criteria): same weights, same arithmetic, same
    tokens (tested against ``generate``). Returns prompt + new tokens, (B, P + N)."""
    if clock is not None:
        clock.begin()
        clock.put(ids)
    try:  # prefill: (B, P); only the last position's logits are needed, as generate does
        out = model(ids, use_cache=True, logits_to_keep=1)  # logits (B, 1, V)
    except TypeError:  # transformers versions without logits_to_keep
        out = model(ids, use_cache=True)  # logits (B, P, V)
    tokens = [out.logits[:, -1].argmax(-1, keepdim=True)]  # (B, 1)
    name = cache_argument(model)
    past = getattr(out, name)
    if clock is not None:
        sync()
        clock.put(tokens[-1])
    for _ in range(new_tokens - 1):
        out = model(tokens[-1], **{name: past}, use_cache=True)
        past = getattr(out, name)
        tokens.append(out.logits[:, -1].argmax(-1, keepdim=True))
        if clock is not None:
            sync()
            clock.put(tokens[-1])
    return torch.cat([ids, *tokens], dim=1)


def weight_stream(metrics: dict[str, Any], weight_bytes: int) -> dict[str, Any]:
    """Decode streams every weight once per token step: bytes/s = weight bytes / step latency.
    Compared with the device's bandwidth (the bound at batch 1) in the results' derived fields."""
    latency = metrics.get("per_token_latency_s_median")
    if not latency:
        return {}
    return {"weight_bytes": weight_bytes, "decode_weight_stream_bytes_per_s": weight_bytes / latency}
