"""Files a user names: read only regular files, with a size limit; write only where it is safe.

Why: a FIFO given as a results file blocks a reader forever, ``/dev/zero`` is read until memory
runs out, and an output path that is one of the inputs, a device node or a FIFO loses data or
hangs. Every file aipcbench reads from a user's path goes through ``read_text``, and every
output it writes to a user's path through ``check_output_path``.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from aipcbench.errors import DataError, UserInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_RESULTS_BYTES = 256 * 2**20  # a full suite with every sample kept is a few MB
MAX_TABLE_BYTES = 64 * 2**20  # catalogs
MAX_TOML_BYTES = 2**20  # a machine profile or a plan is a few hundred bytes


class UnreadableFile(OSError):
    """The path is not a regular file, is too large, or cannot be read; ``str`` says which."""


def read_text(path: Path, limit_bytes: int) -> str:
    """The file's text (UTF-8, a leading BOM dropped), refusing anything but a regular file of
    at most ``limit_bytes``. Opened non-blocking so a FIFO cannot hang the open itself."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise UnreadableFile("no such file") from None
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile("not a regular file (a device, FIFO or socket)")
        if info.st_size > limit_bytes:
            raise UnreadableFile(f"larger than {limit_bytes // 2**20} MiB")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit_bytes:  # the file grew while being read
                raise UnreadableFile(f"larger than {limit_bytes // 2**20} MiB")
            chunks.append(chunk)
    except OSError as exc:
        if isinstance(exc, UnreadableFile):
            raise
        raise UnreadableFile(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile("not UTF-8 text") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_toml(path: Path, what: str) -> dict:
    """A TOML file a user names (a machine profile, a plan): read with ``read_text``'s limits and
    parsed, every failure one line naming the file, a nesting too deep for the parser included."""
    try:
        text = read_text(path, MAX_TOML_BYTES)
    except UnreadableFile as exc:
        raise DataError(f"{path}: cannot read {what}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: TOML syntax error: {exc}") from None  # names line and column
    except RecursionError:
        raise DataError(f"{path}: {what} nested too deeply to read") from None


def check_output_path(out: Path, flag: str, inputs: Iterable[Path] = ()) -> Path:
    """Refuse an output that would destroy something: one of the inputs, a directory, a device,
    a FIFO or anything but a regular file (a new name is fine). Raises a one-line error."""
    out = Path(out)
    text = str(out)
    if "\x00" in text or not out.name:
        raise UserInputError(f"{flag}: refusing the path {text!r}")
    try:
        info = os.stat(out)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UserInputError(f"{flag}: cannot use '{out}': {exc.strerror}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise UserInputError(f"{flag}: '{out}' is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise UserInputError(f"{flag}: '{out}' is not a regular file (a device, FIFO or socket)")
        for source in inputs:
            try:
                if os.path.samefile(source, out):
                    raise UserInputError(f"{flag}: '{out}' is one of the inputs; refusing to overwrite it")
            except OSError:
                continue
    return out
