"""aipcbench: measure AI workloads on the hardware you have, and price them against renting.

The package is split into parts so that data flows one way::

    cli -> config -> run (workloads + devices, one child process per cell)
        -> results file -> cost -> report

``results``, ``cost``, ``report`` and ``catalog`` never import torch, so a results file can be
inspected and priced on a machine without it.
"""

__version__ = "0.5.0"
