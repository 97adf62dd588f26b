"""The training quality gate: did the model learn during the run, as far as the run can tell?

A benchmark that flags a healthy model teaches users to ignore the flag, so the gate only
judges when the run has taken enough optimizer steps to judge (VGG16 with SGD-momentum at lr
0.01 was seen at 2.48 untrained and 2.59 after a quick run's few steps on real-format CIFAR-10:
early SGD is noisy, and a handful of steps says nothing about whether a model learns):

- ``invalid``: a loss is NaN or infinite (diverged: conclusive at any length), or, after at
  least ``MIN_STEPS_TO_JUDGE`` optimizer steps, the loss is not below the untrained model's;
- ``valid``: the loss fell below the untrained model's (at any length);
- ``inconclusive``: it has not fallen yet, but too few steps were taken to call that a failure.
  Said in the record and the report; it does not fail the run.

Compared with the untrained loss rather than the loss at the start of the timed window, because
a small problem may already sit at its noise floor after warm-up.
"""

from __future__ import annotations

import math

from aipcbench.results.record import Quality

MIN_STEPS_TO_JUDGE = 50
RULE = (
    f"valid if the loss after the timed steps < the untrained model's; invalid if it is not after "
    f">= {MIN_STEPS_TO_JUDGE} optimizer steps, or any loss is not finite; else inconclusive"
)


def judge(
    loss_initial: float | None, loss_start: float | None, loss_end: float | None, optimizer_steps: int
) -> Quality | None:
    """The gate's verdict (None for workloads that do not train)."""
    if loss_initial is None:
        return None
    losses = (loss_initial, loss_start, loss_end)
    finite = all(v is not None and math.isfinite(v) for v in losses)
    fell = bool(finite and loss_end < loss_initial)
    if not finite:
        verdict = "invalid"
    elif fell:
        verdict = "valid"
    elif optimizer_steps >= MIN_STEPS_TO_JUDGE:
        verdict = "invalid"
    else:
        verdict = "inconclusive"
    return Quality(
        loss_initial=_finite(loss_initial),
        loss_start=_finite(loss_start),
        loss_end=_finite(loss_end),
        loss_fell=fell,
        verdict=verdict,
        valid_run=verdict != "invalid",
        rule=RULE,
        optimizer_steps=optimizer_steps,
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
