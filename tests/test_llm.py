"""Any causal LM: catalog shapes, safe loading, quantized weights and their fidelity, fit skips."""

import json

import pytest
import torch

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_folder import stored_parameters
from aipcbench.errors import DataError, UserInputError
from tests import datafiles
from workloads import causal_lm, fidelity, quantize
from workloads.base import PrepareContext, Unsupported, WorkloadOptions
from workloads.lm_models import transformers_config


@pytest.fixture(autouse=True)
def no_user_models(monkeypatch, tmp_path):
    monkeypatch.delenv("AIPCBENCH_MODEL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def ctx(dtype, model, size="batch1", **kw):
    options = WorkloadOptions(model=str(model), prompt_tokens=8, new_tokens=4)
    return PrepareContext("cpu", dtype, size, quick=True, options=options, **kw)


@pytest.mark.parametrize("shape", load_catalog().model_configs, ids=lambda m: m.key)
def test_every_catalog_shape_builds_to_its_cited_parameter_count(shape):
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(transformers_config(shape))
    assert sum(p.numel() for p in model.parameters()) == shape.parameters


def test_a_safetensors_directory_generates_and_times_prefill_apart(tmp_path):
    folder = datafiles.tiny_llama(tmp_path)
    prepared = causal_lm.prepare(ctx("fp32", folder))
    assert prepared.weights_source == "pretrained" and prepared.mode == "generate"
    assert prepared.items_per_step == 4
    for _ in range(3):
        prepared.step()
    metrics = prepared.extra_metrics(2)
    assert metrics["new_tokens"] == 4 and metrics["ttft_s_median"] > 0
    assert prepared.details["kv_cache_bytes"] == 2 * 2 * 1 * (8 + 4) * 2 * 32 * 4  # L B T Hkv d fp32
    # the fit check counted the checkpoint's parameters from its safetensors header
    assert stored_parameters(folder) == prepared.parameters
    assert prepared.details["memory_need_bytes"] >= prepared.parameters * 4


@pytest.mark.parametrize(
    "dtype, min_agreement, max_kl",
    # measured on this seeded tiny model (random weights, std 0.02): int8 0.92 agreement and
    # 6e-5 nats, int4 0.66 and 0.001 nats. Random weights give near-flat logits (top token ~0.4 %
    # likely), where small noise flips the argmax: the KL is the steadier figure.
    [("int8", 0.85, 0.0005), ("int4", 0.55, 0.005)],
)
def test_quantized_model_agrees_with_the_same_weights_unquantized(tmp_path, dtype, min_agreement, max_kl):
    folder = datafiles.tiny_llama(tmp_path)
    prepared = causal_lm.prepare(ctx(dtype, folder))
    figures = prepared.details["fidelity"]
    assert figures["positions"] == fidelity.FIDELITY_PROMPTS * fidelity.FIDELITY_TOKENS
    assert figures["top1_agreement"] >= min_agreement
    assert 0 < figures["kl_divergence_nats"] <= max_kl  # > 0: the weights were quantized
    assert dtype in prepared.details["quantization"]
    prepared.step()
    fp32_bytes = prepared.parameters * 4
    assert prepared.details["weight_bytes"] < fp32_bytes * (0.45 if dtype == "int8" else 0.35)


def test_fidelity_of_a_model_against_itself_is_perfect():
    reference = torch.log_softmax(torch.randn(16, 10), -1)
    assert fidelity.compare(reference, reference) == {
        "top1_agreement": 1.0,
        "kl_divergence_nats": 0.0,
        "positions": 16,
    }
    flipped = torch.log_softmax(-reference, -1)
    assert fidelity.compare(reference, flipped)["top1_agreement"] == 0.0


def test_int4_linear_computes_the_dequantized_product():
    linear = torch.nn.Linear(256, 64)
    packed = quantize.Int4Linear(linear)
    weight = linear.weight.detach().reshape(64, 2, 128)
    low, high = weight.amin(-1, keepdim=True), weight.amax(-1, keepdim=True)
    scale = (high - low) / 15
    dequantized = (torch.round((weight - low) / scale) * scale + low).reshape(64, 256)
    x = torch.randn(3, 256)
    expected = x @ dequantized.T + linear.bias
    # bf16 activations and scales inside the kernel: agreement to bf16 precision
    assert torch.allclose(packed(x), expected, rtol=0.02, atol=0.05)
    assert (packed(x) - x @ linear.weight.T - linear.bias).abs().max() > 1e-3  # it did quantize


def test_quantized_linears_count_their_flops():
    from aipcbench.run.step_counts import count_step_flops

    for dtype in ("int8", "int4"):
        model = torch.nn.Sequential(torch.nn.Linear(256, 128)).eval()
        quantize.quantize_linears(model, dtype, "cpu")
        x = torch.randn(4, 256)
        assert count_step_flops(lambda m=model, x=x: m(x)) == 2 * 4 * 256 * 128


def test_no_kernel_is_a_skip_with_the_reason():
    model = torch.nn.Sequential(torch.nn.Linear(100, 10))
    with pytest.raises(Unsupported, match="no linear layer"):
        quantize.quantize_linears(model, "int4", "cpu")
    with pytest.raises(Unsupported, match="mps"):
        quantize.quantize_linears(model, "int8", "mps")


def test_a_model_that_cannot_fit_is_skipped_with_the_figures(monkeypatch):
    monkeypatch.setattr(causal_lm, "device_memory_bytes", lambda device: (8 * 2**30, "8.0 GiB (test)"))
    with pytest.raises(Unsupported, match=r"does not fit: Llama-3.1-8B-shaped at bf16.*needs 1[45]\.\d GiB"):
        causal_lm.prepare(ctx("bf16", "llama3.1-8b"))
    with pytest.raises(Unsupported, match=r"fp32 copy is built before quantizing"):
        causal_lm.prepare(ctx("int4", "llama3.1-8b"))


def test_bad_model_directories_are_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserInputError, match="no config.json"):
        causal_lm.prepare(ctx("fp32", empty))
    with pytest.raises(UserInputError, match="neither a catalog model"):
        causal_lm.prepare(ctx("fp32", "no-such-model"))
    folder = datafiles.tiny_llama(tmp_path)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(UserInputError, match="only pickled pytorch_model.bin.*never loads"):
        causal_lm.prepare(ctx("fp32", folder))
    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 8}')
    with pytest.raises(UserInputError, match="architecture 'bert' is not supported"):
        causal_lm.prepare(ctx("fp32", folder))


