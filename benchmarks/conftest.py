"""Benchmarks: speed targets live here, not in the tests (`bash scripts/bench.sh`).

Workloads run in this process, so it takes the floating-point mode every ``aipcbench run``
cell takes (denormals flushed to zero, see ``aipcbench.run.worker.set_cpu_denormals``) before
any thread pool starts."""

from aipcbench.run.worker import set_cpu_denormals

set_cpu_denormals(keep=False)
