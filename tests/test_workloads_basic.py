"""Every built-in workload prepares and steps on the CPU, and training lowers the loss."""

import pytest

import workloads
from workloads.base import PrepareContext


@pytest.mark.parametrize(
    "name, size",
    [("mlp", "tiny"), ("mlp", "full"), ("linear-regression", "classic"), ("linear-regression", "wide")],
)
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_training_workloads_learn(name, size, dtype):
    prepared = workloads.get(name).prepare(PrepareContext("cpu", dtype, size, quick=True))
    assert prepared.mode == "train" and prepared.items_per_step > 0
    assert prepared.run.items_per_run > prepared.items_per_step
    before = prepared.evaluate_loss()
    for _ in range(5):
        prepared.step()
    assert prepared.evaluate_loss() < before


def test_null_workload_does_nothing_quickly():
    prepared = workloads.get("null").prepare(PrepareContext("cpu", "fp32", "default"))
    assert prepared.step() is None and prepared.mode == "overhead"
    assert prepared.data_source == "none"


def test_mlp_shapes_are_the_documented_ones():
    from workloads.mlp import build_model

    tiny = build_model((3, 4, 2))
    assert [tuple(p.shape) for p in tiny.parameters()] == [(4, 3), (4,), (2, 4), (2,)]
