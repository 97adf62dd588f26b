"""What the cell fork server imports once, so that no cell process pays for it again.

Imported only inside the fork server (``run.forkserver``): torch (1.5 s on a 2-core Xeon), the
worker and the workload registry, then every module a registered workload declares in its
spec's ``preload`` (torch._dynamo for the trainers, transformers' GPT-2 for text generation).
Importing starts no thread pool and never touches a GPU, so the forks stay safe for OpenMP and
CUDA.
"""

import gc
import importlib

import torch  # noqa: F401

import aipcbench.run.worker  # noqa: F401
import workloads

for _spec in list(workloads.REGISTRY.values()):
    for _module in _spec.preload:
        try:  # a missing or broken library is the cell's error when it runs, not the server's
            importlib.import_module(_module)
        except Exception:
            pass

# Everything imported above lives as long as the server. Frozen, the garbage collector of a
# forked cell never walks it: a full collection would otherwise touch every one of these
# objects, copying their pages from the server (a 60-100 ms stall in mlp:full's 4th timed step).
gc.freeze()
