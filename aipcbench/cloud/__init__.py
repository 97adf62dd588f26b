"""Measured cloud runs: launch aipcbench on rented GPUs through SkyPilot, bring the results
back, and never leave a paid machine running.

``accelerators`` reads the requests (``H100:1``), ``budget`` prices them at most before
anything starts, ``task`` writes the SkyPilot task, ``skypilot_api`` is the one module that
talks to SkyPilot (an optional extra), ``results`` stamps what was provisioned into the
results file, ``lifecycle`` runs one cluster from launch to down (down on every path), and
``commands`` is what the CLI calls.
"""
