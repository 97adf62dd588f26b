"""Quantized decode against fp32 and bf16, side by side in one run, with the fidelity each costs.

Issue 17's benchmark: int8 (and int4) decode tokens/s as ratios to fp32 measured in the same
process, interleaved rounds, best round of each; the fidelity figures come from the cells'
own comparison with the same weights unquantized. Also: 50 % pruning against the dense MLP.

    bash scripts/bench.sh -k quantized -s
"""

from __future__ import annotations

import statistics
import time

import pytest
import torch

from workloads import causal_lm, gpt2_generate, mlp
from workloads.base import PrepareContext, WorkloadOptions

ROUNDS = 4
DTYPES = ("fp32", "bf16", "int8", "int4")


def _prepare(model: str, dtype: str):
    options = WorkloadOptions(model=model, prompt_tokens=32, new_tokens=32)
    context = PrepareContext("cpu", dtype, "batch1", quick=True, options=options)
    return (gpt2_generate if model == "gpt2" else causal_lm).prepare(context)


@pytest.mark.parametrize("model", ["gpt2", "qwen2.5-0.5b"])
def test_quantized_decode_tokens_per_s(model, record_property):
    prepared = {dtype: _prepare(model, dtype) for dtype in DTYPES}
    best: dict[str, float] = {}
    for _ in range(ROUNDS):
        for dtype, workload in prepared.items():
            workload.step()
            best[dtype] = max(best.get(dtype, 0.0), workload.extra_metrics(1)["decode_tokens_per_s"])
    print(f"\n{model} batch 1, decode tokens/s (best of {ROUNDS} interleaved rounds):")
    for dtype in DTYPES:
        fidelity = prepared[dtype].details.get("fidelity") or {}
        extra = (
            f"  top-1 {fidelity['top1_agreement']:.0%}, KL {fidelity['kl_divergence_nats']:.2g} nats"
            if fidelity
            else ""
        )
        ratio = best[dtype] / best["fp32"]
        record_property(f"{dtype}_over_fp32", ratio)
        print(f"  {dtype:5} {best[dtype]:7.1f} tok/s  {ratio:5.2f}x fp32{extra}")
    assert all(rate > 0 for rate in best.values())


def test_pruned_mlp_against_dense(record_property):
    """Interleaved forward passes, median of each: zeros in dense tensors save nothing."""
    cells = {
        size: mlp.prepare(PrepareContext("cpu", "fp32", size, quick=True))
        for size in ("infer", "infer-pruned")
    }
    times: dict[str, list[float]] = {size: [] for size in cells}
    with torch.inference_mode():
        for round_ in range(20):
            for size in sorted(cells, reverse=bool(round_ % 2)):
                started = time.perf_counter()
                cells[size].step()
                times[size].append(time.perf_counter() - started)
    ratio = statistics.median(times["infer"]) / statistics.median(times["infer-pruned"])
    record_property("pruned_speedup", ratio)
    print(f"\nmlp 784-4096-4096-10 batch 256: pruned 50% runs at {ratio:.2f}x the dense speed")
