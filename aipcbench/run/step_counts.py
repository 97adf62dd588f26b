"""What one step asks of a device, counted once in an untimed step: FLOPs, operations dispatched
and bytes moved. Device-independent figures, so a step measured here can be estimated on a GPU
we do not have (``cost.estimate``).

- FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` (matmuls, convolutions, attention, forward
  and backward, 2 FLOPs per multiply-add; element-wise ops are not counted, as peaks are quoted).
  Convolution FLOPs are also kept apart: cuDNN runs fp32 convolutions on TF32 tensor cores by
  default on Ampere and later, while fp32 matmuls stay on CUDA cores (PyTorch's default).
- Operations: every ATen call, through a ``TorchDispatchMode``. ``kernel_ops`` are the calls that
  do work (in eager PyTorch on a GPU each is one or more kernel launches, each paying a few
  microseconds of CPU-side dispatch); ``view_ops`` only reinterpret metadata.
- Bytes: ``eager`` is the sum over kernel ops of the bytes of their tensor inputs and outputs,
  what eager kernels read and write when nothing stays in cache (decode: every weight once per
  token); ``distinct`` counts each storage touched once, the least a step must move (weights,
  gradients and optimizer state, activations).

Counting intercepts every op and slows a tiny step several times over: it never wraps a timed
step (TorchBench counts FLOPs the same way). It works on meta tensors too (no memory, no
arithmetic: ``run.demand`` counts an 8B model that way), their bytes counted from their shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

METHOD = "torch FlopCounterMode, one step outside the timed window"
COUNTS_METHOD = "TorchDispatchMode over one untimed step: ATen calls, tensor bytes in and out"


@dataclass(frozen=True)
class StepCount:
    flop_count: int
    kernel_ops: int
    view_ops: int
    bytes_eager: int
    bytes_distinct: int
    conv_flop_count: int = 0  # of flop_count: convolutions, forward and backward


def count_step_flops(step: Callable[[], None]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return int(counter.get_total_flops())


def count_step(step: Callable[[], None]) -> StepCount:
    """FLOPs, operations and bytes of one call of ``step``."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves
    from torch.utils.flop_counter import FlopCounterMode

    tallies = {"kernel": 0, "view": 0, "bytes": 0}
    storages: dict[tuple[str, int], int] = {}

    def tensor_bytes(values) -> int:
        total = 0
        for leaf in tree_leaves(values):
            if isinstance(leaf, torch.Tensor):
                size = leaf.numel() * leaf.element_size()
                total += size
                try:
                    storage = leaf.untyped_storage()
                    # a meta storage has no address: its C object stands for it
                    place = storage._cdata if leaf.device.type == "meta" else storage.data_ptr()
                    key = (str(leaf.device), place)
                    storages[key] = max(storages.get(key, 0), storage.nbytes())
                except (RuntimeError, NotImplementedError):  # opaque tensors (oneDNN packed weights)
                    storages[(str(leaf.device), id(leaf))] = size
        return total

    class OpCounter(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if getattr(func, "is_view", False):
                tallies["view"] += 1
            else:
                tallies["kernel"] += 1
                tallies["bytes"] += tensor_bytes((args, kwargs)) + tensor_bytes(out)
            return out

    flops = FlopCounterMode(display=False)
    with flops, OpCounter():
        step()
    return StepCount(
        flop_count=int(flops.get_total_flops()),
        kernel_ops=tallies["kernel"],
        view_ops=tallies["view"],
        bytes_eager=tallies["bytes"],
        bytes_distinct=sum(storages.values()),
        conv_flop_count=conv_flops(flops),
    )


def conv_flops(counter) -> int:
    """The convolution share of a FlopCounterMode's total (forward and backward)."""
    by_op = counter.get_flop_counts().get("Global", {})
    return int(sum(n for op, n in by_op.items() if "convolution" in str(op)))
