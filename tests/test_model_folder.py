"""A model folder checked before anything loads it (catalog.model_folder), and serve's memory
check (serve.memory_check): the parameters in the safetensors headers, a config that lies about
its size, pickles and absurd headers refused in one line, no server started."""

from __future__ import annotations

import json
import struct

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_folder import config_parameters_estimate, header_parameters, stored_parameters
from aipcbench.catalog.model_memory import GIB
from aipcbench.errors import DataError, UserInputError
from aipcbench.serve import memory_check
from aipcbench.serve.memory_check import check_weights_fit
from tests import datafiles

SHAPES = {m.key: m for m in load_catalog().model_configs}


def _safetensors(path, tensors: dict, header_length: int | None = None) -> None:
    header = json.dumps(
        {name: {"dtype": "F16", "shape": shape, "data_offsets": [0, 0]} for name, shape in tensors.items()}
    )
    length = len(header) if header_length is None else header_length
    path.write_bytes(struct.pack("<Q", length) + header.encode())


def test_the_headers_count_what_transformers_saved(tmp_path):
    """The tiny Llama saved by transformers: 2 layers of hidden 128 (4 heads x 32, 2 KV heads),
    MLP 256, vocabulary 512, untied: counted by hand and from the headers alone."""
    folder = datafiles.tiny_llama(tmp_path)
    per_layer = 128 * 128 * 2 + 128 * 64 * 2 + 3 * 128 * 256 + 2 * 128
    by_hand = 2 * per_layer + 2 * 512 * 128 + 128
    assert stored_parameters(folder) == by_hand
    config = json.loads((folder / "config.json").read_text())
    assert config_parameters_estimate(config) == by_hand - 5 * 128  # norms are not counted


@pytest.mark.parametrize(
    "key, config",
    [
        (
            "llama3.1-8b",
            {
                "num_hidden_layers": 32,
                "hidden_size": 4096,
                "num_attention_heads": 32,
                "num_key_value_heads": 8,
                "head_dim": 128,
                "intermediate_size": 14336,
                "vocab_size": 128256,
                "tie_word_embeddings": False,
            },
        ),
        ("gpt2-124m", {"n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257}),
        (
            "qwen2.5-0.5b",
            {
                "num_hidden_layers": 24,
                "hidden_size": 896,
                "num_attention_heads": 14,
                "num_key_value_heads": 2,
                "intermediate_size": 4864,
                "vocab_size": 151936,
                "tie_word_embeddings": True,
            },
        ),
    ],
)
def test_the_config_estimate_is_within_two_percent_of_the_published_count(key, config):
    """Configs as published (config.json copies: llama-style and GPT-2-style keys)."""
    assert config_parameters_estimate(config) == pytest.approx(SHAPES[key].parameters, rel=0.02)


@pytest.mark.parametrize(
    "header_length, tensors, message",
    [
        (2**40, {"w": [2, 2]}, "a header of 1099511627776 bytes"),
        (None, {"w": [2, -2]}, "has shape [2, -2]"),
        (5, {"w": [2, 2]}, "not a readable safetensors file"),
    ],
)
def test_a_broken_header_is_one_line(tmp_path, header_length, tensors, message):
    path = tmp_path / "model.safetensors"
    _safetensors(path, tensors, header_length)
    with pytest.raises(DataError) as caught:
        header_parameters(path)
    assert message in str(caught.value)


def test_serve_refuses_a_folder_whose_config_claims_a_larger_model(cli, tmp_path, capsys):
    """The weights hold the tiny model; the config claims 64 layers of width 8,192: an engine
    would allocate ~50 B parameters before noticing. Refused naming both, nothing started."""
    folder = datafiles.tiny_llama(tmp_path)
    capsys.readouterr()  # transformers' own progress bar while saving
    config = json.loads((folder / "config.json").read_text())
    config.update(num_hidden_layers=64, hidden_size=8192, intermediate_size=28672, num_attention_heads=64)
    (folder / "config.json").write_text(json.dumps(config))
    code, _, err = cli(
        "serve", "--engine", "transformers", "--model", str(folder), "--results-dir", str(tmp_path / "r")
    )
    assert code == 2 and err.count("\n") == 1
    stored = stored_parameters(folder)
    assert "config.json describes about" in err and f"the safetensors files hold {stored:,}" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "layout, message",
    [
        ("pickle-only", "no model.safetensors (only pickled pytorch_model.bin"),
        ("index-to-pickle", "names 'pytorch_model.bin': only safetensors files in the folder"),
    ],
)
def test_serve_never_hands_a_pickle_to_an_engine(cli, tmp_path, capsys, layout, message):
    folder = datafiles.tiny_llama(tmp_path)
    capsys.readouterr()
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    if layout == "index-to-pickle":
        (folder / "model.safetensors.index.json").write_text(
            json.dumps({"weight_map": {"w": "pytorch_model.bin"}})
        )
    code, _, err = cli(
        "serve", "--engine", "transformers", "--model", str(folder), "--results-dir", str(tmp_path / "r")
    )
    assert code == 2 and message in err and err.count("\n") == 1


def test_weights_that_cannot_fit_the_host_are_refused_before_a_server_starts():
    """Llama-3.1-8B at fp32 on the CPU: 8.03e9 x 4 bytes + 0.5 GiB = 30.4 GiB against 24 GiB."""
    params = int(SHAPES["llama3.1-8b"].parameters)
    with pytest.raises(UserInputError, match=r"needs about 30\.4 GiB .*; 24\.0 GiB is available"):
        check_weights_fit("transformers", "cpu", "fp32", params, "Llama-3.1-8B", available=24 * GIB)
    check_weights_fit("transformers", "cpu", "bf16", params, "Llama-3.1-8B", available=24 * GIB)  # 15.5 GiB
    check_weights_fit(
        "llama.cpp", "cpu", "fp32", params, "Llama-3.1-8B", available=1 * GIB
    )  # mapped, not checked
    check_weights_fit(
        "vllm", "cuda:0", "fp32", params, "Llama-3.1-8B", available=1 * GIB
    )  # its GPU bounds it


def test_serve_says_the_model_does_not_fit_in_one_line(cli, tmp_path, monkeypatch):
    from aipcbench.serve import engines

    if engines.missing("transformers") is not None:
        pytest.skip("transformers serve extras absent")
    monkeypatch.setattr(memory_check, "available_host_bytes", lambda: 4 * GIB)
    code, _, err = cli(
        "serve", "--engine", "transformers", "--model", "llama3.1-8b", "--results-dir", str(tmp_path / "r")
    )
    assert code == 2 and "needs about 30.4 GiB" in err and err.count("\n") == 1


def test_a_mixture_of_experts_counts_every_expert():
    """Mixtral-8x7B's published config: 32 layers, hidden 4,096, 32 heads (8 KV), MLP 14,336,
    8 experts, vocabulary 32,000, untied: 46.7 B parameters (the router's 8 x 4,096 a layer left
    out, 0.002 %)."""
    config = {
        "num_hidden_layers": 32,
        "hidden_size": 4096,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "num_local_experts": 8,
        "vocab_size": 32000,
        "tie_word_embeddings": False,
    }
    assert config_parameters_estimate(config) == pytest.approx(46.70e9, rel=0.002)
