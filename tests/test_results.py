import json
import os
import subprocess
import sys

import pytest

from aipcbench import results
from aipcbench.errors import ResultsFileError, UserInputError
from aipcbench.results.record import CellRecord
from aipcbench.results.typed import from_plain
from tests.conftest import DATA
from tests.records import ok_record


def _writer(tmp_path, **env):
    return results.ResultsWriter(tmp_path, {"host": "h", **env}, {"quick": True})


def test_golden_schema_v1_loads_and_flattens():
    doc = results.load(DATA / "results-v1.json")
    assert doc.schema_version_on_disk == 1 and doc.skipped == ()
    assert doc.records[0].energy is None and doc.devices_measured == {}
    assert [r.cell for r in doc.records] == ["null:default@cpu/fp32", "mlp:tiny@cpu/fp32"]
    assert doc.records[1].quality.verdict == "valid" and doc.records[1].step_time.median_s > 0
    frame = results.to_dataframe([doc])
    assert list(frame["workload"]) == ["null", "mlp"]
    assert frame.loc[1, "quality.loss_fell"] is True or frame.loc[1, "quality.loss_fell"] == 1
    assert frame.loc[0, "host"] == "golden-host"


@pytest.mark.parametrize("name", ["results-v1.json", "results-v2.json", "results-v2-fixture-h100.json"])
# results-v3.json is already typed: test_a_v3_golden_file_round_trips checks it
def test_every_golden_file_upgrades_to_typed_records_without_loss(name):
    raw = json.loads((DATA / name).read_text())
    doc = results.load(DATA / name)
    assert doc.skipped == () and len(doc.records) == len(raw["records"])
    for old, new in zip(raw["records"], doc.records):
        assert (new.workload, new.size, new.device, new.dtype, new.status) == (
            old["workload"],
            old["size"],
            old["device"],
            old["dtype"],
            old["status"],
        )
        if old["status"] == "ok":
            assert new.run.time_s == old["run"]["seconds_per_run"]
            assert (
                new.step_time.median_s == old["summary"]["median"] and new.step_time.n == old["summary"]["n"]
            )
            assert new.energy_per_run_j == old.get("energy_j_per_run")
            assert (new.flops.count_per_step if new.flops else None) == old.get("flops_per_step")
            assert (new.flops.achieved_flop_per_s if new.flops else None) == old.get("achieved_flops")
            assert (new.memory.peak_bytes if new.memory else None) == old.get("peak_memory_bytes")
            assert new.workload_facts.parameter_count == old.get("parameters")
    for device, facts in raw.get("devices_measured", {}).items():
        for dtype, peak in facts["rated_peaks"].items():
            assert doc.devices_measured[device].rated_peak_flop_per_s(dtype) == peak["flops"]


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
    first.add(ok_record(workload_metrics={"value": float("nan")}))
    text = first.path.read_text()
    assert "NaN" not in text and "Infinity" not in text  # never reaches the file
    doc = results.load(first.path)
    assert doc.records[0].workload_metrics["value"] is None and doc.complete is False
    first.finish()
    finished = results.load(first.path)
    assert finished.complete is True and finished.ended_by == "completed"
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert leftovers == []


def test_failed_write_leaves_previous_file_byte_identical(tmp_path, monkeypatch):
    writer = _writer(tmp_path)
    before = writer.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        writer.add(ok_record())
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
    record = ok_record()
    writer.add(record)
    assert json.loads(writer.path.read_text())["records"][0]["step_time"]["median_s"] == 0.5
    assert results.load(writer.path).records == (record,)


@pytest.mark.parametrize(
    "record, field",
    [
        ({}, "records[0].cell: missing"),
        (
            {"cell": "c", "workload": "w", "size": "s", "device": "d", "dtype": "t", "status": "great"},
            "status",
        ),
        (
            {"cell": "c", "workload": "w", "size": "s", "device": "d", "dtype": "t", "status": "ok"},
            "ok record",
        ),
        ({"cell": ["x"], "workload": "w", "size": "s", "device": "d", "dtype": "t", "status": "ok"}, "cell"),
    ],
)
def test_a_record_that_does_not_fit_is_skipped_and_named(tmp_path, record, field):
    good = json.loads(json.dumps(results.dumps(ok_record())))
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            {
                "format": "aipcbench-results",
                "schema_version": 3,
                "environment": {},
                "records": [record, json.loads(good)],
            }
        )
    )
    doc = results.load(path)
    assert len(doc.records) == 1 and len(doc.skipped) == 1
    assert "record 0" in doc.skipped[0] and field in doc.skipped[0] and str(path) in doc.skipped[0]


def test_a_v3_golden_file_round_trips():
    doc = results.load(DATA / "results-v3.json")
    assert doc.schema_version_on_disk == 3 and doc.skipped == () and len(doc.records) == 10
    vgg = next(r for r in doc.records if r.cell == "vgg16-cifar10:train@cpu/fp32")
    assert vgg.demand.kernel_ops > 0 and vgg.demand.eager_bytes > vgg.demand.distinct_bytes > 0
    assert from_plain(CellRecord, json.loads(results.dumps(vgg))) == vgg  # JSON and back, unchanged
