"""Try every command as a hostile user would and count what breaks (issue 27's sweep).

Each case mutates one input (a plan's key, a machine profile's key, a catalog cell, a results
file's field, a flag, an output path, a model folder) with a hostile value (wrong types, absurd
or non-finite numbers, deep nesting, terminal escapes, spreadsheet formulas, empty and long
text), runs the command in this process, and checks what must always hold:

- no exception escapes (a traceback);
- a failure is one line on stderr, "aipcbench: error: ...", and a non-zero exit;
- no input file changes;
- no raw terminal escape reaches stdout or stderr;
- no child process is left behind, and the process's peak memory does not jump by a GiB.

    python scripts/hostile_sweep.py            # every family, a table of counts at the end
    python scripts/hostile_sweep.py plan flags # some families

Run from the repository root with the project's environment; about a minute on 2 cores.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "tests" / "data" / "results-v3.json"
CATALOG_DATA = ROOT / "aipcbench" / "catalog" / "data"

from aipcbench.cost.machine import KEYS as PROFILE_KEYS  # noqa: E402 (after the path is set)

TOML_VALUES = [
    "[1, 2]",
    "{ a = 1 }",
    '"text"',
    '""',
    "true",
    "-1",
    "0",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    '"=HYPERLINK(\\"http://x\\")"',
    '"\\u001b[2J\\u001b]0;pwned\\u0007"',
    '"' + "x" * 5000 + '"',
    "[" * 400 + "]" * 400,
]
JSON_VALUES = [None, [], {}, "x", -1, 0, 1e308, "\x1b[2J=cmd", "x" * 5000, True, [[[[[[[[1]]]]]]]]]
CSV_VALUES = ["", "abc", "-1", "0", "1e308", "nan", "inf", "=cmd|x", "\x1b[2J", "x" * 5000, "1,2"]

BASE_PLAN = {
    "work": {"workload": '"vgg16-cifar10:train"', "runs_per_month": "40"},
    "serve": {"model": '"qwen2.5-0.5b"', "requests_per_day": "1000"},
    "pretrain": {"model": '"llama3.2-1b"', "per_year": "1"},
    "finetune": {"model": '"qwen2.5-0.5b"', "per_month": "2"},
    "rent": {"sessions_per_month": "10"},
    "profile": {"months": "[1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]"},
}
PLAN_KEYS = {
    "work": ["workload", "size", "dtype", "runs_per_month", "tokens_per_month"],
    "serve": [
        "model",
        "quantization",
        "requests_per_day",
        "prompt_tokens",
        "output_tokens",
        "peak_to_average",
    ],
    "pretrain": ["model", "tokens", "per_year", "sequence"],
    "finetune": ["model", "method", "tokens", "per_month", "sequence"],
    "rent": ["sessions_per_month", "setup_minutes", "data_gb", "keep_data", "spot", "reserved_discount"],
    "profile": ["months", "wait_usd_per_hour"],
}
MACHINE_KEYS = sorted(PROFILE_KEYS)  # every key a machine profile takes
FLAG_CASES = {
    "cost": ["--price", "--hours-per-day", "--lifetime-years", "--residual", "--startup-s"],
    "fit": ["--batch", "--context"],
    "estimate": ["--tokens", "--seq", "--gpus"],
}
FLAG_VALUES = ["-1", "0", "nan", "inf", "1e308", "abc", "", "\x1b[2J", "=1+1", "99999999999999999999"]


def _plan_text(table: str, key: str, value: str) -> str:
    lines = []
    for name, values in BASE_PLAN.items():
        values = {**values, key: value} if name == table else values
        header = f"[{name}]" if name in ("rent", "profile") else f"[[{name}]]"
        lines += [header, *(f"{k} = {v}" for k, v in values.items())]
    return "\n".join(lines) + "\n"


def plan_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    for table, keys in PLAN_KEYS.items():
        for key in keys:
            for number, value in enumerate(TOML_VALUES):
                plan = work / f"plan-{table}-{key}-{number}.toml"
                plan.write_text(_plan_text(table, key, value))
                yield f"[{table}] {key} = {value[:20]}", ["cost", str(RESULTS), "--plan", str(plan)], [plan]


def machine_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    for key in MACHINE_KEYS:
        for number, value in enumerate(TOML_VALUES):
            machine = work / f"machine-{key}-{number}.toml"
            machine.write_text(
                f'preset = "rtx4090-workstation"\n{key} = {value}\n'
                if key != "preset"
                else f"{key} = {value}\n"
            )
            yield f"{key} = {value[:20]}", ["cost", str(RESULTS), "--machine", str(machine)], [machine]


def catalog_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    for name in ("cloud_offers.csv", "device_specs.csv", "storage_prices.csv", "model_configs.csv"):
        lines = (CATALOG_DATA / name).read_text().splitlines()
        header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
        columns = lines[header_at].split(",")
        for column in range(len(columns)):
            for number, value in enumerate(CSV_VALUES):
                import csv

                row = next(csv.reader([lines[header_at + 1]]))
                row[column] = value
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="").writerow(row)
                path = work / f"cat-{name}-{column}-{number}.csv"
                path.write_text("\n".join([*lines[: header_at + 1], buffer.getvalue()]) + "\n")
                command = "fit" if name == "model_configs.csv" else "cost"
                args = ["fit", "llama3.1-8b"] if command == "fit" else ["cost", str(RESULTS)]
                yield f"{name} {columns[column]} = {value[:12]!r}", [*args, "--catalog", str(path)], [path]


def results_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    document = json.loads(RESULTS.read_text())
    record_keys = sorted(document["records"][0])
    for key in ["schema_version", "environment", "records", *(f"records.0.{k}" for k in record_keys)]:
        for number, value in enumerate(JSON_VALUES):
            mutated = json.loads(RESULTS.read_text())
            if key.startswith("records.0."):
                mutated["records"][0][key.split(".", 2)[2]] = value
            else:
                mutated[key] = value
            path = work / f"results-{key}-{number}.json"
            path.write_text(json.dumps(mutated))
            for command in (["cost"], ["report", "--format", "md"]):
                yield f"{command[0]} {key} = {str(value)[:12]!r}", [*command, str(path)], [path]


def flag_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    for command, flags in FLAG_CASES.items():
        for flag in flags:
            for value in FLAG_VALUES:
                base = {
                    "cost": ["cost", str(RESULTS)],
                    "fit": ["fit", "llama3.1-8b"],
                    "estimate": ["estimate", "--pretrain", "llama3.2-1b"],
                }[command]
                yield f"{command} {flag} {value[:12]!r}", [*base, flag, value], []


def output_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    plan = work / "out-plan.toml"
    plan.write_text('[[work]]\nworkload = "mlp:tiny"\nruns_per_month = 3\n')
    machine = work / "out-machine.toml"
    machine.write_text("price_usd = 3000\n")
    results = work / "out-results.json"
    shutil.copy(RESULTS, results)
    link = work / "link.html"
    link.symlink_to(plan)
    folder = work / "a-folder"
    folder.mkdir()
    fifo = work / "fifo"
    os.mkfifo(fifo)
    inputs = [plan, machine, results]
    base = ["report", str(results), "--plan", str(plan), "--machine", str(machine)]
    for target in [plan, machine, results, link, folder, fifo, Path("/dev/null"), work / ".." / "x.html"]:
        yield f"report --out {target.name}", [*base, "--out", str(target)], inputs
        yield (
            f"report --pdf {target.name}",
            [*base, "--out", str(work / "ok.html"), "--pdf", str(target)],
            inputs,
        )


def folder_cases(work: Path) -> Iterator[tuple[str, list[str], list[Path]]]:
    """Model folders for serve (nothing is started: each is refused before, or the engine is
    absent): a lying config, junk headers, a pickle, an index pointing outside."""
    shapes = {
        "lying config": ({"num_hidden_layers": 500, "hidden_size": 16384, "vocab_size": 32000}, b"ok"),
        "junk header": ({"num_hidden_layers": 2, "hidden_size": 64, "vocab_size": 100}, b"\xff" * 64),
        "huge header length": (
            {"num_hidden_layers": 2, "hidden_size": 64, "vocab_size": 100},
            (2**62).to_bytes(8, "little"),
        ),
        "config not an object": ([1, 2, 3], b"ok"),
    }
    for name, (config, weights) in shapes.items():
        folder = work / f"folder-{name.replace(' ', '-')}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        if weights == b"ok":
            header = json.dumps(
                {"w": {"dtype": "F16", "shape": [64, 64], "data_offsets": [0, 8192]}}
            ).encode()
            weights = len(header).to_bytes(8, "little") + header + bytes(8192)
        (folder / "model.safetensors").write_bytes(weights)
        yield (
            f"serve {name}",
            ["serve", "--engine", "transformers", "--model", str(folder), "--results-dir", str(work / "r")],
            [folder / "config.json", folder / "model.safetensors"],
        )
    pickled = work / "folder-pickle"
    pickled.mkdir()
    (pickled / "config.json").write_text("{}")
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04junk")
    (pickled / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"w": "../../etc/passwd"}})
    )
    yield (
        "serve index outside",
        ["serve", "--engine", "transformers", "--model", str(pickled)],
        [pickled / "pytorch_model.bin"],
    )


FAMILIES: dict[str, Callable[[Path], Iterator[tuple[str, list[str], list[Path]]]]] = {
    "plan": plan_cases,
    "machine": machine_cases,
    "catalog": catalog_cases,
    "results": results_cases,
    "flags": flag_cases,
    "outputs": output_cases,
    "model folders": folder_cases,
}


def _digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for path in paths:
        try:
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "not a file"
        except OSError as exc:
            out[str(path)] = f"unreadable: {exc.strerror}"
    return out


def _children() -> set[int]:
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.add(int(entry.name))
    return found


def run_case(argv: list[str], inputs: list[Path]) -> list[str]:
    """The broken rules of one case (empty: it held)."""
    from aipcbench.cli import main

    before, children = _digest(inputs), _children()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out, err, broken = io.StringIO(), io.StringIO(), []
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # noqa: BLE001 - the point: anything that escapes is a finding
        return [f"traceback: {type(exc).__name__}: {exc!s:.120}\n{traceback.format_exc(limit=3)}"]
    text = err.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    if code:
        if not lines or not lines[-1].startswith("aipcbench: error:") or "Traceback" in text:
            broken.append(f"not one line (exit {code}): {text[-200:]!r}")
    if "\x1b" in out.getvalue() + text:
        broken.append("a raw escape reached the terminal")
    if _digest(inputs) != before:
        broken.append("an input changed")
    if _children() - children:
        broken.append(f"processes left: {sorted(_children() - children)}")
    if (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) * 1024 > 2**30:
        broken.append("peak memory grew by over 1 GiB")
    return broken


def main(families: list[str]) -> int:
    counts: dict[str, dict[str, int]] = {}
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="aipcbench-hostile-") as folder:
        work = Path(folder)
        for family in families:
            tally = counts.setdefault(family, {"cases": 0, "held": 0})
            for label, argv, inputs in FAMILIES[family](work):
                tally["cases"] += 1
                broken = run_case(argv, inputs)
                if not broken:
                    tally["held"] += 1
                for rule in broken:
                    kind = rule.split(":")[0]
                    tally[kind] = tally.get(kind, 0) + 1
                    findings.append(f"{family}: {label}: {rule}")
                print(f"\r{family}: {tally['cases']} cases", end="", file=sys.stderr)
            print(file=sys.stderr)
    for finding in findings:
        print(finding)
    print(f"{'family':16} {'cases':>6} {'held':>6}  broken")
    for family, tally in counts.items():
        extra = ", ".join(f"{k} {v}" for k, v in tally.items() if k not in ("cases", "held")) or "-"
        print(f"{family:16} {tally['cases']:>6} {tally['held']:>6}  {extra}")
    return 1 if findings else 0


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(FAMILIES)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        sys.exit(f"hostile_sweep: unknown family {unknown[0]!r} (known: {', '.join(FAMILIES)})")
    sys.exit(main(chosen))
