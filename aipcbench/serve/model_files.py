"""The weights a server loads: random weights of a catalog shape, written in the engine's format.

Nothing can be downloaded here, and a founder's question is about a model's *shape* (its size
decides speed and memory), so a catalog shape is served with random weights, labelled so:

Both formats hold a llama-architecture model with the shape's layers, widths, heads and
vocabulary; a Qwen2 shape loses only its small q/k/v biases (0.006 % of Qwen2.5-0.5B's
parameters). Why not Qwen2's own architecture: transformers 5.25's continuous batching fails on
a Qwen2 model on the CPU ("cannot reshape tensor of 0 elements") where the same shape as llama
serves, and llama.cpp would need the biases too; one architecture for every engine keeps them
serving the same model.

- GGUF for llama.cpp: f16 weights, then ``llama-quantize`` to q8_0 or q4_K_M as llama.cpp users
  do. The vocabulary is byte-level (SentencePiece-style: 3 control tokens, 256 byte tokens)
  padded with plain word tokens to the shape's size, so the output layer has the real width.
- A Hugging Face folder for transformers serve and vLLM: ``hf_folder`` (a one-word-one-token
  tokenizer, no EOS token, f16 safetensors).

Files are cached by a key of everything that shapes them, so a sweep does not rewrite a GB.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aipcbench.errors import DataError, UserInputError
from aipcbench.units import SECONDS_PER_HOUR

GGUF_QUANTS = ("f16", "q8_0", "q4_K_M")
WRITER_VERSION = "2"
INIT_STD = 0.02  # transformers' default initializer_range
ROPE_THETA = {"llama": 500000.0, "qwen2": 1000000.0}
CONTROL_TOKENS = ("<unk>", "<s>", "</s>")
ARCHITECTURES = ("llama", "qwen2")


@dataclass(frozen=True)
class Shape:
    """A model's shape in whole numbers (the catalog keeps numbers as floats)."""

    key: str
    name: str
    architecture: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tie_embeddings: bool
    max_context: int = 4096

    @classmethod
    def of(cls, model: Shape) -> Shape:
        return cls(
            model.key,
            model.name,
            model.architecture,
            *(int(getattr(model, f)) for f in ("layers", "hidden", "heads", "kv_heads", "head_dim")),
            int(model.intermediate),
            int(model.vocab),
            model.tie_embeddings.strip().lower() == "yes",
            int(model.max_context),
        )

    @property
    def parameters(self) -> int:
        """Parameters of the files written (the catalog's count, less Qwen2's q/k/v biases)."""
        return sum(int(np.prod(shape)) for *_, shape in all_tensors(self))


def cache_key(model: Shape, what: str) -> str:
    digest = hashlib.sha256(repr((model, what, WRITER_VERSION)).encode()).hexdigest()[:10]
    return f"{model.key}-{what}-{digest}"


def check_shape(model: Shape) -> None:
    if model.architecture not in ARCHITECTURES:
        raise UserInputError(
            f"--model: {model.key} is a {model.architecture} model; random serving weights are "
            f"written for {', '.join(ARCHITECTURES)} shapes (give a GGUF file or a model folder instead)"
        )
    if model.vocab < len(CONTROL_TOKENS) + 256 + 1:
        raise UserInputError(f"--model: {model.key} has a vocabulary of {model.vocab}, under the 260 needed")


def _layer_shapes(model: Shape) -> list[tuple[str, tuple[int, ...]]]:
    """(HF name, shape) of one decoder layer's tensors."""
    q, kv = model.heads * model.head_dim, model.kv_heads * model.head_dim
    shapes = [
        ("self_attn.q_proj.weight", (q, model.hidden)),
        ("self_attn.k_proj.weight", (kv, model.hidden)),
        ("self_attn.v_proj.weight", (kv, model.hidden)),
        ("self_attn.o_proj.weight", (model.hidden, q)),
        ("mlp.gate_proj.weight", (model.intermediate, model.hidden)),
        ("mlp.up_proj.weight", (model.intermediate, model.hidden)),
        ("mlp.down_proj.weight", (model.hidden, model.intermediate)),
        ("input_layernorm.weight", (model.hidden,)),
        ("post_attention_layernorm.weight", (model.hidden,)),
    ]
    return shapes


GGUF_NAMES = {
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
}


