"""The results store: the one place a record becomes JSON, and JSON becomes records again.

One file per ``aipcbench run``, ``results/run-<UTC time>-<host>-<random>.json``, created
exclusively (two runs never share a name) and rewritten atomically after every cell, so an
interrupt keeps what finished. Loading upgrades older schema versions (``schema``), refuses
newer ones, and checks every record against its type (``typed``): a record that does not fit
is skipped with one line naming it and the field, and the rest of the file is kept.
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

from aipcbench.errors import ResultsFileError, StorageError, UserInputError
from aipcbench.files import MAX_RESULTS_BYTES, UnreadableFile, read_text
from aipcbench.results.atomic import write_text_atomic
from aipcbench.results.device_facts import NO_FACTS, DeviceFacts
from aipcbench.results.record import CellRecord
from aipcbench.results.schema import FORMAT, SCHEMA_VERSION, upgrade
from aipcbench.results.serving import ServingRecord
from aipcbench.results.typed import RecordTypeError, from_plain, to_plain


def finite_or_none(value: Any) -> Any:
    """Replace NaN and infinities (anywhere in nested data) by None: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def dumps(document: Any) -> str:
    """JSON text of plain data or dataclasses; never ``NaN`` or ``Infinity``."""
    return json.dumps(finite_or_none(to_plain(document)), indent=1, allow_nan=False) + "\n"


class ResultsWriter:
    """Owns one fresh results file and rewrites it atomically after every change."""

    def __init__(self, directory: Path, environment: dict[str, Any], config: dict[str, Any]):
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserInputError(f"--results-dir: cannot create '{directory}': {exc.strerror}") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UserInputError(f"--results-dir: '{directory}' is not writable")
        self.run_id = _new_run_id(str(environment.get("host", "host")))
        self.path = _claim_fresh_path(directory, self.run_id)
        self.records: list[CellRecord] = []
        self._document: dict[str, Any] = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "complete": False,
            "interrupted": False,
            "ended_by": None,
            "environment": environment,
            "config": config,
            "devices_measured": {},
            "carbon": None,
            "records": [],
            "serving": [],
        }
        self.serving: list[ServingRecord] = []
        try:
            self._flush()
        except OSError as exc:  # a full disk at the first write: no empty file left behind
            self.path.unlink(missing_ok=True)
            raise StorageError(f"cannot write results in '{directory}': {exc.strerror or exc}") from None

    def set_devices(self, facts: dict[str, DeviceFacts], carbon: dict[str, Any] | None) -> None:
        self._document["devices_measured"] = facts
        self._document["carbon"] = carbon
        self._flush()

    def add(self, record: CellRecord) -> None:
        self.records.append(record)
        self._document["records"] = self.records
        self._flush()

    def put_serving(self, record: ServingRecord) -> None:
        """Add a serving record, or replace the one with the same cell (a sweep rewrites its
        record after every level, so a stop keeps the levels that finished)."""
        self.serving = [r for r in self.serving if r.cell != record.cell] + [record]
        self._document["serving"] = self.serving
        self._flush()

    def finish(self, ended_by: str = "completed", suite_timing: dict[str, float] | None = None) -> None:
        """Mark how the run ended: ``completed``, or the signal or reason that stopped it."""
        self._document["complete"] = ended_by == "completed"
        self._document["interrupted"] = ended_by != "completed"
        self._document["ended_by"] = ended_by
        if suite_timing is not None:
            self._document["suite_timing"] = suite_timing
        self._flush()

    def _flush(self) -> None:
        write_text_atomic(self.path, dumps(self._document))


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
    """A loaded (upgraded and checked) results file."""

    path: Path
    schema_version_on_disk: int
    run_id: str
    complete: bool
    environment: dict[str, Any]
    config: dict[str, Any]
    devices_measured: dict[str, DeviceFacts]
    carbon: dict[str, Any] | None
    records: tuple[CellRecord, ...]
    skipped: tuple[str, ...] = ()  # one line per record or part that could not be read
    suite_timing: dict[str, Any] | None = None
    ended_by: str | None = None
    serving: tuple[ServingRecord, ...] = ()

    @property
    def host(self) -> str:
        host = self.environment.get("host")
        return host if isinstance(host, str) and host else "?"

    @property
    def started_at(self) -> str:
        started = self.environment.get("started_at")
        return started if isinstance(started, str) else ""

    def device_name(self, device_id: str) -> str:
        devices = self.environment.get("devices")
        for device in devices if isinstance(devices, list) else []:
            if isinstance(device, dict) and device.get("id") == device_id:
                name = device.get("name")
                return name if isinstance(name, str) else ""
        return ""

    def facts(self, device_id: str) -> DeviceFacts:
        return self.devices_measured.get(device_id, NO_FACTS)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def load(path: Path | str) -> ResultsDocument:
    """Read one results file; raise ResultsFileError with a one-line reason if it is unusable
    as a whole. Records that do not fit their type are skipped and named in ``skipped``."""
    path = Path(path)
    try:
        text = read_text(path, MAX_RESULTS_BYTES)
    except UnreadableFile as exc:
        reason = "no such results file" if str(exc) == "no such file" else f"cannot read: {exc}"
        raise ResultsFileError(f"{path}: {reason}") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ResultsFileError(f"{path}: not valid JSON (truncated?): {exc}") from None
    return from_data(path, data)


