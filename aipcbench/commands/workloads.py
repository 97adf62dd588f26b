"""``aipcbench workloads``: the registry's names and sizes (``workloads``)."""

from __future__ import annotations

import argparse


def main(args: argparse.Namespace) -> int:
    import workloads

    rows = []
    for name, spec in workloads.REGISTRY.items():
        default = spec.default_sizes or spec.sizes
        named = [s for s in spec.sizes if s not in default]
        sizes = ", ".join(default) + (f" (by name: {', '.join(named)})" if named else "")
        by_name = "" if name in workloads.DEFAULT_WORKLOADS else " (by name)"
        rows.append((name + by_name, sizes, spec.summary))
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    for name, sizes, summary in rows:
        print(f"{name:{widths[0]}}  sizes: {sizes:{widths[1]}}  {summary}")
    return 0
