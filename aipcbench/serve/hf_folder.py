"""A Hugging Face model folder of a catalog shape, with random weights, for transformers serve
and vLLM: ``config.json`` (llama architecture, see ``model_files``), a word-level tokenizer
(``w1 w2 ...``: one word, one token, so a prompt of N words is N tokens exactly), no EOS token
(answers run to ``max_tokens``), and f16 safetensors written by hand one tensor at a time
(vLLM's ``--load-format dummy`` needs only the config and tokenizer)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from aipcbench.serve.model_files import ROPE_THETA, Shape, all_tensors, cache_key, check_shape, random_tensor


def random_hf_folder(model: Shape, folder: Path, weights: bool = True, seed: int = 0) -> Path:
    """A Hugging Face model folder of ``model``'s shape: config, word-level tokenizer, and (with
    ``weights``) random f16 safetensors."""
    check_shape(model)
    out = folder / cache_key(model, "hf" if weights else "hf-config")
    if (out / "config.json").exists():
        return out
    tmp = out.with_name(out.name + ".part")
    tmp.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": model.vocab,
        "hidden_size": model.hidden,
        "intermediate_size": model.intermediate,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "num_key_value_heads": model.kv_heads,
        "head_dim": model.head_dim,
        "max_position_embeddings": model.max_context,
        "rms_norm_eps": 1e-5,
        "rope_theta": ROPE_THETA.get(model.architecture, 10000.0),
        "tie_word_embeddings": model.tie_embeddings,
        "torch_dtype": "float16",
        "bos_token_id": None,
        "eos_token_id": None,
    }
    (tmp / "config.json").write_text(json.dumps(config, indent=1))
    (tmp / "generation_config.json").write_text(json.dumps({"do_sample": False, "eos_token_id": None}))
    _write_word_tokenizer(tmp, model.vocab)
    if weights:
        _write_safetensors(model, tmp / "model.safetensors", seed)
    os.replace(tmp, out)
    return out


def _write_word_tokenizer(folder: Path, vocab: int) -> None:
    vocabulary = {"<unk>": 0, **{f"w{i}": i for i in range(1, vocab)}}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": 0,
                "content": "<unk>",
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False},
        "model": {"type": "WordLevel", "vocab": vocabulary, "unk_token": "<unk>"},
    }
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "<unk>", "model_max_length": 10**9}
        )
    )


def _write_safetensors(model: Shape, path: Path, seed: int) -> None:
    """safetensors written by hand (header + raw little-endian data), one tensor at a time."""
    tensors = [(hf, shape) for hf, _, shape in all_tensors(model)]
    header, offset = {}, 0
    for name, shape in tensors:
        itemsize = 4 if len(shape) == 1 else 2
        size = int(np.prod(shape)) * itemsize
        header[name] = {
            "dtype": "F32" if itemsize == 4 else "F16",
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    rng = np.random.default_rng(seed)
    with open(path, "wb") as handle:
        handle.write(len(encoded).to_bytes(8, "little") + encoded)
        for name, shape in tensors:
            handle.write(
                random_tensor(rng, name, shape).astype("<f4" if len(shape) == 1 else "<f2").tobytes()
            )
