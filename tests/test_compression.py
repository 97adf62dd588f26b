"""Pruning and quantized classifier cells: what they do to the weights, what they cost in fidelity."""

import pytest
import torch

import workloads
from workloads import mlp, vgg16_cifar10
from workloads.base import PrepareContext, Unsupported
from workloads.compression import prune_weights


def test_pruning_zeroes_half_of_every_weight_and_keeps_tensors_dense():
    model = mlp.build_model((784, 256, 10))
    assert prune_weights(model) == pytest.approx(0.5, abs=1e-3)
    first = model[0]
    assert first.weight.layout == torch.strided and not hasattr(first, "weight_mask")  # mask baked in
    assert (first.weight == 0).float().mean().item() == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize(
    "size, dtype, agreement, kl",
    # measured on the seeded model (random weights): int8 0.98 agreement and 6e-6 nats, int4
    # 0.91 and 4e-5, half the weights pruned 0.52 and 0.003: each band fails if the compression
    # is skipped (1.0, 0) or the reference is not the dense model
    [
        ("infer", "int8", (0.9, 0.999), (1e-7, 1e-4)),
        ("infer-pruned", "fp32", (0.3, 0.8), (1e-4, 0.05)),
        ("infer", "int4", (0.8, 0.99), (1e-6, 1e-3)),
    ],
)
def test_compressed_mlp_cells_record_fidelity_against_the_dense_fp32_model(size, dtype, agreement, kl):
    prepared = mlp.prepare(PrepareContext("cpu", dtype, size, quick=True))
    details = prepared.details
    assert details["fidelity"]["positions"] == 256
    assert agreement[0] < details["fidelity"]["top1_agreement"] < agreement[1]
    assert kl[0] < details["fidelity"]["kl_divergence_nats"] < kl[1]
    assert ("pruned_fraction" in details) == (size == "infer-pruned")
    assert ("quantization" in details) == (dtype != "fp32")
    prepared.step()
    assert prepared.mode == "infer"


def test_a_dense_fp32_inference_cell_records_no_compression():
    prepared = mlp.prepare(PrepareContext("cpu", "fp32", "infer", quick=True))
    assert "fidelity" not in prepared.details and "pruned_fraction" not in prepared.details


def test_quantized_training_and_quantized_vgg_are_skipped_with_the_reason():
    with pytest.raises(Unsupported, match="for inference: use mlp:infer"):
        mlp.prepare(PrepareContext("cpu", "int8", "full", quick=True))
    assert "int8" not in vgg16_cifar10.SPEC.dtypes and "int8" in mlp.SPEC.dtypes


def test_compression_sizes_are_asked_for_by_name_not_run_by_default():
    defaults = {name: spec.default_sizes or spec.sizes for name, spec in workloads.REGISTRY.items()}
    assert defaults["mlp"] == ("tiny", "full") and defaults["vgg16-cifar10"] == ("train", "infer")
    assert "causal-lm" not in workloads.DEFAULT_WORKLOADS
