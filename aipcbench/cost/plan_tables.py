"""The tables of a plan file (``[[work]]``, ``[[serve]]``, ...), each checked to be a table with
only known keys: the one rule every kind of plan item is read by."""

from __future__ import annotations

from typing import Any

from aipcbench.errors import DataError


def checked_tables(source: str, kind: str, tables: Any, keys: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(where, table) for each ``[[kind]]`` table, ``where`` naming it in messages; one line
    naming the table and the key for anything else."""
    if not isinstance(tables, list):
        raise DataError(f"{source}: '{kind}' must be a list of [[{kind}]] tables")
    checked = []
    for number, table in enumerate(tables, start=1):
        where = f"{source}: [[{kind}]] #{number}"
        if not isinstance(table, dict):
            raise DataError(f"{where}: not a table")
        unknown = sorted(set(table) - keys)
        if unknown:
            raise DataError(f"{where}: unknown key '{unknown[0]}' (valid: {', '.join(sorted(keys))})")
        checked.append((where, table))
    return checked
