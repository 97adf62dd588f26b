"""Real formats are read and used; wrong files fail naming the file; pickles run no code."""

import gzip
import os
import pickle

import numpy as np
import pytest

from aipcbench.errors import DataError
from tests import datafiles
from workloads import cnn_mnist, datasets, gpt2_generate, packed_linear, vgg16_cifar10
from workloads.base import PrepareContext, WorkloadOptions
from workloads.textgen import find_weights, greedy_decode


@pytest.fixture(autouse=True)
def no_user_data(monkeypatch, tmp_path):
    """Keep the user's own data locations out of the tests."""
    monkeypatch.delenv("AIPCBENCH_DATA_DIR", raising=False)
    monkeypatch.delenv("AIPCBENCH_GPT2_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.chdir(tmp_path)


def ctx(size, data_dir, **kw):
    return PrepareContext("cpu", "fp32", size, quick=True, data_dir=data_dir, **kw)


@pytest.mark.parametrize("writer", [datafiles.cifar_bin, datafiles.cifar_py])
def test_cifar_formats_are_read_and_used(tmp_path, writer):
    writer(tmp_path / "d")
    images = datasets.load_cifar10(tmp_path / "d", "train")
    assert images.images.shape == (6, 3, 32, 32) and images.labels.dtype == np.int64
    prepared = vgg16_cifar10.prepare(ctx("infer", tmp_path / "d"))
    assert prepared.data_source == "real" and "CIFAR-10 from" in prepared.data_note


def test_cifar_bin_pixels_keep_channel_planes(tmp_path):
    folder = datafiles.cifar_bin(tmp_path)
    raw = (folder / "data_batch_1.bin").read_bytes()
    loaded = datasets.read_cifar_bin(folder / "data_batch_1.bin")
    assert loaded.labels[0] == raw[0]
    assert loaded.images[0, 1, 0, 0] == raw[1 + 1024]  # first green pixel


def test_without_data_the_fallback_is_synthetic_and_said(tmp_path):
    prepared = vgg16_cifar10.prepare(ctx("infer", None))
    assert prepared.data_source == "synthetic" and "not found" in prepared.data_note


def test_truncated_and_out_of_range_cifar_fail_naming_the_file(tmp_path):
    folder = datafiles.cifar_bin(tmp_path)
    path = folder / "data_batch_1.bin"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="data_batch_1.bin.*whole number"):
        vgg16_cifar10.prepare(ctx("train", tmp_path))
    datafiles.cifar_bin(tmp_path / "b", label_override=11)
    with pytest.raises(DataError, match="labels outside 0..9"):
        datasets.load_cifar10(tmp_path / "b", "train")


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_with_code_execution_payload_is_refused_unexecuted(tmp_path):
    marker = tmp_path / "payload-ran"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": Payload(marker)}, protocol=2))
    with pytest.raises(DataError, match=r"data_batch_1: refused to unpickle: global '(posix|os)\.system'"):
        datasets.load_cifar10(tmp_path, "train")
    assert not marker.exists()
    # sanity: the same pickle does run code when loaded without the restriction
    pickle.loads((folder / "data_batch_1").read_bytes())
    assert marker.exists()


def test_garbage_pickle_is_a_data_error(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"\x80\x02}q\x00(X")
    with pytest.raises(DataError, match="data_batch_1: not a readable pickle"):
        datasets.load_cifar10(tmp_path, "train")


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_read_and_used(tmp_path, gz):
    datafiles.mnist(tmp_path, gz=gz)
    loaded = datasets.load_mnist(tmp_path, "train")
    assert loaded.images.shape == (20, 1, 28, 28)
    prepared = cnn_mnist.prepare(ctx("train", tmp_path))
    assert prepared.data_source == "real"
    before = prepared.evaluate_loss()
    for _ in range(10):
        prepared.step()
    assert prepared.evaluate_loss() < before


def test_bad_idx_files(tmp_path):
    folder = datafiles.mnist(tmp_path, gz=False)
    images = folder / "train-images-idx3-ubyte"
    good = images.read_bytes()
    images.write_bytes(b"\x00\x00\x08\x01" + good[4:])
    with pytest.raises(DataError, match="train-images-idx3-ubyte: magic 0x00000801, expected 0x00000803"):
        datasets.load_mnist(tmp_path, "train")
    images.write_bytes(good[:-1])
    with pytest.raises(DataError, match="header says"):
        datasets.load_mnist(tmp_path, "train")
    images.write_bytes(gzip.compress(good)[:20])
    images.rename(folder / "x")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(good)[:20])
    with pytest.raises(DataError, match="broken gzip"):
        datasets.load_mnist(tmp_path, "train")


def test_gpt2_weights_from_a_save_pretrained_directory(tmp_path):
    datafiles.tiny_gpt2(tmp_path)
    prepared = gpt2_generate.prepare(ctx("batch1", tmp_path))
    assert prepared.weights_source == "pretrained" and prepared.data_source == "real"
    assert prepared.parameters < 5_000_000  # the tiny model, not a silent random 124M
    for _ in range(3):
        prepared.step()
    metrics = prepared.extra_metrics(2)
    assert metrics["generations_timed"] == 2 and metrics["new_tokens"] == 32
    assert metrics["ttft_s_median"] > 0 and metrics["decode_tokens_per_s"] > 0
    assert prepared.items_per_step == 32


