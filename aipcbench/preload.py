"""What the cell fork server imports once, so that no cell process pays for it again.

Imported only inside the fork server (``aipcbench.forkserver``). Measured on a 2-core Xeon:
torch 1.5 s, torch._dynamo 1.0 s more (every optimizer's constructor imports it), the
workload modules, and transformers' GPT-2 model 1.5-2.5 s. Importing starts no thread pool
and never touches a GPU, so the forks stay safe for OpenMP and CUDA.
"""

import gc

import torch  # noqa: F401
import torch._dynamo  # noqa: F401

import aipcbench.worker  # noqa: F401
import workloads  # noqa: F401

try:  # GPT-2 cells need it; a missing or broken transformers is the cell's error, not ours
    import transformers.models.gpt2.modeling_gpt2  # noqa: F401
except Exception:
    pass

# Everything imported above lives as long as the server. Frozen, the garbage collector of a
# forked cell never walks it: a full collection would otherwise touch every one of these
# objects, copying their pages from the server (a 60-100 ms stall in mlp:full's 4th timed step).
gc.freeze()
