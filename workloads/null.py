"""A step that does nothing: what is left in its step time is the harness's own overhead.

Every other workload's step time includes this overhead, so it must stay far below their step
times (the target is under 10 microseconds per step).
"""

from __future__ import annotations

from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, WorkloadSpec


def _nothing() -> None:
    return None


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    return PreparedWorkload(
        step=_nothing,
        items_per_step=1,
        item_unit="steps",
        mode="overhead",
        run=RunDefinition("1,000,000 empty steps (the harness overhead of a long run)", 1_000_000),
        data_source="none",
        data_note="no data: measures the harness loop, clock reads and device syncs",
    )


SPEC = WorkloadSpec(
    name="null",
    summary="do-nothing step: the harness's own per-step overhead",
    sizes=("default",),
    prepare=prepare,
)
