"""GPT-2 decode at batch 1: aipcbench's lean loop against ``transformers.generate``.

Target (issue 3): no slower than generate with default (greedy) settings. Interleaved rounds,
best of each, decode tokens/s from the per-token clock stamps.

    bash scripts/bench.sh -k decode -s
"""

from __future__ import annotations

import pytest

from workloads import gpt2_generate
from workloads.base import PrepareContext

ROUNDS = 5


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_lean_decode_not_slower_than_generate(dtype, record_property):
    best = {}
    prepared = {
        mode: gpt2_generate.prepare(
            PrepareContext("cpu", dtype, "batch1", quick=True, options={"decode": mode})
        )
        for mode in ("lean", "generate")
    }
    for _ in range(ROUNDS):
        for mode, workload in prepared.items():
            workload.step()
            rate = workload.extra_metrics(1)["decode_tokens_per_s"]
            best[mode] = max(best.get(mode, 0.0), rate)
    ratio = best["lean"] / best["generate"]
    record_property("lean_over_generate", ratio)
    print(
        f"\n{dtype}: lean {best['lean']:.1f} tok/s, generate {best['generate']:.1f} tok/s, ratio {ratio:.3f}"
    )
    assert ratio >= 1.0
