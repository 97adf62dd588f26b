"""Readers for the real data sets, in their published on-disk formats, refusing bad files.

No network: data sets are found where a user put them (``--data-dir``, ``$AIPCBENCH_DATA_DIR``,
``./data``, ``~/.cache/aipcbench``). A data set that is absent means synthetic data (said in
the results); a file that is present but wrong is a ``DataError`` naming the file, never a
silent fallback. Parsing uses numpy only, so these readers can be fuzzed without torch.

Formats:
- CIFAR-10 binary (``cifar-10-batches-bin``): records of 1 label byte + 3,072 pixel bytes
  (1,024 red, 1,024 green, 1,024 blue, row-major 32x32).
- CIFAR-10 python (``cifar-10-batches-py``): pickled dicts ``{b"data": uint8 (N, 3072),
  b"labels": [int]}``, read with a restricted unpickler that can only build plain containers
  and numpy arrays: a pickle that names any other global is refused before anything runs.
- MNIST idx (``train-images-idx3-ubyte`` etc., plain or ``.gz``): big-endian header with a
  magic number (0x0803 images, 0x0801 labels) and the dimensions, then uint8 data.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aipcbench.errors import DataError

CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32
MAX_IDX_ITEMS = 10_000_000  # far above MNIST's 60,000: a guard against absurd headers


@dataclass(frozen=True)
class ImageSet:
    """Images as uint8 (N, C, H, W) and labels as int64 (N,), with where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str  # a path, for the results' data note


def search_roots(data_dir: Path | None) -> list[Path]:
    """Where data sets are looked for, in order."""
    roots = []
    if data_dir is not None:
        roots.append(Path(data_dir))
    if os.environ.get("AIPCBENCH_DATA_DIR"):
        roots.append(Path(os.environ["AIPCBENCH_DATA_DIR"]))
    roots += [Path("data"), Path.home() / ".cache" / "aipcbench"]
    return roots


def find_dir(data_dir: Path | None, names: tuple[str, ...]) -> Path | None:
    """The first ``root/name`` (or ``root/*/name``) directory that exists."""
    for root in search_roots(data_dir):
        for name in names:
            for candidate in (root / name, *root.glob(f"*/{name}")):
                if candidate.is_dir():
                    return candidate
    return None


# ---------------------------------------------------------------- CIFAR-10, binary format


def read_cifar_bin(path: Path) -> ImageSet:
    data = _read(path)
    if not data or len(data) % CIFAR_RECORD_BYTES:
        raise DataError(
            f"{path}: {len(data)} bytes is not a whole number of CIFAR-10 records "
            f"({CIFAR_RECORD_BYTES} bytes each): truncated or not CIFAR-10 binary"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    _check_labels(path, labels, 10)
    images = records[:, 1:].reshape(-1, 3, 32, 32)
    return ImageSet(images, labels, str(path))


# ---------------------------------------------------------------- CIFAR-10, python format


class ForbiddenGlobal(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list: it may carry code to run."""


class RestrictedUnpickler(pickle.Unpickler):
    """Builds only what a CIFAR batch holds; any other global aborts the load unexecuted."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles from Python 3 spell bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise ForbiddenGlobal(f"global '{module}.{name}' is not allowed")
        return super().find_class(module, name)


def safe_unpickle(path: Path, data: bytes):
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except ForbiddenGlobal as exc:
        raise DataError(f"{path}: refused to unpickle: {exc}") from None
    except Exception as exc:  # truncated or garbage pickles raise many types
        raise DataError(f"{path}: not a readable pickle: {type(exc).__name__}: {exc}") from None


def read_cifar_py(path: Path) -> ImageSet:
    batch = safe_unpickle(path, _read(path))
    if not isinstance(batch, dict):
        raise DataError(f"{path}: expected a dict, found {type(batch).__name__}")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DataError(f"{path}: 'data' is not a uint8 (N, 3072) array")
    if data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: 'data' rows have {data.shape[1]} values, expected 3072")
    if not isinstance(labels, list) or len(labels) != len(data):
        raise DataError(f"{path}: 'labels' is not a list of {len(data)} labels")
    try:
        label_array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{path}: 'labels' are not integers") from None
    _check_labels(path, label_array, 10)
    return ImageSet(data.reshape(-1, 3, 32, 32), label_array, str(path))


def load_cifar10(data_dir: Path | None, split: str) -> ImageSet | None:
    """The first training batch (split='train') or the test batch, or None if absent."""
    directory = find_dir(data_dir, ("cifar-10-batches-bin", "cifar-10-batches-py"))
    if directory is None:
        return None
    if directory.name.endswith("-bin"):
        name = "data_batch_1.bin" if split == "train" else "test_batch.bin"
        return read_cifar_bin(_require(directory / name))
    name = "data_batch_1" if split == "train" else "test_batch"
    return read_cifar_py(_require(directory / name))


# ---------------------------------------------------------------- MNIST, idx format


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    data = _read(path)
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise DataError(f"{path}: broken gzip stream: {exc}") from None
    if len(data) < 4:
        raise DataError(f"{path}: too short for an idx header")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        raise DataError(f"{path}: magic 0x{magic:08x}, expected 0x{expected_magic:08x}")
    dims = magic & 0xFF
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{path}: truncated idx header")
    shape = struct.unpack(f">{dims}I", data[4:header])
    count = int(np.prod(shape, dtype=np.int64))
    if not 0 < shape[0] <= MAX_IDX_ITEMS or len(data) - header != count:
        raise DataError(f"{path}: header says {shape} ({count} bytes) but {len(data) - header} bytes follow")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(data_dir: Path | None, split: str) -> ImageSet | None:
    directory = find_dir(data_dir, ("MNIST/raw", "mnist", "MNIST"))
    if directory is None:
        return None
    prefix = "train" if split == "train" else "t10k"
    images_path = _first_existing(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _first_existing(directory, f"{prefix}-labels-idx1-ubyte")
    if images_path is None or labels_path is None:
        return None
    images = read_idx(images_path, 0x00000803)
    labels = read_idx(labels_path, 0x00000801).astype(np.int64)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: images are {images.shape[1:]}, expected (28, 28)")
    if len(images) != len(labels):
        raise DataError(f"{labels_path}: {len(labels)} labels for {len(images)} images")
    _check_labels(labels_path, labels, 10)
    return ImageSet(images[:, None, :, :], labels, str(images_path))


# ---------------------------------------------------------------- helpers


def _first_existing(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    return None


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: missing from the data set directory")
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None


def _check_labels(path: Path, labels: np.ndarray, classes: int) -> None:
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"{path}: labels outside 0..{classes - 1} (found {labels.max()})")
