"""The results file: plain, versioned JSON, one file per ``aipcbench run``.

A results file is the contract between measuring and everything after it (cost, report, other
people's tools), so it is plain data: ``json.load`` + ``pandas.json_normalize(doc["records"])``
read it without this package.

Schema history (bump ``SCHEMA_VERSION`` and add an upgrade step for every change that a reader
of the previous version would misread):

- 1 (aipcbench 0.1.0): ``format``, ``schema_version``, ``run_id``, ``complete``, ``interrupted``,
  ``environment``, ``config`` and ``records``; each record holds a cell's options, status,
  per-step samples, summary, throughput and the extrapolated time per run.
- 2 (aipcbench 0.2.0): probes. Top level ``devices_measured`` (per device: rated and measured
  peaks, clock, idle power) and ``carbon``; per record FLOPs (``flops_per_step``,
  ``achieved_flops``, ``mfu_rated``, ``mfu_measured``...), memory (``peak_memory_bytes`` +
  method), energy (``energy_j_per_step``, ``energy_j_per_run``, ``energy_method``...),
  ``co2e_g_per_run`` and throttling. Upgrading a v1 file sets all of them to null.
  Added since without a bump (a v2 reader loses nothing by ignoring it): ``cpu_denormals``
  per record (absent in older v2 files = not recorded; they kept IEEE denormals).

Older versions are upgraded on load; newer ones are refused with a message that says to
upgrade aipcbench, never guessed at.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipcbench.atomic import write_text_atomic
from aipcbench.errors import ResultsFileError, UserInputError

FORMAT = "aipcbench-results"
SCHEMA_VERSION = 2
STATUSES = ("ok", "failed", "oom", "killed", "timeout", "skipped")
REQUIRED_RECORD_KEYS = ("workload", "size", "device", "dtype", "status")


def finite_or_none(value: Any) -> Any:
    """Replace NaN and infinities (anywhere in nested data) by None: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(finite_or_none(document), indent=1, allow_nan=False) + "\n"


class ResultsWriter:
    """Owns one fresh results file and rewrites it atomically after every finished cell."""

    def __init__(self, directory: Path, environment: dict[str, Any], config: dict[str, Any]):
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserInputError(f"--results-dir: cannot create '{directory}': {exc.strerror}") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UserInputError(f"--results-dir: '{directory}' is not writable")
        self.run_id = _new_run_id(environment.get("host", "host"))
        self.path = _claim_fresh_path(directory, self.run_id)
        self.document: dict[str, Any] = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "complete": False,
            "interrupted": False,
            "environment": environment,
            "config": config,
            "devices_measured": {},
            "carbon": None,
            "records": [],
        }
        self._flush()

    def add(self, record: dict[str, Any]) -> None:
        self.document["records"].append(record)
        self._flush()

    def finish(self, interrupted: bool = False) -> None:
        self.document["complete"] = not interrupted
        self.document["interrupted"] = interrupted
        self._flush()

    def _flush(self) -> None:
        write_text_atomic(self.path, dumps(self.document))


def _new_run_id(host: str) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    safe_host = "".join(c if c.isalnum() or c in "-_" else "-" for c in host)[:40] or "host"
    return f"{stamp}-{safe_host}-{secrets.token_hex(3)}"


def _claim_fresh_path(directory: Path, run_id: str) -> Path:
    """Create the file exclusively, so two runs started at once never share a name."""
    path = directory / f"run-{run_id}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return _claim_fresh_path(directory, f"{run_id}-{secrets.token_hex(2)}")
    except OSError as exc:
        raise UserInputError(f"--results-dir: cannot write in '{directory}': {exc.strerror}") from None
    os.close(fd)
    return path


@dataclass(frozen=True)
class ResultsDocument:
    """A loaded (and upgraded) results file."""

    path: Path
    schema_version_on_disk: int
    data: dict[str, Any]

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.data["records"]

    @property
    def environment(self) -> dict[str, Any]:
        return self.data["environment"]


def _refuse_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


