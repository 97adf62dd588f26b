"""Parsing one catalog file: all or nothing, every error naming the file, line and field.

Each file starts with a line ``# aipcbench-catalog NAME vVERSION [key=value ...]``. A malformed
row (missing, negative or non-numeric number, unknown currency or unit, duplicate key) raises a
``DataError`` and no partial catalog is returned. A SkyPilot ``vms.csv`` is recognised by its
columns and read by ``catalog.skypilot``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from aipcbench.catalog.rows import ALLOWED, SCHEMAS, number_field
from aipcbench.catalog.skypilot import SKYPILOT_COLUMNS, parse_skypilot
from aipcbench.errors import DataError

SUPPORTED_VERSION = 1
HEADER = re.compile(r"^#\s*aipcbench-catalog\s+(?P<name>[a-z_]+)\s+v(?P<version>\d+)(?P<rest>.*)$")


def header_options(text: str) -> dict[str, str]:
    """``key=value with spaces key2=v2`` -> {key: "value with spaces", key2: "v2"}, in one
    linear pass (no regular expression over user text)."""
    options: dict[str, str] = {}
    key = None
    for token in text.split():
        name, equals, value = token.partition("=")
        if equals and name:
            key = name
            options[key] = value
        elif key is not None:
            options[key] = f"{options[key]} {token}"
    return options


def parse_catalog(path: Path, text: str) -> tuple[str, dict[str, str], list[Any]]:
    """Parse one catalog file's text: (name, header options, rows). All or nothing."""
    try:
        return _parse_catalog(path, text)
    except csv.Error as exc:  # NUL bytes, broken quoting
        raise DataError(f"{path}: not readable as CSV: {exc}") from None


def _parse_catalog(path: Path, text: str) -> tuple[str, dict[str, str], list[Any]]:
    first, _, body = text.partition("\n")
    header = HEADER.match(first.strip())
    if header is None:
        if SKYPILOT_COLUMNS <= set(first.strip().split(",")):
            return "cloud_offers", {}, parse_skypilot(path, text)
        raise DataError(
            f"{path}:1: not an aipcbench catalog (first line must be "
            "'# aipcbench-catalog NAME vN') nor a SkyPilot vms.csv"
        )
    name, version = header["name"], int(header["version"])
    if name not in SCHEMAS:
        raise DataError(f"{path}:1: unknown catalog '{name}' (known: {', '.join(SCHEMAS)})")
    if version > SUPPORTED_VERSION:
        raise DataError(f"{path}:1: catalog version {version} is newer than this aipcbench reads")
    options = header_options(header["rest"])
    row_class, key_fields, numeric = SCHEMAS[name]
    reader = csv.DictReader(io.StringIO(body))
    known = {f.name for f in fields(row_class)}
    columns = set(reader.fieldnames or ())
    missing = [f.name for f in fields(row_class) if f.default is MISSING and f.name not in columns]
    if missing:
        raise DataError(f"{path}:2: missing column(s): {', '.join(missing)}")
    rows, seen = [], {}
    for number, raw in enumerate(reader, start=3):
        if None in raw:
            raise DataError(f"{path}:{number}: more values than columns")
        values: dict[str, Any] = {}
        for field in known & columns:
            text = raw.get(field) or ""
            if field in numeric:
                values[field] = number_field(path, number, field, text, numeric[field])
            else:
                values[field] = text.strip()
        for field, allowed in ALLOWED.items():
            if field in raw and raw[field].strip() not in allowed:
                raise DataError(
                    f"{path}:{number}: field '{field}': unknown {field} "
                    f"{raw[field]!r} (allowed: {', '.join(sorted(allowed))})"
                )
        for field in key_fields:
            if not values.get(field):
                raise DataError(f"{path}:{number}: field '{field}' is missing")
        if "gpu_count" in values:
            if values["gpu_count"] < 1 or values["gpu_count"] != int(values["gpu_count"]):
                raise DataError(f"{path}:{number}: field 'gpu_count' must be a whole number >= 1")
            values["gpu_count"] = int(values["gpu_count"])
        key = tuple(values[f] for f in key_fields)
        if key in seen:
            raise DataError(f"{path}:{number}: duplicate key {' / '.join(key)} (first on line {seen[key]})")
        seen[key] = number
        try:
            rows.append(row_class(**values))
        except ValueError as exc:  # a row's own consistency check
            raise DataError(f"{path}:{number}: {exc}") from None
    return name, options, rows