def test_real_weights_and_a_tokenizer_add_perplexity_on_the_bundled_text(tmp_path):
    folder = datafiles.tiny_llama(tmp_path)
    datafiles.word_tokenizer(folder, fidelity.PERPLEXITY_TEXT.read_text())
    prepared = causal_lm.prepare(ctx("int8", folder))
    figures = prepared.details["fidelity"]
    # a random 512-token model: perplexity near the vocabulary size, finite and above 1
    assert 1 < figures["perplexity"] < 10_000 and "perplexity.txt" in figures["perplexity_note"]
    assert figures["prompts"] == "4 pieces of 32 tokens of perplexity.txt"  # real text, not random ids
    assert "tokenised English prompt" in prepared.data_note


def test_a_bad_model_is_refused_before_the_first_cell(cli, tmp_path):
    results = tmp_path / "results"
    for model, message in (
        ("no-such-model", "neither a catalog model"),
        (str(tmp_path), "has no config.json"),
    ):
        code, _, err = cli(
            "run",
            "--workloads",
            "causal-lm:batch1",
            "--model",
            model,
            "--results-dir",
            str(results),
            "--no-report",
        )
        assert code == 2 and message in err and "Traceback" not in err
    assert not list(results.glob("run-*.json"))  # nothing started


@pytest.mark.parametrize("maker", ["tiny_gpt2", "tiny_llama"])
def test_a_partial_checkpoint_is_refused_naming_what_is_missing(tmp_path, maker):
    """A checkpoint without some of the model's weights would leave them random under a
    'pretrained' label: both language-model workloads refuse it."""
    from safetensors.torch import load_file, save_file

    from aipcbench.errors import DataError
    from workloads.lm_models import load_pretrained

    folder = getattr(datafiles, maker)(tmp_path)
    tensors = load_file(folder / "model.safetensors")
    dropped = sorted(tensors)[-1]
    save_file(
        {k: v for k, v in tensors.items() if k != dropped},
        folder / "model.safetensors",
        metadata={"format": "pt"},
    )
    with pytest.raises(DataError, match=r"a partial checkpoint: [12] of the model's weights are missing"):
        load_pretrained(folder)


def test_a_config_that_lies_about_the_model_is_refused_before_anything_is_built(tmp_path):
    """The model is built from config.json: a config claiming a far larger model than its
    safetensors hold would pass a fit check counted from the weights and be killed by the
    out-of-memory killer. Both figures are named."""
    folder = datafiles.tiny_llama(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["num_hidden_layers"] = 200  # 200 layers of a model whose weights hold 2
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        DataError, match=r"config.json builds [\d,]+ parameters but the safetensors files hold 426,624"
    ):
        causal_lm.prepare(ctx("fp32", folder))
    config["num_hidden_layers"] = 10**6  # not even counted on the meta device
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DataError, match="1e\\+06 layers.*not a model to build"):
        causal_lm.prepare(ctx("fp32", folder))


@pytest.mark.parametrize("target", ["pytorch_model.bin", "../elsewhere.safetensors", "sub/model.safetensors"])
def test_a_sharded_index_may_name_only_safetensors_in_the_folder(tmp_path, target):
    folder = datafiles.tiny_llama(tmp_path)
    (folder / "model.safetensors").rename(folder / "model-00001-of-00001.safetensors")
    torch.save({}, folder / "pytorch_model.bin")  # a pickle: must never be opened
    index = {
        "metadata": {},
        "weight_map": {"lm_head.weight": target, "model.norm.weight": "model-00001-of-00001.safetensors"},
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(UserInputError, match="only safetensors files in the folder are loaded"):
        causal_lm.prepare(ctx("fp32", folder))