# Fields version 2 added to every record; a version-1 record did not measure them.
PROBE_FIELDS_V2 = (
    "flops_per_step",
    "flops_method",
    "flops_per_item",
    "flops_per_run",
    "steps_per_run",
    "achieved_flops",
    "peak_flops_rated",
    "peak_flops_rated_source",
    "peak_flops_measured",
    "peak_flops_measured_method",
    "mfu_rated",
    "mfu_measured",
    "peak_memory_bytes",
    "peak_memory_method",
    "energy_window_j",
    "energy_window_s",
    "energy_method",
    "energy_note",
    "energy_j_per_step",
    "energy_j_per_run",
    "energy_j_per_run_above_idle",
    "idle_power_w",
    "idle_power_method",
    "co2e_g_per_run",
    "co2e_source",
    "throttled",
    "throttle_reasons",
)


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("devices_measured", {})
    data.setdefault("carbon", None)
    records = data.get("records")
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict):
            for key in PROBE_FIELDS_V2:
                record.setdefault(key, None)
    return data


def _upgrade(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring a document of an older schema version up to ``SCHEMA_VERSION``, step by step."""
    upgrades = {1: _upgrade_1_to_2}  # version -> function(data) -> data of version + 1
    while version < SCHEMA_VERSION:
        data = upgrades[version](data)
        version += 1
    data["schema_version"] = SCHEMA_VERSION
    return data


def load(path: Path | str) -> ResultsDocument:
    """Read one results file; raise ResultsFileError with a one-line reason if it is unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ResultsFileError(f"{path}: not valid JSON (truncated?): {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsFileError(f"{path}: not an aipcbench results file (no format '{FORMAT}')")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ResultsFileError(f"{path}: schema_version {version!r} is not a valid version")
    if version > SCHEMA_VERSION:
        raise ResultsFileError(
            f"{path}: schema version {version} is newer than this aipcbench reads "
            f"({SCHEMA_VERSION}); upgrade aipcbench to read it"
        )
    data = _upgrade(data, version)
    _validate(path, data)
    return ResultsDocument(path=path, schema_version_on_disk=version, data=data)


def _validate(path: Path, data: dict[str, Any]) -> None:
    if not isinstance(data.get("environment"), dict):
        raise ResultsFileError(f"{path}: 'environment' missing or not an object")
    records = data.get("records")
    if not isinstance(records, list):
        raise ResultsFileError(f"{path}: 'records' missing or not a list")
    for number, record in enumerate(records):
        if not isinstance(record, dict):
            raise ResultsFileError(f"{path}: record {number} is not an object")
        for key in REQUIRED_RECORD_KEYS:
            if not isinstance(record.get(key), str):
                raise ResultsFileError(f"{path}: record {number}: '{key}' missing or not text")
        if record["status"] not in STATUSES:
            raise ResultsFileError(f"{path}: record {number}: unknown status {record['status']!r}")


def to_dataframe(documents: Iterable[ResultsDocument]):
    """One row per record, nested fields flattened (``summary.median``), host and run added."""
    import pandas as pd

    frames = []
    for document in documents:
        if not document.records:
            continue
        frame = pd.json_normalize(document.records)
        frame.insert(0, "host", document.environment.get("host"))
        frame.insert(1, "run_id", document.data.get("run_id"))
        frame.insert(2, "results_file", str(document.path))
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def discover(paths: list[Path], default_dir: Path = Path("results")) -> list[Path]:
    """The files named (folders expanded), or every results file under ``default_dir``
    (its ``reference/`` folder included), oldest first."""
    if not paths:
        paths = [default_dir]
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.glob("*.json")) + sorted(path.glob("reference/*.json"))
        else:
            found.append(path)
    return found


def load_many(paths: list[Path]) -> tuple[list[ResultsDocument], list[str]]:
    """Every loadable file, and a one-line warning for each that is not (never raises for one
    bad file; the caller decides whether an empty set is an error)."""
    documents, warnings = [], []
    for path in paths:
        try:
            documents.append(load(path))
        except ResultsFileError as exc:
            warnings.append(f"skipped {exc.one_line()}")
    documents.sort(key=lambda d: str(d.environment.get("started_at", "")))
    return documents, warnings
