"""What a user's GGUF file says about itself, read before a server is started on it.

The header is read with the ``gguf`` package (the reader llama.cpp's own tools use); a file that
is not GGUF, is truncated, or whose tensor table points past its end is refused with one line
naming the file, before llama-server is asked to load it, and so is one whose header's layers or
width disagree with its tensors. The parameter count is summed from the tensor table's shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aipcbench.errors import DataError

MAGIC = b"GGUF"


@dataclass(frozen=True)
class GgufFacts:
    architecture: str
    name: str
    parameters: int
    vocab: int | None
    file_type: str
    size_bytes: int


def _field_text(reader, key: str) -> str:
    field = reader.fields.get(key)
    if field is None or not field.data:
        return ""
    try:
        return bytes(field.parts[field.data[0]]).decode("utf-8", "replace")[:200]
    except (IndexError, TypeError, ValueError):
        return ""


def _field_int(reader, key: str) -> int | None:
    field = reader.fields.get(key)
    if field is None or not field.data:
        return None
    try:
        return int(field.parts[field.data[0]][0])
    except (IndexError, TypeError, ValueError):
        return None


def _check_shape_agrees(path: Path, reader, architecture: str) -> None:
    """The header's shape (layers, width) against the tensors it describes: llama.cpp sizes its
    KV cache and buffers from the header, so a header that lies is refused, naming both."""
    names = [str(t.name) for t in reader.tensors]
    blocks = {n.split(".")[1] for n in names if n.startswith("blk.") and n.count(".") >= 2}
    said = _field_int(reader, f"{architecture}.block_count")
    if said is not None and blocks and said != len(blocks):
        raise DataError(f"--model: {path}: the header says {said} layers, the tensors hold {len(blocks)}")
    embedding = next((t for t in reader.tensors if t.name == "token_embd.weight"), None)
    width = _field_int(reader, f"{architecture}.embedding_length")
    held = int(embedding.shape[0]) if embedding is not None else None
    if held is not None and width is not None and held != width:
        raise DataError(f"--model: {path}: the header says a width of {width}, the embedding holds {held}")


def read_gguf_facts(path: Path) -> GgufFacts:
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():  # a FIFO or device would block the read below, or never end
            raise DataError(f"--model: {path} is not a regular file")
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise DataError(f"--model: {path}: {exc.strerror or exc}") from None
    if magic != MAGIC:
        raise DataError(f"--model: {path} is not a GGUF file (no GGUF magic)")
    try:
        import gguf

        reader = gguf.GGUFReader(str(path), "r")
        parameters = 0
        for tensor in reader.tensors:
            count = int(tensor.n_elements)
            end = int(tensor.data_offset) + int(tensor.n_bytes)
            if count < 0 or end > size:
                raise ValueError(f"tensor {tensor.name} lies past the end of the file")
            parameters += count
    except ImportError:
        raise DataError(
            "--model: reading a GGUF file needs the gguf package: pip install 'aipcbench[serving]'"
        ) from None
    except Exception as exc:  # the reader's own errors are of many kinds: all mean a bad file
        raise DataError(
            f"--model: {path}: not a readable GGUF file ({type(exc).__name__}: {exc})"[:300]
        ) from None
    architecture = _field_text(reader, "general.architecture")
    _check_shape_agrees(path, reader, architecture)
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    file_type = _field_int(reader, "general.file_type")
    try:
        type_name = gguf.LlamaFileType(file_type).name if file_type is not None else ""
    except ValueError:
        type_name = str(file_type)
    return GgufFacts(
        architecture=architecture,
        name=_field_text(reader, "general.name"),
        parameters=parameters,
        vocab=len(tokens.data) if tokens is not None else None,
        file_type=type_name.removeprefix("MOSTLY_"),
        size_bytes=size,
    )
