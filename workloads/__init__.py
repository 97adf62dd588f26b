"""The explicit registry of workloads.

Each workload is one module with a ``SPEC``; adding one means importing it here. Plugins (a
user's own workloads, or the tests' fault-injecting ones) call ``register`` from a module named
with ``aipcbench run --plugin MODULE``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from aipcbench.errors import UserInputError, exception_line
from workloads import (
    causal_lm,
    cnn_mnist,
    finetune,
    gpt2_generate,
    linear_regression,
    mlp,
    null,
    vgg16_cifar10,
)
from workloads.base import WorkloadSpec

REGISTRY: dict[str, WorkloadSpec] = {}


def register(spec: WorkloadSpec) -> None:
    REGISTRY[spec.name] = spec


for _module in (null, mlp, linear_regression, cnn_mnist, vgg16_cifar10, gpt2_generate, causal_lm, finetune):
    register(_module.SPEC)

# What `aipcbench run` runs when no --workloads is given (null measures the harness itself).
# causal-lm and finetune are asked for by name: they build a 1B-parameter model by default.
DEFAULT_WORKLOADS = tuple(name for name in REGISTRY if name not in ("causal-lm", "finetune"))
# What a data-parallel run trains when no --workloads is given.
DDP_WORKLOADS = ("mlp", "cnn-mnist", "vgg16-cifar10")


def load_plugins(modules: list[str]) -> None:
    """Import each plugin (a module name, or the path of a ``.py`` file); it registers its
    workloads when imported. A file is imported once per process under a name derived from
    its path, so naming it twice (or a cell re-loading it) registers its workloads once."""
    for name in modules:
        try:
            if name.endswith(".py"):
                _import_file(Path(name))
            else:
                importlib.import_module(name)
        except ImportError as exc:
            raise UserInputError(f"--plugin: cannot import '{name}': {exc}") from None
        except UserInputError:
            raise
        except Exception as exc:  # the plugin's own code raised while being imported
            raise UserInputError(f"--plugin: '{name}' raised on import: {exception_line(exc)}") from None


def _import_file(path: Path) -> None:
    if not path.is_file():
        raise ImportError(f"no such file: {path}")
    module_name = "aipcbench_plugin_" + "".join(c if c.isalnum() else "_" for c in str(path.resolve()))
    if module_name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"not a Python module: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise


def get(name: str) -> WorkloadSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(REGISTRY))
        raise UserInputError(f"--workloads: unknown workload '{name}' (valid: {valid})") from None
