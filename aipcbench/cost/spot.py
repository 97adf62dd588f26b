"""Spot capacity: cheaper hours that can be taken back, so a run may be run again.

With interruptions arriving at a rate of lambda an hour while an instance runs (a Poisson
process), a run of T hours that restarts after each interruption from its last checkpoint,
written every c hours (c = T: no checkpoint, the run starts over), takes on average

    E[time] = (T / c) x (e^(lambda c) - 1) / lambda   + (T / c) x (e^(lambda c) - 1) x restart

hours: each of the T / c segments is retried until it gets through, and each interruption pays
a restart (a new instance's set-up). For small lambda c this is T (1 + lambda c / 2): half a
segment lost per interruption. The default rate is an assumption said with the answer (AWS
publishes interruption frequency only as monthly bands: under 5 % to over 20 % of instances);
a plan gives its own (``[rent]``: ``spot_interruptions_per_hour``, ``checkpoint_minutes``) and
says whether it tolerates spot capacity at all (``spot = true``), which is what lets a spot
rental win. Pure; pinned in tests/test_sessions.py.
"""

from __future__ import annotations

import math

# ASSUMPTION: about one interruption per 100 running hours; AWS Spot Instance Advisor bands GPU
# families from under 5 % (L4) to 10-20 % (H100) of instances interrupted over a month
# (thundercompute.com/blog/cloud-gpu-spot-instance-availability, read 2026-02-24)
ASSUMED_INTERRUPTIONS_PER_HOUR = 0.01


def expected_seconds(run_s: float, per_hour: float, checkpoint_s: float | None, restart_s: float) -> float:
    """Expected running seconds of a run of ``run_s`` on spot capacity (module docstring)."""
    if run_s <= 0 or per_hour <= 0:
        return run_s
    segment = min(checkpoint_s or run_s, run_s)
    rate = per_hour / 3600.0  # per second
    exponent = rate * segment
    if exponent > 50:  # each segment almost never gets through: say so with a huge finite figure
        return math.inf
    tries = math.expm1(exponent)  # expected interruptions per segment
    return run_s / segment * (tries / rate + tries * restart_s)
