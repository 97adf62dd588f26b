"""The flags ``cost``, ``tokens`` and ``report`` share, as one pricing configuration."""

from __future__ import annotations

import argparse


def pricing(args: argparse.Namespace):
    from aipcbench.config import PricingConfig
    from aipcbench.cost.machine import FLAGS

    return PricingConfig(
        results=tuple(args.results),
        catalog_files=tuple(args.catalog),
        machine_file=args.machine[0] if args.machine else None,
        machine_values={
            **{
                key: getattr(args, key) for key in FLAGS if key != "preset" and getattr(args, key) is not None
            },
            **({"preset": args.preset[0]} if args.preset and not args.machine else {}),
        },
        more_machines=tuple(args.machine[1:]),
        more_presets=tuple(args.preset[1:] if not args.machine else args.preset),
        plan=args.plan,
        local_host=args.local_host,
        startup_s=args.startup_s,
    )