def test_gpt2_without_weights_is_random_init_of_the_real_shape(tmp_path):
    model = gpt2_generate.random_gpt2(__import__("torch").device("cpu"), 0)
    assert sum(p.numel() for p in model.parameters()) == 124_439_808
    assert find_weights(None, "gpt2", "AIPCBENCH_GPT2_DIR", gpt2_generate.HUB_REPOS) is None


def test_corrupt_safetensors_is_a_data_error(tmp_path):
    folder = datafiles.tiny_gpt2(tmp_path)
    (folder / "model.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(DataError, match="model.safetensors: cannot load"):
        gpt2_generate.prepare(ctx("batch1", tmp_path))


def test_lean_decode_gives_the_same_tokens_as_generate(tmp_path):
    import torch

    datafiles.tiny_gpt2(tmp_path)
    model = gpt2_generate.load_model(tmp_path / "gpt2").eval()
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 50257, (3, gpt2_generate.PROMPT_TOKENS), generator=generator)
    with torch.inference_mode():
        reference = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=20,
            min_new_tokens=20,
            do_sample=False,
            pad_token_id=50256,
        )
    assert torch.equal(greedy_decode(model, ids, 20), reference)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_matvec_layout_keeps_the_weights_and_the_tokens(tmp_path, dtype):
    import copy

    import torch

    datafiles.tiny_gpt2(tmp_path)
    model = gpt2_generate.load_model(tmp_path / "gpt2").to(getattr(torch, dtype)).eval()
    relaid = gpt2_generate.matvec_layout(copy.deepcopy(model))
    attention = relaid.transformer.h[0].attn.c_attn
    assert isinstance(attention, torch.nn.Linear)
    assert torch.equal(attention.weight, model.transformer.h[0].attn.c_attn.weight.t())
    ids = torch.randint(
        0, 50257, (1, gpt2_generate.PROMPT_TOKENS), generator=torch.Generator().manual_seed(2)
    )
    with torch.inference_mode():
        reference = model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=16, min_new_tokens=16, do_sample=False
        )
    assert torch.equal(greedy_decode(relaid, ids, 16), reference)
    assert sum(p.numel() for p in relaid.parameters()) == sum(p.numel() for p in model.parameters())
    if dtype == "bfloat16" and packed_linear.available():  # what prepare does for CPU bf16
        assert packed_linear.pack_linears(relaid) == 2 * 4 + 1  # 2 layers x 4 projections + head
        assert torch.equal(greedy_decode(relaid, ids, 16), reference)


def test_packed_bf16_gpt2_counts_the_same_flops_as_fp32(tmp_path):
    from aipcbench.run.step_counts import count_step_flops
    from workloads.base import PrepareContext

    if not packed_linear.available():
        pytest.skip("oneDNN cannot pack bf16 weights here (no oneDNN, or a CPU without AVX-512 BW/VL/DQ)")
    datafiles.tiny_gpt2(tmp_path)
    counted = {}
    for dtype in ("fp32", "bf16"):
        prepared = gpt2_generate.prepare(
            PrepareContext("cpu", dtype, "batch1", quick=True, data_dir=tmp_path)
        )
        counted[dtype] = (count_step_flops(prepared.step), prepared.details["weight_layout"])
    assert "oneDNN" in counted["bf16"][1] and "Conv1D" in counted["fp32"][1]
    assert counted["bf16"][0] == counted["fp32"][0] > 0


@pytest.mark.parametrize("decode, generate_calls", [("lean", 0), ("generate", 2)])
def test_both_decode_modes_time_prefill_and_decode(tmp_path, monkeypatch, decode, generate_calls):
    from transformers.generation.utils import GenerationMixin

    calls = []
    real_generate = GenerationMixin.generate

    def counting_generate(self, *args, **kwargs):
        calls.append(1)
        return real_generate(self, *args, **kwargs)

    monkeypatch.setattr(GenerationMixin, "generate", counting_generate)
    datafiles.tiny_gpt2(tmp_path)
    prepared = gpt2_generate.prepare(ctx("batch1", tmp_path, options=WorkloadOptions(decode=decode)))
    calls.clear()  # the counting pass, if any, is not a timed step
    for _ in range(2):
        prepared.step()
    assert len(calls) == generate_calls  # lean: aipcbench's own loop; generate: transformers' own
    metrics = prepared.extra_metrics(2)
    assert metrics["new_tokens"] == 32 and metrics["ttft_s_median"] > 0
    assert metrics["decode_weight_stream_bytes_per_s"] == pytest.approx(
        metrics["weight_bytes"] / metrics["per_token_latency_s_median"]
    )
    assert ("aipcbench's decode loop" in prepared.details["decoding"]) == (decode == "lean")