def random_tensor(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name.endswith(".bias"):
        return np.zeros(shape, dtype=np.float32)
    if len(shape) == 1:
        return np.ones(shape, dtype=np.float32)  # RMSNorm scales
    return (rng.standard_normal(shape, dtype=np.float32) * INIT_STD).astype(np.float16)


def all_tensors(model: Shape) -> list[tuple[str, str, tuple[int, ...]]]:
    """(HF name, GGUF name, shape) for the whole model, in file order."""
    tensors = [("model.embed_tokens.weight", "token_embd.weight", (model.vocab, model.hidden))]
    for layer in range(model.layers):
        for name, shape in _layer_shapes(model):
            tensors.append((f"model.layers.{layer}.{name}", f"blk.{layer}.{GGUF_NAMES[name]}", shape))
    tensors.append(("model.norm.weight", "output_norm.weight", (model.hidden,)))
    if not model.tie_embeddings:
        tensors.append(("lm_head.weight", "output.weight", (model.vocab, model.hidden)))
    return tensors


def gguf_vocabulary(size: int) -> tuple[list[str], list[int]]:
    """Tokens and their types (gguf.TokenType values: 1 normal, 2 unknown, 3 control, 6 byte)."""
    tokens = list(CONTROL_TOKENS) + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    words = size - len(tokens)
    tokens += [f"\u2581w{i}" for i in range(1, words + 1)]
    return tokens, types + [1] * words


def write_random_gguf(model: Shape, path: Path, seed: int = 0) -> Path:
    """An f16 llama-architecture GGUF of ``model``'s shape with random weights, streamed tensor
    by tensor (the whole model is never in memory at once)."""
    import gguf

    check_shape(model)
    tmp = path.with_name(path.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name(f"{model.name} (random weights, aipcbench)")
    writer.add_context_length(model.max_context)
    writer.add_embedding_length(model.hidden)
    writer.add_block_count(model.layers)
    writer.add_feed_forward_length(model.intermediate)
    writer.add_head_count(model.heads)
    writer.add_head_count_kv(model.kv_heads)
    writer.add_key_length(model.head_dim)
    writer.add_value_length(model.head_dim)
    writer.add_rope_dimension_count(model.head_dim)
    writer.add_rope_freq_base(ROPE_THETA.get(model.architecture, 10000.0))
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(model.vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    tokens, types = gguf_vocabulary(model.vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(False)
    tensors = all_tensors(model)
    for _, name, shape in tensors:
        dtype = np.float32 if len(shape) == 1 else np.float16
        writer.add_tensor_info(name, shape, np.dtype(dtype), int(np.prod(shape)) * np.dtype(dtype).itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(seed)
    for hf_name, _, shape in tensors:
        writer.write_tensor_data(random_tensor(rng, hf_name, shape))
    writer.close()
    os.replace(tmp, path)
    return path


def random_gguf(model: Shape, quant: str, folder: Path, quantize_bin: Path | None, say=print) -> Path:
    """The cached random-weight GGUF of ``model`` at ``quant``, written (and quantized) if absent."""
    if quant not in GGUF_QUANTS:
        raise UserInputError(f"--quant: '{quant}' is not one of {', '.join(GGUF_QUANTS)}")
    folder.mkdir(parents=True, exist_ok=True)
    f16 = folder / f"{cache_key(model, 'f16')}.gguf"
    if not f16.exists():
        size_gb = sum(int(np.prod(s)) * (2 if len(s) > 1 else 4) for *_, s in all_tensors(model)) / 1e9
        say(f"writing random weights of {model.key} as f16 GGUF ({size_gb:.2f} GB): {f16}")
        write_random_gguf(model, f16)
    if quant == "f16":
        return f16
    out = folder / f"{cache_key(model, quant)}.gguf"
    if out.exists():
        return out
    if quantize_bin is None:
        raise UserInputError(
            f"--quant {quant}: llama-quantize not found (bash scripts/setup-llamacpp.sh builds it)"
        )
    say(f"quantizing to {quant} with llama-quantize: {out}")
    tmp = out.with_name(out.name + ".part")
    done = subprocess.run(
        [str(quantize_bin), str(f16), str(tmp), quant.upper()],
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_HOUR,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-2:])[-300:]
        raise DataError(f"llama-quantize {quant} failed (exit {done.returncode}): {tail}")
    os.replace(tmp, out)
    return out
