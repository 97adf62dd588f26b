"""FLOPs of one step, counted once in a separate, untimed step (before warm-up ends).

``torch.utils.flop_counter.FlopCounterMode`` intercepts every aten op to count its FLOPs, which
slows a tiny step several times over: it must never wrap a timed step (TorchBench counts the
same way). It counts matmuls, convolutions and attention, forward and backward (2 FLOPs per
multiply-add); element-wise ops are not counted, which matches how peak FLOP/s are quoted.
"""

from __future__ import annotations

from collections.abc import Callable

METHOD = "torch FlopCounterMode, one step outside the timed window"


def count_step_flops(step: Callable[[], None]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return int(counter.get_total_flops())
