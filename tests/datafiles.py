"""Writers of small files in the real data-set formats, for the loader tests."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def cifar_bin(directory: Path, records: int = 6, label_override: int | None = None) -> Path:
    folder = directory / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in ("data_batch_1.bin", "test_batch.bin"):
        labels = rng.integers(0, 10, records, dtype=np.uint8)
        if label_override is not None:
            labels[-1] = label_override
        pixels = rng.integers(0, 256, (records, 3072), dtype=np.uint8)
        rows = np.concatenate([labels[:, None], pixels], axis=1)
        (folder / name).write_bytes(rows.tobytes())
    return folder


def cifar_py(directory: Path, records: int = 6) -> Path:
    folder = directory / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for name in ("data_batch_1", "test_batch"):
        batch = {
            b"batch_label": b"testing batch 1 of 1",
            b"labels": [int(x) for x in rng.integers(0, 10, records)],
            b"data": rng.integers(0, 256, (records, 3072), dtype=np.uint8),
            b"filenames": [b"img%d.png" % i for i in range(records)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    header = struct.pack(">I", (magic_type << 8) | array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def mnist(directory: Path, count: int = 20, gz: bool = True) -> Path:
    folder = directory / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    suffix = ".gz" if gz else ""
    write = gzip.compress if gz else (lambda b: b)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    (folder / f"train-images-idx3-ubyte{suffix}").write_bytes(write(idx_bytes(images)))
    (folder / f"train-labels-idx1-ubyte{suffix}").write_bytes(write(idx_bytes(labels)))
    return folder


def tiny_gpt2(directory: Path) -> Path:
    """A 2-layer GPT-2 saved with save_pretrained (safetensors), same format as the real one."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_embd=32, n_head=2, n_positions=256)
    folder = directory / "gpt2"
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def tiny_llama(directory: Path, std: float = 0.02) -> Path:
    """A 2-layer Llama saved with save_pretrained (safetensors), weights normal(0, ``std``).
    Widths are multiples of 128 so every projection can be int4-packed."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=512,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, std)
    folder = directory / "tiny-llama"
    model.save_pretrained(folder)
    return folder


def word_tokenizer(folder: Path, text: str, vocab: int = 300) -> None:
    """A real ``tokenizer.json`` (BPE trained on ``text`` with the tokenizers library), saved
    the way transformers saves one, so AutoTokenizer loads it like a model's own."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([text], trainers.BpeTrainer(vocab_size=vocab, special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]").save_pretrained(str(folder))
