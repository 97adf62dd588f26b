"""The tables of a plan file (``[[work]]``, ``[[serve]]``, ...), each checked to be a table with
only known keys: the one rule every kind of plan item is read by; and the ``[profile]`` table
(the plan's load month by month, ``cost.hybrid``)."""

from __future__ import annotations

from typing import Any

from aipcbench.errors import DataError

PROFILE_KEYS = {"months", "wait_usd_per_hour"}
PRETRAIN_LIMITS = {"tokens": (1e6, 1e15), "per_year": (0.0, 365.0), "sequence": (16, 1_000_000)}


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


def read_pretrain_items(source: str, tables, model_keys: set[str]) -> list[dict]:
    """``[[pretrain]]`` tables, checked: a catalog model, and numbers inside their limits."""
    if tables is None:
        return []
    items = []
    for where, table in checked_tables(source, "pretrain", tables, {"model", *PRETRAIN_LIMITS}):
        if table.get("model") not in model_keys:
            raise DataError(f"{where}: key 'model' must be a catalog model ({', '.join(sorted(model_keys))})")
        values = {"model": table["model"]}
        for key, (low, high) in PRETRAIN_LIMITS.items():
            value = table.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise DataError(f"{where}: key '{key}' must be a number from {low:g} to {high:g}")
            values[key] = value
        items.append(values)
    return items