def from_data(path: Path, data: Any) -> ResultsDocument:
    """A results document from parsed JSON (``load`` without the file): checked, upgraded,
    every record typed."""
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
    if not isinstance(data.get("environment"), dict):
        raise ResultsFileError(f"{path}: 'environment' missing or not an object")
    if not isinstance(data.get("records"), list):
        raise ResultsFileError(f"{path}: 'records' missing or not a list")
    data = upgrade(data, version)
    skipped: list[str] = []
    records = []
    for number, raw in enumerate(data["records"]):
        try:
            records.append(from_plain(CellRecord, raw, f"records[{number}]"))
        except RecordTypeError as exc:
            skipped.append(f"{path}: record {number} skipped: {exc}")
    serving = []
    raw_serving = data.get("serving")
    for number, raw in enumerate(raw_serving if isinstance(raw_serving, list) else []):
        try:
            serving.append(from_plain(ServingRecord, raw, f"serving[{number}]"))
        except RecordTypeError as exc:
            skipped.append(f"{path}: serving record {number} skipped: {exc}")
    devices: dict[str, DeviceFacts] = {}
    raw_devices = data.get("devices_measured")
    for device_id, raw in (raw_devices if isinstance(raw_devices, dict) else {}).items():
        try:
            devices[str(device_id)] = from_plain(DeviceFacts, raw, f"devices_measured.{device_id}")
        except RecordTypeError as exc:
            skipped.append(f"{path}: device facts skipped: {exc}")
    carbon = data.get("carbon")
    return ResultsDocument(
        path=path,
        schema_version_on_disk=version,
        run_id=str(data.get("run_id") or ""),
        complete=data.get("complete") is True,
        environment=data["environment"],
        config=data.get("config") if isinstance(data.get("config"), dict) else {},
        devices_measured=devices,
        carbon=carbon if isinstance(carbon, dict) else None,
        records=tuple(records),
        skipped=tuple(skipped),
        suite_timing=data.get("suite_timing") if isinstance(data.get("suite_timing"), dict) else None,
        ended_by=data.get("ended_by") if isinstance(data.get("ended_by"), str) else None,
        serving=tuple(serving),
    )


def to_dataframe(documents: Iterable[ResultsDocument]):
    """One row per record, nested fields flattened (``step_time.median_s``), host and run added."""
    import pandas as pd

    frames = []
    for document in documents:
        if not document.records:
            continue
        frame = pd.json_normalize([to_plain(record) for record in document.records])
        frame.insert(0, "host", document.host)
        frame.insert(1, "run_id", document.run_id)
        frame.insert(2, "results_file", str(document.path))
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def discover(paths: list[Path], default_dir: Path = Path("results")) -> list[Path]:
    """The files named (folders expanded), or every results file under ``default_dir``
    (its ``reference/`` and ``cloud/`` folders included), oldest first."""
    if not paths:
        paths = [default_dir]
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.glob("*.json")) + sorted(path.glob("reference/*.json"))
            found += sorted(path.glob("cloud/*.json"))
        else:
            found.append(path)
    return found


def load_many(paths: list[Path]) -> tuple[list[ResultsDocument], list[str]]:
    """Every loadable file, and a one-line warning for each file or record that is not (never
    raises for one bad file; the caller decides whether an empty set is an error)."""
    documents, warnings = [], []
    for path in paths:
        try:
            document = load(path)
        except ResultsFileError as exc:
            warnings.append(f"skipped {exc.one_line()}")
            continue
        documents.append(document)
        warnings += [" ".join(line.split()) for line in document.skipped]
    documents.sort(key=lambda d: d.started_at)
    return documents, warnings
