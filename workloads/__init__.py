"""The explicit registry of workloads.

Each workload is one module with a ``SPEC``; adding one means importing it here. Plugins (a
user's own workloads, or the tests' fault-injecting ones) call ``register`` from a module named
with ``aipcbench run --plugin MODULE``.
"""

from __future__ import annotations

import importlib

from aipcbench.errors import UserInputError
from workloads import cnn_mnist, gpt2_generate, linear_regression, mlp, null, vgg16_cifar10
from workloads.base import WorkloadSpec

REGISTRY: dict[str, WorkloadSpec] = {}


def register(spec: WorkloadSpec) -> None:
    REGISTRY[spec.name] = spec


for _module in (null, mlp, linear_regression, cnn_mnist, vgg16_cifar10, gpt2_generate):
    register(_module.SPEC)

# What `aipcbench run` runs when no --workloads is given (null measures the harness itself).
DEFAULT_WORKLOADS = tuple(REGISTRY)
# What a data-parallel run trains when no --workloads is given.
DDP_WORKLOADS = ("mlp", "cnn-mnist", "vgg16-cifar10")


def load_plugins(modules: list[str]) -> None:
    """Import each plugin module; it registers its workloads when imported."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UserInputError(f"--plugin: cannot import '{name}': {exc}") from None


def get(name: str) -> WorkloadSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(REGISTRY))
        raise UserInputError(f"--workloads: unknown workload '{name}' (valid: {valid})") from None
