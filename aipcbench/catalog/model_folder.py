"""A Hugging Face model folder checked before anything loads it, torch-free: the one policy of
the language-model workloads (which build the model in this process) and of ``aipcbench serve``
(which hands the folder to transformers serve or vLLM).

- Weights are safetensors and only those: ``model.safetensors``, or a sharded index naming
  safetensors files inside the folder. A pickled ``pytorch_model.bin`` is never unpickled.
- The parameters the weights hold are counted from the safetensors headers (an 8-byte length
  and a JSON table of every tensor's shape; no weight is read).
- What ``config.json`` would build is estimated from its widths (experts counted), so a config
  claiming a far larger model than its weights is refused before an engine allocates it (the out-of-memory
  killer would end it, and maybe more than it, on the way).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

from aipcbench.errors import DataError, UserInputError, exception_line

PICKLED_REFUSED = (
    "only pickled pytorch_model.bin, which aipcbench never loads: convert it where you trust it "
    "with model.save_pretrained(DIR, safe_serialization=True)"
)
MAX_INDEX_BYTES = 16 * 2**20  # a sharded checkpoint's weight map: a few MB for the largest models
MAX_HEADER_BYTES = 100 * 2**20  # safetensors' own limit on a header
# an estimate from config.json and the headers' count may differ by a tied or untied embedding
# and a gated or plain MLP (at most ~1.4x between real models); beyond 1.5x the two describe
# different models
ESTIMATE_AGREEMENT = 1.5


def require_safetensors(directory: Path) -> list[Path]:
    """The folder's safetensors files (``check_index``), or one line."""
    single = directory / "model.safetensors"
    index = directory / "model.safetensors.index.json"
    if not single.is_file() and not index.is_file():
        pickled = (directory / "pytorch_model.bin").is_file()
        raise UserInputError(
            f"--model: {directory}: no model.safetensors" + (f" ({PICKLED_REFUSED})" if pickled else "")
        )
    return check_index(directory) if index.is_file() else [single]


def check_index(directory: Path) -> list[Path]:
    """A sharded checkpoint's index may only name safetensors files in the directory itself: an
    index pointing at a pickled ``pytorch_model.bin`` (or outside the folder) is refused before
    anything would open it. Returns the files it names."""
    path = directory / "model.safetensors.index.json"
    if not path.is_file():
        return []
    try:
        if path.stat().st_size > MAX_INDEX_BYTES:
            raise ValueError(f"larger than {MAX_INDEX_BYTES // 2**20} MiB")
        index = json.loads(path.read_text(encoding="utf-8"))
        files = set(index["weight_map"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: not a usable safetensors index: {exception_line(exc)}") from None
    for name in sorted(map(str, files)):
        if not name.endswith(".safetensors") or Path(name).name != name:
            raise UserInputError(
                f"--model: {path} names {name!r}: only safetensors files in the folder are loaded "
                f"({PICKLED_REFUSED})"
            )
    return [directory / name for name in sorted(map(str, files))]


def header_parameters(path: Path) -> int:
    """Parameters in one safetensors file, from its header alone."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if not 2 <= length <= MAX_HEADER_BYTES:
                raise ValueError(f"a header of {length} bytes")
            header = json.loads(handle.read(length))
        if not isinstance(header, dict):
            raise ValueError("the header is not a table")
        total = 0
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            shape = entry["shape"]
            if not all(isinstance(n, int) and 0 <= n < 2**40 for n in shape):
                raise ValueError(f"tensor {name!r} has shape {shape!r}")
            total += math.prod(shape)
        return total
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise DataError(f"{path}: not a readable safetensors file: {exception_line(exc)}") from None


def stored_parameters(directory: Path) -> int:
    """Parameters the folder's weights hold (every safetensors file ``require_safetensors`` names)."""
    return sum(header_parameters(path) for path in require_safetensors(directory))


def _whole(config: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def config_parameters_estimate(config: dict[str, Any]) -> int | None:
    """Parameters a decoder's ``config.json`` describes (llama-style or GPT-2-style keys):
    layers x (attention q, k, v, o + MLP: three matrices when gated, two otherwise) + the
    embedding, once more when untied. None when the widths are not there to count."""
    layers = _whole(config, "num_hidden_layers", "n_layer")
    hidden = _whole(config, "hidden_size", "n_embd")
    vocab = _whole(config, "vocab_size")
    if not (layers and hidden and vocab):
        return None
    heads = _whole(config, "num_attention_heads", "n_head") or 1
    kv_heads = _whole(config, "num_key_value_heads") or heads
    head_dim = _whole(config, "head_dim") or hidden // heads
    gated = "intermediate_size" in config
    inner = _whole(config, "intermediate_size", "n_inner") or 4 * hidden
    experts = _whole(config, "num_local_experts", "num_experts", "n_routed_experts") or 1
    attention = hidden * head_dim * (2 * heads + 2 * kv_heads)
    mlp = (3 if gated else 2) * hidden * inner * experts
    tied = config.get("tie_word_embeddings", not gated) is True
    return layers * (attention + mlp) + vocab * hidden * (1 if tied else 2)


def agreed_estimate(directory: Path, config: dict[str, Any]) -> int:
    """The weights' parameter count, refused in one line when ``config.json`` describes a model
    more than 1.5x larger (both figures named): the engine allocates what the config says, so a
    config larger than its weights is the danger; a smaller one fails to load on its own (and an
    architecture the estimate does not know, a mixture of experts' shared parts say, errs low)."""
    stored = stored_parameters(directory)
    estimate = config_parameters_estimate(config)
    if estimate is not None and estimate > ESTIMATE_AGREEMENT * max(stored, 1):
        raise DataError(
            f"{directory}: config.json describes about {estimate:,} parameters but the safetensors "
            f"files hold {stored:,}: refusing a model folder whose weights and config disagree"
        )
    return stored
