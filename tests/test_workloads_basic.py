"""Every built-in workload prepares and steps on the CPU, and training lowers the loss."""

import pytest

import workloads
from workloads.base import PrepareContext, WorkloadOptions


def _native_bf16() -> bool:
    """oneDNN has bf16 kernels for this CPU (AVX-512 BF16, AMX); elsewhere bf16 convolutions are
    emulated and a VGG16 training step takes minutes, so the bf16 cases skip there, saying so."""
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@pytest.mark.parametrize(
    "name, size",
    [("mlp", "tiny"), ("mlp", "full"), ("linear-regression", "classic"), ("linear-regression", "wide")],
)
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_training_workloads_learn(name, size, dtype):
    if dtype == "bf16" and size == "full" and not _native_bf16():
        pytest.skip("bf16 matmuls are emulated on this CPU: 5 steps of mlp:full take minutes")
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


@pytest.mark.parametrize(
    "options, dtype",
    [
        (WorkloadOptions(), "fp32"),
        (WorkloadOptions(channels_last=True), "fp32"),
        (WorkloadOptions(channels_last=True), "bf16"),
    ],
)
def test_vgg16_trains_on_cifar_shaped_data(options, dtype):
    if dtype == "bf16" and not _native_bf16():
        pytest.skip("bf16 convolutions are emulated on this CPU: a VGG16 step takes minutes")
    prepared = workloads.get("vgg16-cifar10").prepare(
        PrepareContext("cpu", dtype, "train", quick=True, options=options)
    )
    # the pytorch-cifar VGG16 count (14,728,266) less the 4,224 conv biases batch norm makes redundant
    assert prepared.parameters == 14_724_042
    assert prepared.items_per_step == 64 and prepared.run.items_per_run == 500_000
    before = prepared.evaluate_loss()
    for _ in range(3):
        prepared.step()
    assert prepared.evaluate_loss() < before


def test_cnn_mnist_shape():
    prepared = workloads.get("cnn-mnist").prepare(PrepareContext("cpu", "fp32", "train"))
    assert prepared.parameters == 34_826  # the Keras example's count
    assert prepared.run.items_per_run == 600_000
