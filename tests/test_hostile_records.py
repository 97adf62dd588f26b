"""Property: any wrong-typed results file goes through load -> cost -> every report format with
a clear outcome (exit 0 with the bad record skipped and named, or exit 2), never a traceback,
and the good records beside it are still priced."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aipcbench import results
from aipcbench.results.typed import to_plain
from tests.conftest import DATA

BASE = json.loads(json.dumps(to_plain(results.load(DATA / "results-v2.json").records)))
HOSTILE_VALUES = st.one_of(
    st.just("=cmd|'/C calc'!A0"),
    st.just(["a", "list"]),
    st.just({"an": "object"}),
    st.just(None),
    st.just(True),
    st.just(1e308),
    st.just(-1.0),
    st.just(10**30),
    st.just(0),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _paths(value, prefix=()):
    """Every path into a nested record (dict keys and list indices)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield from _paths(item, (*prefix, index))


PATHS = [p for p in _paths(BASE[6]) if p]  # the VGG16 training record: every part is there


def _set(record, path, value):
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(st.tuples(st.sampled_from(PATHS), HOSTILE_VALUES), min_size=1, max_size=3),
    environment=st.one_of(st.none(), st.sampled_from(["host", "devices", "versions", "git", "command"])),
    extra=HOSTILE_VALUES,
)
def test_wrong_typed_records_never_crash_cost_or_report(cli, tmp_path, mutations, environment, extra):
    records = copy.deepcopy(BASE)
    for path, value in mutations:
        try:
            _set(records[6], path, value)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced a parent of this path
    document = json.loads((DATA / "results-v2.json").read_text())
    document.update(schema_version=3, records=records)
    if environment is not None:
        document["environment"][environment] = extra
    document["devices_measured"]["cpu"]["rated_peaks"] = {"fp32": {"flop_per_s": extra, "source": extra}}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document).replace("1e+308", "1e309"))  # infinity, as a file may hold it
    for argv in (
        ("cost", "--format", "table"),
        ("cost", "--format", "json"),
        ("cost", "--format", "csv"),
        ("report", "--format", "md"),
        ("report", "--format", "csv"),
        ("report", "--format", "json"),
    ):
        code, out, err = cli(argv[0], str(bad), *argv[1:])
        assert code in (0, 2), err
        assert "Traceback" not in err
        if code == 0 and argv[-1] == "json":
            assert "Infinity" not in out and "NaN" not in out
            json.loads(out)
        if code == 0 and argv[0] == "cost" and argv[-1] == "csv":
            assert "mlp,tiny" in out  # the good records beside the bad one are still priced


def test_a_wrong_typed_file_among_good_ones_still_renders_the_html_report(cli, tmp_path):
    document = json.loads((DATA / "results-v2.json").read_text())
    document["records"][6]["summary"] = "fast"  # v2: upgraded, then refused by its type
    document["records"][7]["run"]["seconds_per_run"] = -5
    document["environment"]["devices"] = True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    code, out, err = cli(
        "report", str(DATA / "results-v2-fixture-h100.json"), str(bad), "--out", str(tmp_path / "r.html")
    )
    assert code == 0, err
    assert err.count("record 6 skipped") == 1 and "step_time" in err
    assert "record 7 skipped" in err and "time_s: must be >= 0" in err
    assert (tmp_path / "r.html").stat().st_size > 1_000_000


def test_hostile_generation_details_never_crash_tokens_fit_or_compression(cli, tmp_path):
    """A workload's details are free-form: the $-per-token, does-it-fit and compression tables
    read counts, model names and fractions from them, so wrong types and a zero median must
    be passed over, never crash (found on review: int('abc'), an unhashable model name, a
    division by a zero median)."""
    import dataclasses

    from aipcbench.results.record import WorkloadFacts
    from aipcbench.results.schema import FORMAT, SCHEMA_VERSION
    from tests.records import ok_record

    def generation(dtype, details, median_s=1.0, size="batch1"):
        record = ok_record(
            "gpt2-generate",
            size,
            dtype=dtype,
            seconds_per_run=100.0,
            items_per_step=128,
            items_per_run=128_000,
            mode="generate",
            median_s=median_s,
        )
        facts = WorkloadFacts("generate", 128, "tokens", "synthetic", details=details)
        return dataclasses.replace(record, workload_facts=facts)

    records = [
        generation("fp32", {"prompt_tokens": "abc", "new_tokens": "=cmd|' /C calc'!A0", "model": ["x"]}),
        generation(
            "int8", {"fidelity": {"top1_agreement": "1"}, "model": {"a": 1}, "quantization": ["q"]}, 0.0
        ),
        generation("fp32", {"pruned_fraction": True, "fidelity": [1, 2]}, size="batch1-pruned"),
        generation("int4", {"prompt_tokens": 1e308, "new_tokens": 0, "pruned_fraction": 2.5}),
    ]
    data = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "run_id": "h",
        "environment": {"host": "h", "cloud": {"provision_and_setup_s": "x"}},
        "devices_measured": {},
        "records": [to_plain(r) for r in records],
    }
    path = tmp_path / "run-h.json"
    path.write_text(json.dumps(data))
    for argv in (
        ["tokens"],
        ["tokens", "--format", "csv"],
        ["report", "--format", "md"],
        ["report", "--format", "json"],
        ["report", "--out", str(tmp_path / "r.html")],
    ):
        code, out, err = cli(*argv, str(path))
        assert code == 0 and "Traceback" not in err, (argv, err)
    csv_text = cli("tokens", "--format", "csv", str(path))[1]
    assert "=cmd" not in csv_text and "GPT-2" not in csv_text  # no formula; no model name invented
