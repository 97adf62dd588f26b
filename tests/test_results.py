import json
import os
import subprocess
import sys

import pytest

from aipcbench import results
from aipcbench.errors import ResultsFileError, UserInputError
from tests.conftest import DATA


def _writer(tmp_path, **env):
    return results.ResultsWriter(tmp_path, {"host": "h", **env}, {"quick": True})


def test_golden_schema_v1_loads_and_flattens():
    doc = results.load(DATA / "results-v1.json")
    assert doc.schema_version_on_disk == 1 and doc.data["schema_version"] == 2
    assert doc.records[0]["energy_j_per_run"] is None and doc.data["devices_measured"] == {}
    assert [r["cell"] for r in doc.records] == ["null:default@cpu/fp32", "mlp:tiny@cpu/fp32"]
    frame = results.to_dataframe([doc])
    assert list(frame["workload"]) == ["null", "mlp"]
    assert frame.loc[1, "quality.loss_fell"] is True or frame.loc[1, "quality.loss_fell"] == 1
    assert frame.loc[0, "host"] == "golden-host"


def test_readable_with_plain_json_and_pandas_without_the_package(tmp_path):
    code = (
        "import json, sys, pandas as pd\n"
        "assert 'aipcbench' not in sys.modules\n"
        f"doc = json.load(open({str(DATA / 'results-v1.json')!r}))\n"
        "frame = pd.json_normalize(doc['records'])\n"
        "print(len(frame), frame['summary.median'].notna().all())\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert out.split() == ["2", "True"]


def test_writer_claims_fresh_names_and_rewrites_atomically(tmp_path):
    first, second = _writer(tmp_path), _writer(tmp_path)
    assert first.path != second.path
    first.add(
        {
            "workload": "w",
            "size": "s",
            "device": "cpu",
            "dtype": "fp32",
            "status": "ok",
            "value": float("nan"),
        }
    )
    doc = results.load(first.path)
    assert doc.records[0]["value"] is None  # NaN never reaches the file
    assert doc.data["complete"] is False
    first.finish()
    assert results.load(first.path).data["complete"] is True
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert leftovers == []


def test_failed_write_leaves_previous_file_byte_identical(tmp_path, monkeypatch):
    writer = _writer(tmp_path)
    before = writer.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        writer.add({"workload": "w", "size": "s", "device": "cpu", "dtype": "fp32", "status": "ok"})
    assert writer.path.read_bytes() == before
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"format": "aipcbench-results", "schema_version": 1, "records": [', "not valid JSON"),
        ('{"something": "else"}', "not an aipcbench results file"),
        (
            '{"format": "aipcbench-results", "schema_version": 99, "environment": {}, "records": []}',
            "newer than this aipcbench reads",
        ),
        (
            '{"format": "aipcbench-results", "schema_version": "1", "environment": {}, "records": []}',
            "not a valid version",
        ),
        (
            '{"format": "aipcbench-results", "schema_version": 1, "environment": {}, "records": [{}]}',
            "'workload' missing",
        ),
        (
            '{"format": "aipcbench-results", "schema_version": 1, "environment": {}, "records": '
            '[{"workload": "w", "size": "s", "device": "d", "dtype": "t", "status": "great"}]}',
            "unknown status",
        ),
        (
            '{"format": "aipcbench-results", "schema_version": 1, "environment": {}, '
            '"records": [], "x": NaN}',
            "not valid JSON",
        ),
    ],
)
def test_bad_files_are_refused_with_one_line(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(ResultsFileError) as info:
        results.load(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\n" not in info.value.one_line()


def test_unwritable_directory_is_a_user_error(tmp_path):
    target = tmp_path / "file-not-dir"
    target.write_text("x")
    with pytest.raises(UserInputError, match="--results-dir"):
        _writer(target)


def test_written_file_round_trips_through_json(tmp_path):
    writer = _writer(tmp_path)
    writer.add({"workload": "w", "size": "s", "device": "cpu", "dtype": "fp32", "status": "ok"})
    assert json.loads(writer.path.read_text())["records"][0]["status"] == "ok"
