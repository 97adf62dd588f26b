"""The tree shows the parts, and no part imports one above it (read from the source, with ast).

Data flows CLI -> config -> run (workloads + devices) -> results -> cost -> report. The report,
cost, results and catalog parts import no torch, nothing from run and no workload, so a report
can be made on a machine without torch.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "aipcbench"
TORCH_FREE = ("results", "cost", "report", "catalog")
# part -> modules it must never import (prefix match)
TOP = ("aipcbench.cli", "aipcbench.commands")  # only the command line may import these
FORBIDDEN = {
    "results": ("torch", "aipcbench.run", "workloads", "aipcbench.cost", "aipcbench.report", *TOP),
    "catalog": ("torch", "aipcbench.run", "workloads", "aipcbench.cost", "aipcbench.report", *TOP),
    "cost": ("torch", "aipcbench.run", "workloads", "aipcbench.report", *TOP),
    "report": ("torch", "aipcbench.run", "workloads", *TOP),
    # measuring a device: below run and serve (both use it), above results and catalog
    "devices": ("aipcbench.run", "aipcbench.serve", "aipcbench.cost", "aipcbench.report", *TOP),
    "run": TOP,
    # serving talks to other processes over HTTP: no torch here, and no pricing
    "serve": ("torch", "aipcbench.cost", "workloads", *TOP),
}
MAX_LINES = 320


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_no_part_imports_one_above_it(part):
    offending = []
    for path in _modules(PACKAGE / part):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[part]):
                offending.append(f"{path.relative_to(REPO)} imports {name}")
    assert offending == []


def test_workloads_import_no_harness():
    offending = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in _modules(REPO / "workloads")
        for name in _imports(path)
        if name.startswith(
            ("aipcbench.run", "aipcbench.cli", "aipcbench.cost", "aipcbench.report", "aipcbench.devices")
        )
    ]
    assert offending == []


def test_every_module_says_what_it_holds_and_stays_small():
    for path in [*_modules(PACKAGE), *_modules(REPO / "workloads")]:
        tree = ast.parse(path.read_text())
        docstring = ast.get_docstring(tree)
        assert docstring and len(docstring.splitlines()[0]) > 10, (
            f"{path} has no first line saying what it holds"
        )
        assert len(path.read_text().splitlines()) <= MAX_LINES, f"{path} is over {MAX_LINES} lines"


def test_the_old_catch_all_names_are_gone():
    names = {p.stem for p in _modules(PACKAGE)} | {p.stem for p in _modules(REPO / "workloads")}
    assert not names & {"derive", "summary", "common", "costtable", "devicefacts", "pricing", "runner"}


MAX_FUNCTION_LINES = 60


def test_every_function_is_short_or_says_why_not():
    """A function over 60 lines says in its docstring why it is kept whole ("Longer than 60
    lines: ...")."""
    long = []
    for path in [*_modules(PACKAGE), *_modules(REPO / "workloads")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                said = "Longer than 60 lines:" in (ast.get_docstring(node) or "")
                if lines > MAX_FUNCTION_LINES and not said:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_another_in_a_circle():
    """Imports inside functions included: a circle there is still a design knot."""
    modules = {_module_name(p): p for p in _modules(PACKAGE)}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    circles = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                circles.append(" -> ".join(trail[trail.index(other) :] + [other]))
            elif other not in state:
                visit(other, trail + [other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_every_command_has_its_own_module():
    """``aipcbench COMMAND`` starts in ``aipcbench/commands/COMMAND.py`` (the one place to look)."""
    from aipcbench.arguments import build_parser
    from aipcbench.commands import COMMANDS

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    assert sorted(subparsers.choices) == sorted(COMMANDS)
    for command in COMMANDS:
        assert (PACKAGE / "commands" / f"{command}.py").is_file(), command
