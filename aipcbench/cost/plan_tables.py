"""The tables of a plan file (``[[work]]``, ``[[serve]]``, ...), each checked to be a table with
only known keys: the one rule every kind of plan item is read by; and the ``[profile]`` table
(the plan's load month by month, ``cost.hybrid``)."""

from __future__ import annotations

from typing import Any

from aipcbench.errors import DataError

PROFILE_KEYS = {"months", "wait_usd_per_hour"}


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


def read_profile_table(where: str, table: Any) -> dict[str, Any]:
    """A plan's ``[profile]`` table, checked."""
    if table is None:
        return {}
    if not isinstance(table, dict) or set(table) - PROFILE_KEYS:
        raise DataError(f"{where}: [profile] is a table of {', '.join(sorted(PROFILE_KEYS))}")
    months = table.get("months", [1.0] * 12)
    if (
        not isinstance(months, list)
        or len(months) != 12
        or not all(isinstance(m, (int, float)) and not isinstance(m, bool) and 0 <= m <= 100 for m in months)
    ):
        raise DataError(
            f"{where}: [profile]: 'months' must be 12 numbers from 0 to 100 (the plan's load each month)"
        )
    wait = table.get("wait_usd_per_hour")
    if wait is not None and (
        isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= 1e5
    ):
        raise DataError(f"{where}: [profile]: 'wait_usd_per_hour' must be a number from 0 to 100000")
    return {"months": [float(m) for m in months], "wait_usd_per_hour": wait}
