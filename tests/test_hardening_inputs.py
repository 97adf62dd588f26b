"""Hardening, round two (issue 27): every file a command reads is guarded against being written
over, structured inputs are typed before use, and finite but absurd figures are refused with
the field named. One test per family; each failed on main before its fix."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import DATA

RESULTS = DATA / "results-v3.json"


def _inputs(tmp_path):
    catalog = tmp_path / "mine.csv"
    catalog.write_text((DATA.parent.parent / "aipcbench/catalog/data/storage_prices.csv").read_text())
    machine = tmp_path / "m.toml"
    machine.write_text("price_usd = 3000\n")
    plan = tmp_path / "p.toml"
    plan.write_text('[[work]]\nworkload = "mlp:tiny"\nruns_per_month = 3\n')
    return catalog, machine, plan


@pytest.mark.parametrize("which", ["catalog", "machine", "plan", "a symlink to the catalog"])
def test_no_report_is_written_over_any_file_the_command_reads(cli, tmp_path, which):
    catalog, machine, plan = _inputs(tmp_path)
    target = {"catalog": catalog, "machine": machine, "plan": plan}.get(which)
    if target is None:
        target = tmp_path / "link.html"
        target.symlink_to(catalog)
    before = {p: p.read_bytes() for p in (catalog, machine, plan)}
    args = ("report", str(RESULTS), "--catalog", str(catalog), "--machine", str(machine), "--plan", str(plan))
    code, out, err = cli(*args, "--out", str(target))
    assert code == 2 and "is one of the inputs; refusing to overwrite it" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in before} == before


def test_a_cloud_task_never_writes_through_a_link_nor_over_the_catalog(cli, tmp_path):
    catalog, _, _ = _inputs(tmp_path)
    onto_catalog = tmp_path / "task.yaml"
    onto_catalog.symlink_to(catalog)
    before = catalog.read_bytes()
    code, _, err = cli("cloud", "task", "T4:1", "--catalog", str(catalog), "--out", str(onto_catalog))
    assert code == 2 and "one of the inputs" in err and catalog.read_bytes() == before
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    link = tmp_path / "t2.yaml"
    link.symlink_to(elsewhere)
    code, _, err = cli("cloud", "task", "T4:1", "--out", str(link))
    assert code == 0, err
    assert elsewhere.read_text() == "keep" and not link.is_symlink() and "resources" in link.read_text()


@pytest.mark.parametrize(
    "kind, text, needle",
    [
        (
            "plan",
            '[[work]]\nworkload = "mlp:tiny"\ndtype = ["fp32"]\nruns_per_month = 3\n',
            "key 'dtype' must be text",
        ),
        (
            "plan",
            '[[work]]\nworkload = "mlp:tiny"\ndtype = {a = 1}\nruns_per_month = 3\n',
            "key 'dtype' must be text",
        ),
        ("plan", "a = " + "[" * 5000 + "]" * 5000 + "\n", "plan nested too deeply to read"),
        ("machine", "a = " + "[" * 5000 + "]" * 5000 + "\n", "machine profile nested too deeply to read"),
        ("machine", 'price_usd = 3000\ncountry = ["x"]\n', "key 'country' must be text, got list"),
        ("machine", "price_usd = 3000\npreset = 4\n", "key 'preset' must be text, got int"),
        ("machine", "price_usd = 3000\nname = {a = 1}\n", "key 'name' must be text, got dict"),
    ],
)
def test_structured_inputs_are_typed_before_use(cli, tmp_path, kind, text, needle):
    path = tmp_path / "input.toml"
    path.write_text(text)
    code, out, err = cli("cost", str(RESULTS), f"--{kind}", str(path))
    assert code == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("field, value", [("time_s", 1e308), ("time_s", 2e9)])
def test_an_absurd_run_time_is_refused_with_its_field_and_the_rest_priced(cli, tmp_path, field, value):
    data = json.loads(RESULTS.read_text())
    record = next(r for r in data["records"] if r["cell"].startswith("mlp:tiny"))
    record["run"][field] = value
    path = tmp_path / "run-x.json"
    path.write_text(json.dumps(data))
    for command in (("cost", str(path)), ("report", str(path), "--out", str(tmp_path / "r.html"))):
        code, out, err = cli(*command)
        assert code == 0, err
        assert f"run.{field}: {value:g} s is out of range" in err


def test_a_results_file_with_an_absurd_record_in_the_reference_folder_does_not_break_a_run(
    cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    data = json.loads(RESULTS.read_text())
    next(r for r in data["records"] if r["cell"].startswith("mlp:tiny"))["run"]["time_s"] = 1e308
    (tmp_path / "results" / "reference").mkdir(parents=True)
    (tmp_path / "results" / "reference" / "bad.json").write_text(json.dumps(data))
    fast = ("--devices", "cpu", "--workloads", "null", "--warmup", "0", "--min-steps", "2", "--min-time", "0")
    code, out, err = cli("run", *fast, "--max-time", "0.5")
    assert code == 0, err
    assert "Traceback" not in err and "run.time_s: 1e+308 s is out of range" in err
    assert out.strip().splitlines()[-1].startswith("report: ")


def test_an_absurd_catalog_number_is_refused_with_its_field(cli, tmp_path):
    catalog = tmp_path / "s.csv"
    catalog.write_text(
        "# aipcbench-catalog storage_prices v1\n"
        "provider,volume_usd_per_gb_month,egress_usd_per_gb\nAWS,1e300,0\n"
    )
    code, _, err = cli("cost", str(RESULTS), "--catalog", str(catalog))
    assert code == 2 and "field 'volume_usd_per_gb_month' is out of range" in err and err.count("\n") == 1
    assert os.path.exists(RESULTS)


def test_a_library_message_with_terminal_escapes_is_blanked_where_it_is_recorded():
    from aipcbench.errors import exception_line

    hostile = RuntimeError("boom \x1b]0;pwned\x07 \x1b[31mred\x1b[0m \x9b2J line\nbreak \u2028 end")
    line = exception_line(hostile)
    assert line.startswith("RuntimeError: boom ") and "end" in line
    assert not any(c in line for c in ("\x1b", "\x07", "\x9b", "\n", "\u2028"))
