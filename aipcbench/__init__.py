"""aipcbench: measure AI workloads on the hardware you have, and price them against renting.

The package is split so that data flows one way::

    cli -> config -> devices -> runner (workloads + probes, one child process per cell)
        -> results file -> cost / report

Modules that only read results (``results``, ``stats``, ``errors``) never import torch, so a
results file can be inspected on a machine without it.
"""

__version__ = "0.2.0"
